/**
 * The family's words for people: why no placement exists (explainInfeasible) and a few lines on
 * a placement (describe). One home for both.
 */
import type { Evaluation } from '../types.ts';
import { replicaCapacity } from './cost.ts';
import type { MoeBreakdown } from './evaluate.ts';
import type { MoePlacementDecision, MoePlacementProblem } from './schema.ts';

const gb = (bytes: number, digits = 2): string => `${(bytes / 1e9).toFixed(digits)} GB`;

/**
 * Why no placement exists, in domain words. Feasibility is exactly "enough whole-expert slots"
 * (Σ_s ⌊memory_s / expert bytes⌋ ≥ L·E, the budget being ≥ E), so the shortfall is counted in
 * experts and bytes, and the first layer that cannot be completed (layers filled in order) is named.
 */
export function explainShortage(problem: MoePlacementProblem): string {
  const caps = problem.servers.map((_, s) => replicaCapacity(problem, s));
  const slots = caps.reduce((a, b) => a + b, 0);
  const E = problem.experts;
  const needed = problem.layers * E;
  if (slots >= needed) return 'a placement exists (every expert fits in some server’s memory)';
  const largest = Math.max(...problem.servers.map((s) => s.expertMemoryBytes));
  const each = gb(problem.expertBytes, 3);
  if (slots === 0)
    return `no server can hold even one expert: each needs ${each}, the largest server offers ${gb(largest, 3)} for experts`;
  const short = needed - slots;
  const layer = Math.floor(slots / E);
  const placedInLayer = slots % E;
  const kinds = problem.sharedExperts > 0 ? ` (${problem.routedExperts} routed + ${problem.sharedExperts} shared)` : '';
  const offered = problem.servers.reduce((a, s) => a + s.expertMemoryBytes, 0);
  return (
    `the ${needed} experts (${problem.layers} layers × ${E}${kinds}) need ${gb(needed * problem.expertBytes)}; ` +
    `the servers hold ${slots} whole experts (${gb(offered)} offered for experts, ${each} each) — ` +
    `${short} experts (${gb(short * problem.expertBytes)}) do not fit: filling the layers in order, ` +
    `layer ${layer} gets only ${placedInLayer} of its ${E} experts`
  );
}

function formatObjective(problem: MoePlacementProblem, value: number): string {
  return problem.objective === 'traffic' ? `${(value / 1e6).toFixed(3)} MB per step` : `${(value * 1e3).toFixed(4)} ms per token`;
}

export function describe(problem: MoePlacementProblem, decision: MoePlacementDecision, evaluation: Evaluation<MoeBreakdown | null>): string {
  const lines: string[] = [];
  const b = evaluation.breakdown;
  const shared = problem.sharedExperts > 0 ? ` + ${problem.sharedExperts} shared` : '';
  lines.push(
    `${problem.modelName}: ${problem.layers} MoE layers × ${problem.routedExperts} experts${shared} (top-${problem.topK}) ` +
      `on ${problem.servers.length} servers, objective ${problem.objective} = ${formatObjective(problem, evaluation.objective)}`,
  );
  if (b === null) return lines.join('\n');
  const replicated = decision.placement.reduce((a, row) => a + row.filter((reps) => reps.length > 1).length, 0);
  lines.push(`replicas per layer: ${Math.min(...b.replicasPerLayer)}–${Math.max(...b.replicasPerLayer)} (${replicated} expert-layers replicated)`);
  for (const s of b.servers) {
    const busiest = b.layers.filter((l) => l.busiestServer === s.server).length;
    lines.push(`  ${s.name}: ${s.replicas} experts, ${(s.memoryBytes / 1e9).toFixed(2)}/${(s.memoryLimitBytes / 1e9).toFixed(2)} GB; slowest in ${busiest} layer(s)`);
  }
  if (problem.sharedExperts > 0) {
    const homes = new Set<number>();
    for (const row of decision.placement) for (let e = problem.routedExperts; e < problem.experts; e++) for (const r of row[e]) homes.add(r.server);
    const names = [...homes].sort((x, y) => x - y).map((s) => problem.servers[s].name);
    lines.push(`shared expert(s) on: ${names.join(', ')}`);
  }
  if (b.migration) lines.push(`migration: ${b.migration.replicasMoved} replicas moved (${(b.migration.bytesMoved / 1e9).toFixed(2)} GB, ${b.migration.seconds.toFixed(2)} s)`);
  if (problem.popularitySource.kind !== 'given') lines.push(`popularity: generated ${JSON.stringify(problem.popularitySource)}`);
  for (const v of evaluation.violations.slice(0, 5)) lines.push(`  violation: ${v.message}`);
  return lines.join('\n');
}
