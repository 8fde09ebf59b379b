/**
 * Words for fleet-serving: why no placement serves (explainInfeasible) and what a decision does
 * (describe). The infeasibility reason comes from a relaxation: which (node, last layer) pairs a
 * chain of linked nodes can reach from the source, nodes allowed to repeat. If even that never
 * reaches layer L at a sink-linked node, no placement carries flow, and the furthest layer
 * reached says where the fleet falls short.
 */
import type { Evaluation } from '../types.ts';
import { columnsOf, coverBound } from './cost.ts';
import type { FleetBreakdown } from './evaluate.ts';
import type { FleetDecision, FleetProblem } from './schema.ts';
import { withinLimit } from '../tolerance.ts';
import { chainTimes, hasPathBound, pathBounds } from './variants.ts';

export function explainFleetInfeasible(problem: FleetProblem): string {
  if (hasPathBound(problem) || problem.targetTokensPerSecond !== undefined) return explainVariantInfeasible(problem);
  return explainPlain(problem);
}

const SERVES = 'a placement can serve; no reason to report';

/**
 * Why a variant has no decision, in domain words: the plain reason when nothing serves at all; the
 * fastest chain's time when even it breaks an SLO, per token or to the first token (a relaxation:
 * nodes may repeat, capacities ignored, so it is a lower bound on every path's time); the cover
 * bound when even the whole fleet cannot reach the target; otherwise what the MILP proved.
 */
export function explainVariantInfeasible(problem: FleetProblem): string {
  const plain = explainPlain(problem);
  if (plain !== SERVES) return plain;
  const bounds = pathBounds(problem);
  for (const bound of bounds) {
    const fastest = chainTimes(problem, bound).fastest;
    if (withinLimit(fastest, bound.sloSeconds)) continue;
    const layers = `layers 1..${problem.layers}`;
    if (bound.kind === 'tpot') {
      return (
        `no request path meets the latency SLO of ${fmt(bound.sloSeconds)} s per token: the fastest chain of ` +
        `linked nodes covering ${layers} takes ${fmt(fastest)} s (links + compute)`
      );
    }
    return (
      `no request path prefills ${problem.promptTokens ?? 0} tokens within the time-to-first-token SLO of ` +
      `${fmt(bound.sloSeconds)} s: the fastest chain of linked nodes covering ${layers} takes ${fmt(fastest)} s ` +
      `(link latencies, the prompt's activations over the links, prefill)`
    );
  }
  const target = problem.targetTokensPerSecond;
  const within =
    bounds.length === 0
      ? ''
      : ' within ' + bounds.map((b) => `the ${b.kind.toUpperCase()} SLO of ${fmt(b.sloSeconds)} s`).join(' and ');
  if (target !== undefined) {
    const bound = coverBound(problem);
    if (bound < target) {
      return (
        `the whole fleet cannot serve the target of ${fmt(target)} tokens/s: even renting all ` +
        `${problem.nodes.length} nodes, no placement carries more than ${fmt(bound)} tokens/s (the cover bound)`
      );
    }
    return (
      `no placement of the whole fleet (${problem.nodes.length} nodes) serves ${fmt(target)} tokens/s${within}: ` +
      `the variant MILP proves it (the cover bound, ${fmt(bound)} tokens/s, ignores links and latency)`
    );
  }
  const each =
    bounds.length > 1
      ? ': the fastest chains (nodes may repeat) meet each SLO alone, but no placement routes a path that meets ' +
        'both (the MILP proves it)'
      : ': every path that covers the layers breaks it (the MILP proves it)';
  return `no placement serves any flow${within}${each}`;
}

const fmt = (x: number): string => String(Number(x.toPrecision(6)));

function explainPlain(problem: FleetProblem): string {
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
    if (b === L && problem.sinkCapacity[i] > 0) return SERVES;
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
  if (b.rentPerHour !== undefined) {
    const assumed = b.assumedPrices ?? [];
    const target = problem.targetTokensPerSecond;
    lines.push(
      `  rent ${b.rentPerHour.toFixed(2)} per hour for ${b.nodes.length} nodes` +
        (target !== undefined ? ` (target ${target} tokens/s)` : '') +
        (assumed.length > 0 ? `; assumed reference prices for ${assumed.join(', ')}` : ''),
    );
  }
  if (b.worstTtftSeconds !== undefined) {
    const ttft = problem.ttftSloSeconds;
    lines.push(
      `  slowest path to the first token ${(b.worstTtftSeconds * 1e3).toFixed(3)} ms` +
        ` (${problem.promptTokens ?? 0}-token prompt` +
        (ttft !== undefined ? `, TTFT SLO ${(ttft * 1e3).toFixed(3)} ms` : '') +
        `): ${(b.worstTtftPath ?? []).join(' → ')}`,
    );
  }
  if (b.worstPathLatencySeconds !== undefined) {
    const slo = problem.latencySloSeconds;
    lines.push(
      `  slowest request path ${(b.worstPathLatencySeconds * 1e3).toFixed(3)} ms per token` +
        (slo !== undefined ? ` (SLO ${(slo * 1e3).toFixed(3)} ms)` : '') +
        `: ${(b.worstPath ?? []).join(' → ')}`,
    );
  }
  return lines.join('\n');
}
