/**
 * Per-user candidate placements, shared by the exact search and the candidate-selection MILP:
 * every placement of a user's modules that fits its device memory, pins, links and SLO, valued
 * with the cost functions, with the server resources it takes; and the dominance filter.
 */
import { blockBytes, fits, interactionBytes, interactionSeconds, userValue } from './cost.ts';
import type { Problem } from './schema.ts';

/** Placements enumerated per user at most. */
export const MAX_CANDIDATES_PER_USER = 200_000;
/** Above this many candidates the quadratic dominance filter is skipped (the search stays exact). */
const MAX_DOMINANCE = 4_000;

export interface ServerUse {
  readonly server: number;
  readonly blocks: readonly number[];
  readonly kvBytes: number;
  readonly busy: number;
}

export interface Candidate {
  readonly locs: readonly number[];
  /** Per-user objective value: seconds (latency objectives) or bit/s (network). */
  readonly value: number;
  /** Its share in a sum objective (rate-weighted for the mean). */
  readonly weighted: number;
  readonly uses: readonly ServerUse[];
}

export function choices(problem: Problem, user: number): number[][] {
  return problem.users[user].computeSeconds.map((row) =>
    row.map((t, loc) => (t === null ? -1 : loc)).filter((loc) => loc >= 0),
  );
}

/** Server resources of one user's placement; null when it breaks the device memory. */
function serverUses(problem: Problem, user: number, locs: readonly number[]): ServerUse[] | null {
  const u = problem.users[user];
  const modules = problem.tasks[u.task].modules;
  const blocksAt = new Map<number, Set<number>>();
  const kvAt = new Map<number, number>();
  const busyAt = new Map<number, number>();
  modules.forEach((m, k) => {
    const loc = locs[k];
    const set = blocksAt.get(loc) ?? new Set<number>();
    m.blocks.forEach((b) => set.add(b));
    blocksAt.set(loc, set);
    kvAt.set(loc, (kvAt.get(loc) ?? 0) + m.kvBytes);
    if (loc > 0) busyAt.set(loc, (busyAt.get(loc) ?? 0) + u.rate * u.loadSeconds[k][loc]);
  });
  const onDevice = blocksAt.get(0);
  if (onDevice && !fits(blockBytes(problem, onDevice) + (kvAt.get(0) ?? 0), u.memoryBytes)) return null;
  const uses: ServerUse[] = [];
  for (const [loc, set] of blocksAt)
    if (loc > 0)
      uses.push({
        server: loc - 1,
        blocks: [...set].sort((a, b) => a - b),
        kvBytes: kvAt.get(loc) ?? 0,
        busy: busyAt.get(loc) ?? 0,
      });
  return uses.sort((a, b) => a.server - b.server);
}

export function enumerate(problem: Problem, user: number): Candidate[] {
  const u = problem.users[user];
  const options = choices(problem, user);
  if (options.some((o) => o.length === 0)) return [];
  const totalRate = problem.users.reduce((s, x) => s + x.rate, 0);
  const out: Candidate[] = [];
  const digit = options.map(() => 0);
  for (;;) {
    const locs = digit.map((d, k) => options[k][d]);
    const seconds = interactionSeconds(problem, user, locs);
    const uses =
      Number.isFinite(seconds) && (u.sloSeconds === null || fits(seconds, u.sloSeconds))
        ? serverUses(problem, user, locs)
        : null;
    if (uses) {
      const value = userValue(problem, user, seconds, interactionBytes(problem, user, locs));
      const weighted = problem.objective === 'mean-latency' ? (u.rate / totalRate) * value : value;
      out.push({ locs, value, weighted, uses });
    }
    let k = 0;
    while (k < digit.length && ++digit[k] === options[k].length) digit[k++] = 0;
    if (k === digit.length) break;
  }
  return out.sort((a, b) => a.value - b.value);
}

function usesNoMore(a: Candidate, b: Candidate): boolean {
  for (const ua of a.uses) {
    const ub = b.uses.find((x) => x.server === ua.server);
    if (!ub || ua.kvBytes > ub.kvBytes || ua.busy > ub.busy) return false;
    if (!ua.blocks.every((blk) => ub.blocks.includes(blk))) return false;
  }
  return true;
}

/** Drops candidates another one dominates (value no worse when `byValue`, resources no more). */
export function prune(list: readonly Candidate[], byValue: boolean): Candidate[] {
  if (list.length > MAX_DOMINANCE) return [...list];
  const kept: Candidate[] = [];
  // Sorted by value, so a dominating candidate always comes first (ties: the first kept wins).
  for (const c of list) if (!kept.some((k) => (!byValue || k.value <= c.value) && usesNoMore(k, c))) kept.push(c);
  return kept;
}
