/**
 * Words for kv-split-inference: why no decision exists (explainInfeasible) and what a decision
 * does (describe) — the family's one home for both.
 *
 * Explanations come from the constraint that actually binds: the constraint groups (device
 * memory, time-to-first-token limits, per-token latency SLOs, server memory) are switched off one
 * at a time, and the exact feasibility test (exact.ts, W = ∞: exact for every objective) says
 * which switch-off makes the problem feasible. A per-user limit that pushes users onto the
 * server is named as the cause, with the server shortfall it leads to as the consequence.
 */
import { uplinkSeconds } from '../../cost/link.ts';
import { activationBytesPerToken } from '../../cost/model.ts';
import { withinLimit } from '../tolerance.ts';
import type { Evaluation } from '../types.ts';
import {
  cutAllowed,
  formatProblems,
  gb,
  kvTables,
  ms,
  NO_RELAXATION,
  serverStateOf,
  userLatencySeconds,
  type ConstraintGroup,
  type KvTables,
} from './cost.ts';
import type { KvBreakdown, KvUserBreakdown } from './evaluate.ts';
import { allowedDescending, feasibleWithout } from './exact.ts';
import { threeTierStateOf } from './three-tier.ts';
import type { KvDecision, KvProblem } from './schema.ts';

/** Each constraint group in domain words (plural: a group holds one limit per user or server). */
const GROUP_WORDS: Readonly<Record<ConstraintGroup, string>> = {
  'device-memory': 'device memory limits',
  ttft: 'time-to-first-token limits',
  'latency-slo': 'per-token latency SLOs',
  'server-memory': 'server memory',
};

/** Consecutive cuts with the same reason, e.g. "cuts 1–32: time to first token … exceeds …". */
function ruledOut(tables: KvTables, u: number): string {
  const parts: string[] = [];
  let from = 0;
  const costs = tables.users[u];
  for (let c = 1; c <= costs.length; c++) {
    const reason = costs[from].staticViolation;
    const group = (k: (typeof costs)[number]): string =>
      k.privacyViolation ? 'p' : k.deviceMemoryViolation ? 'd' : k.ttftViolation ? 't' : 's';
    if (c < costs.length && group(costs[c]) === group(costs[from])) continue;
    parts.push(`${from === c - 1 ? `cut ${from}` : `cuts ${from}–${c - 1}`}: ${reason ?? 'allowed'} (at cut ${from})`);
    from = c;
  }
  return parts.join('; ');
}

/** Largest cut each user may take on its own with the given groups switched off. */
function largestCuts(tables: KvTables, relaxed: ReadonlySet<ConstraintGroup>): (number | null)[] {
  return allowedDescending(tables, relaxed).map((a) => (a.length > 0 ? a[0] : null));
}

/** What a per-user group does to the users' cuts, in domain words with the numbers. */
function perUserCause(problem: KvProblem, tables: KvTables, group: 'ttft' | 'device-memory'): string {
  const L = tables.layers;
  const withIt = largestCuts(tables, NO_RELAXATION);
  const without = largestCuts(tables, new Set([group]));
  const pushed = problem.users.flatMap((_, u) => ((without[u] ?? -1) > (withIt[u] ?? -1) ? [u] : []));
  const capped = new Map<number, number>();
  for (const u of pushed) capped.set(withIt[u] ?? -1, (capped.get(withIt[u] ?? -1) ?? 0) + 1);
  const caps = [...capped.entries()]
    .map(([c, n]) => `${n} user${n === 1 ? '' : 's'} no cut above ${c}${c === 0 ? ' (everything on the server)' : ''}`)
    .join(', ');
  if (pushed.length === 0) return 'they restrict the cuts the users may combine';
  const u = pushed[0];
  const user = problem.users[u];
  const first = tables.users[u].find(
    (k) => k.cut > (withIt[u] ?? -1) && !cutAllowed(k) && cutAllowed(k, new Set([group])),
  );
  let example = '';
  if (first !== undefined && group === 'ttft' && user.ttftSloSeconds !== null) {
    example = `; at cut ${first.cut} ${user.name}'s first token takes ${ms(first.ttftSeconds)}, its limit is ${ms(user.ttftSloSeconds)}`;
    if (first.cut >= 1 && first.cut < L) {
      const upload = uplinkSeconds(user.link, user.promptTokens * activationBytesPerToken(problem.model));
      if (!withinLimit(upload, user.ttftSloSeconds))
        example += ` (uploading the ${user.promptTokens}-token prompt's hidden states alone takes ${ms(upload)} at ${(user.link.uplinkBitsPerSecond / 1e6).toFixed(0)} Mbit/s)`;
    }
  } else if (first !== undefined && first.deviceMemoryViolation !== null) {
    example = `; at cut ${first.cut} ${user.name}: ${first.deviceMemoryViolation}`;
  }
  return `they leave ${caps}${example}`;
}

/** The server's memory at the least-server-use point (every user at its largest allowed cut). */
function serverShortfall(problem: KvProblem, tables: KvTables, cuts: readonly (number | null)[]): string | null {
  const state = serverStateOf(problem, tables, cuts);
  if (withinLimit(state.memoryBytes, tables.serverMemoryBytes)) return null;
  return (
    `the server then needs ${gb(state.memoryBytes)} (weights ${gb(state.weightBytes)}, adapters ${gb(state.adapterBytes)}, ` +
    `KV ${gb(state.kvBytes)}, workspace ${gb(state.workspaceBytes)}) and the ${problem.server.name} has ` +
    `${gb(tables.serverMemoryBytes)}: ${gb(state.memoryBytes - tables.serverMemoryBytes)} short`
  );
}

function sloLines(problem: KvProblem, tables: KvTables, cuts: readonly (number | null)[]): string[] {
  const state = serverStateOf(problem, tables, cuts);
  const lines: string[] = [];
  problem.users.forEach((user, u) => {
    if (user.latencySloSeconds === null) return;
    let best = Infinity;
    for (const k of tables.users[u])
      if (cutAllowed(k)) best = Math.min(best, userLatencySeconds(tables, u, k.cut, state.stepSeconds));
    if (!withinLimit(best, user.latencySloSeconds))
      lines.push(
        `${user.name}'s latency SLO of ${ms(user.latencySloSeconds)} cannot be met: its best cut takes ${ms(best)} even with ` +
          `the server's smallest possible step of ${ms(state.stepSeconds)}`,
      );
  });
  return lines;
}

/** Which limit rules out every decision, named from the constraint groups whose removal would help. */
export function explainKvInfeasible(problem: KvProblem): string {
  const formats = problem.kvFormats ?? null;
  if (formats !== null) {
    // The most compressed format is the least of every resource (KV bytes, device time, the
    // step), so the problem is feasible with the budget lifted iff it is with everyone in it —
    // the exact test (feasibleWithout) on that format's problem.
    let most = 0;
    formats.forEach((f, i) => {
      if (f.bytesFactor < formats[most].bytesFactor) most = i;
    });
    const compressed = formatProblems(problem)[most];
    const id = formats[most].id;
    if (feasibleWithout(compressed, NO_RELAXATION) !== null) {
      const spend = formats[most].accuracyCost * problem.users.length;
      return (
        `the KV accuracy budget binds: with every user's KV in ${id} (accuracy proxy ${spend.toFixed(4)}, ` +
        `the budget is ${problem.kvAccuracyBudget}) a feasible split exists; within the budget none does`
      );
    }
    return `even with every user's KV in ${id} (the budget aside): ${explainKvInfeasible(compressed)}`;
  }
  const tables = kvTables(problem);
  const lines: string[] = [];
  problem.users.forEach((user, u) => {
    if (tables.users[u].every((k) => !cutAllowed(k)))
      lines.push(`${user.name} cannot use any cut on its own: ${ruledOut(tables, u)}`);
  });
  if (lines.length > 0)
    return problem.admission ? `${lines.join('\n')}\n(these users stay unserved under admission)` : lines.join('\n');
  if (problem.cloud !== null) return explainThreeTierInfeasible(problem, tables);

  const least = largestCuts(tables, NO_RELAXATION);
  const groups: ConstraintGroup[] = ['ttft', 'device-memory', 'latency-slo', 'server-memory'];
  const present = groups.filter(
    (g) =>
      (g !== 'ttft' || problem.users.some((x) => x.ttftSloSeconds !== null)) &&
      (g !== 'latency-slo' || problem.users.some((x) => x.latencySloSeconds !== null)),
  );
  const fixers = present.filter((g) => feasibleWithout(problem, new Set([g])) !== null);
  const shortfall = serverShortfall(problem, tables, least);
  const perUser = fixers.filter((g): g is 'ttft' | 'device-memory' => g === 'ttft' || g === 'device-memory');
  if (perUser.length > 0) {
    for (const g of perUser) {
      const consequence = shortfall ?? sloLines(problem, tables, least).join('; ');
      lines.push(
        `the ${GROUP_WORDS[g]} bind: ${perUserCause(problem, tables, g)}; ${consequence || 'the remaining cuts cannot all be served together'}`,
      );
      lines.push(`without the ${GROUP_WORDS[g]} a feasible split exists`);
    }
    return lines.join('\n');
  }
  if (fixers.includes('latency-slo')) {
    lines.push('the per-token latency SLOs bind (without them a feasible split exists)');
    const slo = sloLines(problem, tables, least);
    lines.push(
      ...(slo.length > 0
        ? slo
        : ['the server step time needed by the users who must use the server exceeds what the others tolerate']),
    );
    return lines.join('\n');
  }
  if (fixers.includes('server-memory') && shortfall !== null) {
    return `server memory binds: even with every user running as many layers on its device as it can, ${shortfall}`;
  }
  if (fixers.includes('server-memory'))
    return 'server memory binds together with the latency SLOs: the cuts that keep every SLO do not fit on the server together';
  // No single group is to blame: name the pairs whose joint removal helps.
  const pairs: string[] = [];
  for (let i = 0; i < present.length; i++)
    for (let j = i + 1; j < present.length; j++)
      if (feasibleWithout(problem, new Set([present[i], present[j]])) !== null)
        pairs.push(`the ${GROUP_WORDS[present[i]]} with the ${GROUP_WORDS[present[j]]}`);
  lines.push(
    `no single limit is to blame; these bind together: ${pairs.length > 0 ? pairs.join('; ') : 'more than two of the limits'}`,
  );
  if (shortfall !== null) lines.push(`with every user as far onto its device as it may go, ${shortfall}`);
  return lines.join('\n');
}

export function describeKv(problem: KvProblem, decision: KvDecision, evaluation: Evaluation<KvBreakdown>): string {
  const b = evaluation.breakdown;
  const L = problem.model.layers;
  const counts = new Map<string, number>();
  for (const cut of decision.cuts) {
    const key =
      cut === null
        ? 'not served'
        : cut === 0
          ? 'all on server'
          : cut === L
            ? 'all on device (head included)'
            : `${cut} layers on device`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let split = [...counts.entries()].map(([k, n]) => `${n} × ${k}`).join(', ');
  const tiers = evaluation.breakdown.threeTier;
  if (tiers !== undefined) {
    // Three tiers: group users by (device, edge, cloud) layers.
    const groups = new Map<string, number>();
    for (const u of tiers.users) {
      const key = `${u.deviceLayers} device | ${u.edgeLayers} edge | ${u.cloudLayers} cloud`;
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    split = [...groups.entries()].map(([k, n]) => `${n} × (${k})`).join(', ');
  }
  const served = b.users.filter((u) => u.latencySeconds !== null);
  const slowest = served.reduce<KvUserBreakdown | null>(
    (a, u) => (a === null || (u.latencySeconds ?? 0) > (a.latencySeconds ?? 0) ? u : a),
    null,
  );
  const m = b.serverMemory;
  const lines = [`${problem.model.name}, ${problem.users.length} users: ${split}`];
  if (b.kvAccuracy !== undefined) {
    // KV formats as a decision: how many users keep each format, and the accuracy proxy spent.
    const byFormat = new Map<string, string[]>();
    for (const u of b.users)
      if (u.kvFormat !== undefined) byFormat.set(u.kvFormat, [...(byFormat.get(u.kvFormat) ?? []), u.user]);
    const parts = [...byFormat.entries()].map(([id, names]) => `${names.length} × ${id} (${names.join(', ')})`);
    const budget = Number.isFinite(b.kvAccuracy.budget) ? ` of ${b.kvAccuracy.budget}` : ' (no budget)';
    lines.push(`KV formats: ${parts.join('; ')}; accuracy proxy ${b.kvAccuracy.usedCost.toFixed(4)}${budget}`);
  }
  if (b.serverBatchUsers === 0) lines.push(`server (${problem.server.name}): unused (no user needs it)`);
  else {
    const layers =
      b.serverLayers.length > 0
        ? `layers ${b.serverLayers[0]}–${b.serverLayers[b.serverLayers.length - 1]} and the head`
        : 'the head';
    lines.push(
      `server (${problem.server.name}): ${layers} loaded once, batch of ${b.serverBatchUsers}, step ${ms(b.serverStepSeconds)}; ` +
        `memory ${gb(m.totalBytes)} of ${gb(m.capacityBytes)} (weights ${gb(m.weightBytes)}, adapters ${gb(m.adapterBytes)}, ` +
        `KV ${gb(m.kvBytes)}, workspace ${gb(m.workspaceBytes)})`,
    );
  }
  if (tiers !== undefined) {
    const c = tiers.cloudMemory;
    const capacity = Number.isFinite(c.capacityBytes) ? ` of ${gb(c.capacityBytes)}` : ' (capacity unlimited)';
    const name = problem.cloud?.device.name ?? 'cloud';
    const layers = tiers.cloudLayers;
    const held = layers.length > 0 ? `layers ${layers[0]}–${layers[layers.length - 1]} and the head` : 'the head';
    lines.push(
      tiers.cloudBatchUsers === 0
        ? `cloud (${name}): unused`
        : `cloud (${name}): ${held}, batch of ${tiers.cloudBatchUsers}, step ${ms(tiers.cloudStepSeconds)}; ` +
            `memory ${gb(c.totalBytes)}${capacity}; backhaul ${ms(tiers.backhaulSeconds)} per step for ` +
            `${tiers.backhaulUpBytesPerStep} B up, ${tiers.backhaulDownBytesPerStep} B down; ` +
            `price ${tiers.pricePerToken.toPrecision(4)} per token (all users)`,
    );
  }
  // Three tiers: the slowest user's backhaul + cloud wait (a name is unique per breakdown row).
  const cloudPart = (name: string): string => {
    const t = tiers?.users.find((u) => u.user === name);
    return t !== undefined && t.cloudWaitSeconds > 0 ? `, backhaul + cloud ${ms(t.cloudWaitSeconds)}` : '';
  };
  const worst = slowest
    ? `; slowest: ${slowest.user} at ${ms(slowest.latencySeconds ?? 0)} (device ${ms(slowest.deviceSeconds)}, uplink ` +
      `${ms(slowest.uplinkSeconds)}, server ${ms(slowest.serverStepSeconds)}, downlink ${ms(slowest.downlinkSeconds)}` +
      `${cloudPart(slowest.user)})`
    : '';
  lines.push(
    `${problem.objective === 'max' ? 'slowest' : 'total'} per-token latency ${ms(b.latencyObjectiveSeconds)}${worst}`,
  );
  if (b.unservedUsers.length > 0) {
    lines.push(
      `not served (admission): ${b.unservedUsers.join(', ')} — penalty ${b.unservedUsers.length} × ` +
        `${b.unservedPenaltySeconds} s = ${b.penaltySeconds} s in the objective (latency ${b.latencyObjectiveSeconds.toFixed(6)} s + penalty)`,
    );
  }
  if (!evaluation.feasible) lines.push(`infeasible: ${evaluation.violations.map((v) => v.message).join('; ')}`);
  return lines.join('\n');
}

/**
 * Three tiers: every user has a cut of its own, so the shared tiers are to blame. Checked with the
 * least-load points the cost functions give: the edge with every user at its largest allowed
 * cut and everything else in the cloud, and the cloud with nobody in it.
 */
function explainThreeTierInfeasible(problem: KvProblem, tables: KvTables): string {
  const largest = largestCuts(tables, NO_RELAXATION).map((c) => c ?? tables.layers);
  const L = tables.layers;
  const lines: string[] = [];
  const offEdge = threeTierStateOf(problem, largest, largest);
  const cloud = problem.cloud as NonNullable<KvProblem['cloud']>;
  if (!withinLimit(offEdge.cloud.memoryBytes, cloud.memoryCapacityBytes))
    lines.push(
      'with every user as far onto its device as it may go and the rest in the cloud, ' +
        `the cloud needs ${gb(offEdge.cloud.memoryBytes)} of its ${gb(cloud.memoryCapacityBytes)}`,
    );
  const twoTier = threeTierStateOf(
    problem,
    largest,
    largest.map(() => L),
  );
  if (!withinLimit(twoTier.edge.memoryBytes, tables.serverMemoryBytes))
    lines.push(
      `with nobody in the cloud, the edge server needs ${gb(twoTier.edge.memoryBytes)} ` +
        `and the ${problem.server.name} has ${gb(tables.serverMemoryBytes)}`,
    );
  if (lines.length === 0)
    lines.push(
      problem.users.some((u) => u.latencySloSeconds !== null)
        ? 'the per-token latency SLOs bind together with edge memory and cloud capacity: ' +
            'no split of the layers over device, edge and cloud meets them all'
        : 'edge memory and cloud capacity together leave no split of the layers over device, edge and cloud',
    );
  return lines.join('\n');
}
