/**
 * A fleet-serving plan as a routing table (issue 18): the flow graph Helix-style schedulers follow. Each node holds a
 * layer range; each request enters at the source, goes from node to node and leaves at the sink. The table gives, for
 * the source and every node, the next hops with the share of its outgoing tokens/s each one receives (the weights of a
 * weighted round-robin), plus the pipelines (paths) when the solution decomposes the flow.
 *
 * Only `--to json` expresses this: vLLM, SGLang, llama.cpp, DeepSpeed and Megatron-LM run one pipeline per
 * deployment, not a flow split across replicated layer ranges; the error names the pipelines to deploy one by one.
 */
import { InputError } from '../errors.ts';
import type { FleetDecision } from '../formulations/fleet-serving/schema.ts';
import type { ExportTarget } from './pipeline.ts';

export interface RoutingHop {
  readonly to: string;
  readonly tokensPerSecond: number;
  /** Share of the node's outgoing tokens/s sent to this hop (sums to 1 per node). */
  readonly weight: number;
}

export interface RoutingEntry {
  readonly node: string;
  readonly firstLayer: number | null;
  readonly lastLayer: number | null;
  readonly tokensPerSecond: number;
  readonly next: readonly RoutingHop[];
}

export interface RoutingTable {
  readonly totalTokensPerSecond: number;
  readonly entries: readonly RoutingEntry[];
  readonly pipelines: readonly { readonly nodes: readonly string[]; readonly tokensPerSecond: number }[];
}

/** Flows below this share of the total are solver noise, not routes. */
const NEGLIGIBLE_SHARE = 1e-9;

export function routingTable(decision: FleetDecision): RoutingTable {
  if (decision.routing === undefined) {
    throw new InputError(
      '$.solution.decision.routing',
      'the solution has no routing (flows per link); export a report written by `edgeplan solve --json`',
    );
  }
  const total = decision.routing.filter((f) => f.from === 'source').reduce((s, f) => s + f.tokensPerSecond, 0);
  const flows = decision.routing.filter((f) => f.tokensPerSecond > NEGLIGIBLE_SHARE * Math.max(total, 1));
  const range = new Map(decision.placement.map((p) => [p.node, p]));
  const order = ['source', ...decision.placement.map((p) => p.node)];
  const entries = order
    .map((node): RoutingEntry => {
      const out = flows.filter((f) => f.from === node);
      const sum = out.reduce((s, f) => s + f.tokensPerSecond, 0);
      const held = range.get(node);
      return {
        node,
        firstLayer: held?.firstLayer ?? null,
        lastLayer: held?.lastLayer ?? null,
        tokensPerSecond: sum,
        next: out.map((f) => ({
          to: f.to,
          tokensPerSecond: f.tokensPerSecond,
          weight: sum > 0 ? f.tokensPerSecond / sum : 0,
        })),
      };
    })
    .filter((e) => e.next.length > 0);
  return { totalTokensPerSecond: total, entries, pipelines: decision.pipelines ?? [] };
}

export function exportFleetPlan(decision: FleetDecision, target: ExportTarget) {
  const table = routingTable(decision);
  if (target !== 'json') {
    const paths = table.pipelines.map((p) => `${p.nodes.join(' → ')} (${p.tokensPerSecond.toPrecision(4)} tokens/s)`);
    throw new InputError(
      '--to',
      `a fleet-serving plan is a flow split across replicated layer ranges, which ${target} cannot express (it runs ` +
        `one pipeline per deployment); use --to json for the routing table` +
        (paths.length > 0 ? `, or deploy its pipelines one by one: ${paths.join('; ')}` : ''),
    );
  }
  const text = `${JSON.stringify({ kind: 'fleet-serving', routing: table }, null, 2)}\n`;
  const notes = [
    "weights are each node's share of its outgoing tokens/s: a weighted round-robin over the next hops reproduces " +
      "the planned flow (Helix's interleaved weighted round-robin scheduler)",
  ];
  return { target, text, notes, routing: table };
}
