/**
 * Why no placement exists, in domain words: a module with nowhere to run, a user whose every
 * placement breaks its device memory, links or SLO, or servers too small for all users together.
 */
import { blockBytes, fits, interactionSeconds } from './cost.ts';
import { enumerate } from './candidates.ts';
import type { Problem } from './schema.ts';

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;

/** Placements of one user ignoring memory and the SLO: the least latency any of them reaches. */
function leastLatency(problem: Problem, user: number): number {
  const rows = problem.users[user].computeSeconds;
  const options = rows.map((row) => row.flatMap((t, loc) => (t === null ? [] : [loc])));
  let best = Infinity;
  const digit = options.map(() => 0);
  for (;;) {
    best = Math.min(
      best,
      interactionSeconds(
        problem,
        user,
        digit.map((d, k) => options[k][d]),
      ),
    );
    let k = 0;
    while (k < digit.length && ++digit[k] === options[k].length) digit[k++] = 0;
    if (k === digit.length) return best;
  }
}

export function explainInfeasible(problem: Problem): string {
  const reasons: string[] = [];
  problem.users.forEach((u, i) => {
    const modules = problem.tasks[u.task].modules;
    const stuck = modules.findIndex((_, k) => u.computeSeconds[k].every((t) => t === null));
    if (stuck >= 0) {
      const m = modules[stuck];
      const need = blockBytes(problem, m.blocks) + m.kvBytes;
      const where = m.pin === 'device' ? 'pinned to the device' : m.pin === 'edge' ? 'pinned to the edge' : 'anywhere';
      reasons.push(
        `user ${u.id}: module ${m.id} (${gb(need)} with its KV cache, ${where}) fits no location it may use ` +
          `(device ${gb(u.memoryBytes)}, ${u.links.filter((l) => l !== null).length} reachable servers)`,
      );
      return;
    }
    if (enumerate(problem, i).length > 0) return;
    const fastest = leastLatency(problem, i);
    if (!Number.isFinite(fastest))
      reasons.push(`user ${u.id}: every placement needs a transfer over a link that does not exist`);
    else if (u.sloSeconds !== null && !fits(fastest, u.sloSeconds))
      reasons.push(`user ${u.id}: the fastest placement takes ${fastest.toFixed(3)} s, its SLO is ${u.sloSeconds} s`);
    else
      reasons.push(`user ${u.id}: every placement fast enough for its SLO overfills its device (${gb(u.memoryBytes)})`);
  });
  if (reasons.length > 0) return reasons.join('; ');
  return (
    'every user has placements of its own, but no choice of them fits the servers together ' +
    `(memory ${problem.servers.map((s) => `${s.id} ${gb(s.memoryBytes)}`).join(', ')}, and their load caps)`
  );
}
