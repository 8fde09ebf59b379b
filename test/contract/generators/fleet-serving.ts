/**
 * Contract generator for fleet-serving: tiny fleets (≤ 3 nodes, ≤ 4 layers) with random,
 * non-monotone throughput tables, some links missing and some capacities that bind, sometimes
 * limited source/sink links or whole-model replicas. The brute force enumerates every placement
 * (each node idle or on one (start, k)) and scores it with evaluate's own max flow (no routing
 * given), so it shares nothing with the solvers.
 */
import { evaluateFleet } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import type { FleetDecision } from '../../../src/formulations/fleet-serving/schema.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

interface RawLink {
  from: string;
  to: string;
  tokensPerSecond?: number;
}
type Raw = Record<string, unknown> & {
  layers: number;
  nodes: { name: string; throughputByLayers: Record<string, number>; maxLayers: number }[];
  links: RawLink[];
};

function tiny(seed: number): Raw {
  const random = mulberry32(seed);
  const L = 1 + Math.floor(random() * 4);
  const n = 1 + Math.floor(random() * 3);
  const nodes = Array.from({ length: n }, (_, i) => {
    const maxLayers = 1 + Math.floor(random() * L);
    const table: Record<string, number> = {};
    for (let k = 1; k <= maxLayers; k++)
      if (k === 1 || random() < 0.8) table[String(k)] = Math.round(10 + 90 * random());
    return { name: `n${i}`, throughputByLayers: table, maxLayers };
  });
  const links: RawLink[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j || random() < 0.2) continue;
      links.push({
        from: `n${i}`,
        to: `n${j}`,
        ...(random() < 0.4 ? { tokensPerSecond: Math.round(5 + 60 * random()) } : {}),
      });
    }
  }
  // Endpoints: every node (unlimited) or a random subset with capacities; at least one each.
  if (random() < 0.4) {
    for (const end of ['source', 'sink'] as const) {
      const chosen = nodes.filter(() => random() < 0.6);
      for (const node of chosen.length > 0 ? chosen : [nodes[0]]) {
        const cap = random() < 0.5 ? { tokensPerSecond: Math.round(20 + 80 * random()) } : {};
        links.push(
          end === 'source' ? { from: 'source', to: node.name, ...cap } : { from: node.name, to: 'sink', ...cap },
        );
      }
    }
  }
  return { kind: 'fleet-serving', layers: L, nodes, links, ...(random() < 0.15 ? { replicas: 'whole-model' } : {}) };
}

/** Every node idle or on one (start, k) of its table; the placement's max flow from evaluate. */
function bruteForce(raw: unknown): BruteForce {
  const problem = parseFleet(raw);
  const L = problem.layers;
  const options = problem.nodes.map((node) => {
    const list: ({ first: number; last: number } | null)[] = [null];
    for (let k = 1; k <= node.maxLayers; k++) {
      if (!((node.throughput[k] ?? 0) > 0) || (problem.wholeModel && k !== L)) continue;
      for (let s = 0; s + k <= L; s++) list.push({ first: s + 1, last: s + k });
    }
    return list;
  });
  let best = 0;
  const pick: ({ first: number; last: number } | null)[] = [];
  const walk = (i: number): void => {
    if (i === options.length) {
      const decision: FleetDecision = {
        placement: pick.flatMap((o, j) =>
          o === null ? [] : [{ node: problem.nodes[j].name, firstLayer: o.first, lastLayer: o.last }],
        ),
      };
      const e = evaluateFleet(problem, decision);
      if (e.feasible && e.objective > best) best = e.objective;
      return;
    }
    for (const o of options[i]) {
      pick.push(o);
      walk(i + 1);
      pick.pop();
    }
  };
  walk(0);
  return best > 0 ? { status: 'optimal', objective: best } : { status: 'infeasible' };
}

const copy = (raw: unknown): Raw => structuredClone(raw) as Raw;

const relaxations: readonly Relaxation[] = [
  {
    name: 'double every throughput',
    apply(raw) {
      const r = copy(raw);
      for (const node of r.nodes) for (const k of Object.keys(node.throughputByLayers)) node.throughputByLayers[k] *= 2;
      return r;
    },
  },
  {
    name: 'lift every link capacity',
    apply(raw) {
      const r = copy(raw);
      r.links = r.links.map((l) => ({ from: l.from, to: l.to }));
      return r;
    },
  },
  {
    name: 'add every missing node-to-node link',
    apply(raw) {
      const r = copy(raw);
      for (const a of r.nodes) {
        for (const b of r.nodes) {
          if (a !== b && !r.links.some((l) => l.from === a.name && l.to === b.name))
            r.links.push({ from: a.name, to: b.name });
        }
      }
      return r;
    },
  },
  {
    name: 'allow shared stages (replicas no longer whole-model)',
    apply(raw) {
      const r = copy(raw);
      delete r.replicas;
      return r;
    },
  },
];

export const fleetServingGenerator: ContractGenerator = {
  kind: 'fleet-serving',
  tiny,
  bruteForce,
  relaxations,
  seeds: 16,
};

export default fleetServingGenerator;
