/**
 * The family's words for people: why no decision exists (explainInfeasible) and a few lines on a
 * decision (describe).
 */
import type { Evaluation } from '../types.ts';
import { classVisits, cutRange, deviceBytes, replicaTokenLimit, serverCapacity } from './cost.ts';
import type { SplitMoeBreakdown } from './evaluate.ts';
import type { SplitMoeDecision, SplitMoeProblem } from './schema.ts';

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;
const ms = (seconds: number): string => `${(seconds * 1e3).toFixed(3)} ms`;

/**
 * Why no decision exists, checking the necessary conditions one by one: a device that cannot hold
 * its dense parts or its privacy floor; servers without slots for the experts the classes must
 * offload even at their deepest cuts; an expert whose calls exceed every replica's batch limit
 * together; otherwise the latency SLOs (or the drop budgets) are what cannot be met.
 */
export function explainInfeasible(problem: SplitMoeProblem): string {
  for (const [u, c] of problem.classes.entries()) {
    const { min, max } = cutRange(problem, u);
    if (max < 0)
      return (
        `${c.name}: the dense parts and the KV cache need ${gb(deviceBytes(problem, u, 0))}; ` +
        `the device has ${gb(c.memoryBytes)}`
      );
    if (max < min)
      return (
        `${c.name}: its privacy floor of ${min} device layers needs ` +
        `${gb(deviceBytes(problem, u, min))}; the device has ${gb(c.memoryBytes)} (at most ${max} layers fit)`
      );
  }
  const deepest = problem.classes.map((_, u) => cutRange(problem, u).max);
  const needed = new Set<string>();
  problem.classes.forEach((c, u) => {
    for (let l = deepest[u]; l < problem.layers; l++)
      for (let e = 0; e < problem.experts; e++) if (c.popularity[l][e] > 0) needed.add(`${l}:${e}`);
  });
  const slots = problem.servers.reduce((a, _, s) => a + serverCapacity(problem, s), 0);
  if (needed.size > slots)
    return (
      `even at every class’s deepest cut, ${needed.size} experts must live on the servers ` +
      `(${gb(needed.size * problem.expertBytes)}); they hold ${slots} whole experts`
    );
  const limits = problem.servers.map((_, s) => replicaTokenLimit(problem, s));
  const together = limits.reduce((a, b) => a + b, 0);
  for (let l = 0; l < problem.layers; l++)
    for (let e = 0; e < problem.experts; e++) {
      const calls = problem.classes.reduce((a, _, u) => a + (l >= deepest[u] ? classVisits(problem, u, l, e) : 0), 0);
      if (calls > together * (1 + 1e-6) && problem.classes.every((c) => c.maxDroppedShare === 0))
        return (
          `expert ${e} of layer ${l} gets ${calls.toFixed(1)} calls per step even at the ` +
          `deepest cuts; one replica on every server serves at most ${together.toFixed(1)} (roofline knee)`
        );
    }
  const slo = problem.classes.filter((c) => c.latencySloSeconds !== null).map((c) => c.name);
  if (slo.length > 0)
    return `no placement and cuts meet the latency SLOs of ${slo.join(', ')} within the memory and batch limits`;
  return 'the server memory and the replica batch limits cannot serve every class’s calls together';
}

export function describe(
  problem: SplitMoeProblem,
  decision: SplitMoeDecision,
  evaluation: Evaluation<SplitMoeBreakdown | null>,
): string {
  const b = evaluation.breakdown;
  if (b === null) return 'the decision does not have the problem’s shape';
  const lines = b.classes.map(
    (c) =>
      `${c.name} (${c.users} users): ${c.cut} of ${problem.layers} MoE layers on the device, ` +
      `${ms(c.latencySeconds)} per token ` +
      `(dense ${ms(c.denseSeconds)}, device experts ${ms(c.deviceExpertSeconds)}, access link ` +
      `${ms(c.linkSeconds)}, expert calls ${ms(c.expertCallSeconds)})` +
      `${c.droppedShare > 0 ? `, ${(100 * c.droppedShare).toFixed(2)}% of routing mass skipped` : ''}`,
  );
  const servers = b.servers.map(
    (s) => `${s.name}: ${s.experts} experts (${gb(s.memoryBytes)} of ${gb(s.memoryLimitBytes)})`,
  );
  const replicas = decision.placement.reduce((a, row) => a + row.reduce((n, h) => n + Math.max(0, h.length - 1), 0), 0);
  return [
    ...lines,
    ...servers,
    `${replicas} extra replicas; network ${(b.networkBytesPerStep / 1e6).toFixed(3)} MB per decode step`,
  ].join('\n');
}
