/**
 * Words for fleet-serving: why no placement serves (explainInfeasible) and what a decision does
 * (describe). The infeasibility reason comes from a relaxation: which (node, last layer) pairs a
 * chain of linked nodes can reach from the source, nodes allowed to repeat. If even that never
 * reaches layer L at a sink-linked node, no placement carries flow, and the furthest layer
 * reached says where the fleet falls short.
 */
import type { Evaluation } from '../types.ts';
import { columnsOf } from './cost.ts';
import type { FleetBreakdown } from './evaluate.ts';
import type { FleetDecision, FleetProblem } from './schema.ts';

export function explainFleetInfeasible(problem: FleetProblem): string {
  const L = problem.layers;
  const n = problem.nodes.length;
  const ks = problem.nodes.map((_, i) => [...new Set(columnsOf(problem, i).map((c) => c.k))]);
  if (ks.every((k) => k.length === 0)) {
    return problem.wholeModel
      ? `no node can hold all ${L} layers (replicas are whole-model)`
      : 'no node can hold any layer (every throughput table is empty within memory)';
  }
  const entry = [...Array(n).keys()].filter((i) => problem.sourceCapacity[i] > 0 && ks[i].length > 0);
  if (entry.length === 0)
    return 'no node can hold layer 1 and reach the source (no source link to a node that holds layers)';
  // reach[i] = set of boundaries b such that a chain from the source can end at node i after layer b.
  const reach: Set<number>[] = Array.from({ length: n }, () => new Set());
  const queue: [number, number][] = [];
  for (const i of entry) for (const k of ks[i]) if (!reach[i].has(k)) (reach[i].add(k), queue.push([i, k]));
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const l of problem.links) out[l.from].push(l.to);
  let furthest = 0;
  for (let h = 0; h < queue.length; h++) {
    const [i, b] = queue[h];
    furthest = Math.max(furthest, b);
    if (b === L && problem.sinkCapacity[i] > 0) return 'a placement can serve; no reason to report';
    for (const j of out[i]) {
      for (const k of ks[j]) {
        if (b + k <= L && !reach[j].has(b + k)) (reach[j].add(b + k), queue.push([j, b + k]));
      }
    }
  }
  const enders = [...Array(n).keys()].filter((i) => problem.sinkCapacity[i] > 0 && ks[i].length > 0);
  if (enders.length === 0)
    return `no node can hold layer ${L} and reach the sink (no sink link to a node that holds layers)`;
  return (
    `no chain of linked nodes covers layers 1..${L}: from the source, chains reach layer ${furthest} at most ` +
    `(or never end exactly at layer ${L} on a node linked to the sink)`
  );
}

export function describeFleet(problem: FleetProblem, d: FleetDecision, e: Evaluation<FleetBreakdown>): string {
  const b = e.breakdown;
  const lines = [
    `${b.routedTokensPerSecond.toFixed(3)} tokens/s through ${b.nodes.length} of ${problem.nodes.length} nodes` +
      ` (placement max flow ${b.placementMaxFlowTokensPerSecond.toFixed(3)}), ${problem.layers} layers`,
  ];
  for (const p of (d.pipelines ?? []).slice(0, 12)) {
    lines.push(`  pipeline ${p.tokensPerSecond.toFixed(3)} tokens/s: ${p.nodes.join(' → ')}`);
  }
  if ((d.pipelines?.length ?? 0) > 12) lines.push(`  … ${(d.pipelines?.length ?? 0) - 12} more pipelines`);
  const ranges = b.nodes.map((r) => `${r.node} ${r.firstLayer}–${r.lastLayer}`);
  lines.push(`  ranges: ${ranges.join(', ')}`);
  return lines.join('\n');
}
