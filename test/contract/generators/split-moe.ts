/**
 * Contract generator for split-moe: tiny inline MoEs (1–2 layers, 2–3 experts, top-1 or 2), one or
 * two edge servers, one or two user classes with inline device speeds, sometimes a drop budget,
 * a privacy floor or a latency SLO, and no replica batch limit (with one, routing is a transport LP
 * that no enumeration covers; the family's tests check that limit against the MILP).
 *
 * The brute force enumerates every cut vector and every placement (≤ 2^8); for each, routing is
 * decided by a rule that is optimal without a batch limit: each class calls the holder with the
 * least cost for the objective (call time, or network bytes then time), and, with a drop budget,
 * drops whole calls greedily by cost per unit of routing mass (a fractional knapsack, exact for
 * the one budget row) — the last call partly. SLOs appear only without drops, where the
 * least-time routing is also each class's fastest, so an SLO holds for some routing iff it holds
 * for that one. Every candidate is scored by evaluate.
 */
import { callBytes, callSeconds } from '../../../src/formulations/split-moe/cost.ts';
import { evaluateDecision } from '../../../src/formulations/split-moe/evaluate.ts';
import {
  parseProblem,
  type Route,
  type SplitMoeDecision,
  type SplitMoeProblem,
} from '../../../src/formulations/split-moe/schema.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

const GB = 1e9;

interface RawLink {
  uplinkBitsPerSecond: number;
  downlinkBitsPerSecond: number;
  latencySeconds: number;
}
interface RawDevice {
  id: string;
  memoryBytes: number;
  peakFlopsPerSecond: number;
  memoryBandwidthBytesPerSecond: number;
}
interface RawClass {
  users: number;
  device: RawDevice;
  memoryBytes: number;
  link: RawLink;
  server: number;
  popularity: { matrix: number[][] };
  minDeviceLayers?: number;
  maxDroppedShare?: number;
  latencySloSeconds?: number;
}
type Raw = Record<string, unknown> & { servers: { device: string; expertMemoryBytes: number }[]; classes: RawClass[] };

function tiny(seed: number): Raw {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const layers = 1 + Math.floor(random() * 2);
  const experts = layers === 1 ? 2 + Math.floor(random() * 2) : 2;
  const S = layers * experts * 2 <= 8 ? 1 + Math.floor(random() * 2) : 1;
  const U = 1 + Math.floor(random() * 2);
  const objective = pick(['max', 'mean', 'network'] as const);
  const row = (): number[] => {
    const w = Array.from({ length: experts }, () => Math.floor(random() * 5));
    if (!w.some((x) => x > 0)) w[0] = 1;
    const total = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / total);
  };
  const classes: RawClass[] = Array.from({ length: U }, (_, u) => {
    const drops = random() < 0.3;
    const c: RawClass = {
      users: pick([1, 4, 30]),
      device: {
        id: 'jetson-orin-nano-8gb',
        // Room for the relaxation that adds device memory; the class's `memoryBytes` is what binds.
        memoryBytes: 64 * GB,
        peakFlopsPerSecond: pick([1e12, 2e13]),
        memoryBandwidthBytesPerSecond: pick([5e10, 2e11]),
      },
      // The dense parts take 1 GB; room for 0 … all layers of 1 GB experts.
      memoryBytes: (1 + Math.floor(random() * (layers + 1)) * experts) * GB + 0.5 * GB,
      link: {
        uplinkBitsPerSecond: pick([1e7, 1e8, 1e9]),
        downlinkBitsPerSecond: pick([1e8, 1e9]),
        latencySeconds: pick([1e-4, 1e-3, 5e-3]),
      },
      server: u % S,
      popularity: { matrix: Array.from({ length: layers }, row) },
    };
    if (random() < 0.25) {
      // A privacy floor of one layer, on a device that can hold it.
      c.minDeviceLayers = 1;
      c.memoryBytes = Math.max(c.memoryBytes, (1 + experts) * GB + 0.5 * GB);
    }
    if (drops) c.maxDroppedShare = pick([0.1, 0.3]);
    else if (objective !== 'network' && random() < 0.3) c.latencySloSeconds = pick([0.05, 0.2]);
    return c;
  });
  return {
    kind: 'split-moe',
    moe: {
      layers,
      experts,
      topK: 1 + Math.floor(random() * Math.min(2, experts)),
      expertBytes: GB,
      expertFlopsPerToken: 2 * GB,
      activationBytesPerToken: 8192,
      denseBytes: GB,
      denseFlopsPerToken: 2 * GB,
      kvBytesPerToken: 0,
    },
    servers: Array.from({ length: S }, () => ({
      device: pick(['a100-80gb', 'rtx-3090']),
      expertMemoryBytes: Math.max(1, layers * experts - Math.floor(random() * 3)) * GB,
    })),
    ...(S > 1
      ? { serverLink: { uplinkBitsPerSecond: 1e9, downlinkBitsPerSecond: 1e9, latencySeconds: pick([1e-4, 2e-3]) } }
      : {}),
    classes,
    objective,
    replicaTokenLimit: 'none',
  };
}

/** The least-cost holder of one class's calls (ties: least time, then lowest index). */
function bestHolder(problem: SplitMoeProblem, u: number, holders: readonly number[]): number {
  const key = (s: number): [number, number] =>
    problem.objective === 'network'
      ? [callBytes(problem, u, s), callSeconds(problem, u, s)]
      : [callSeconds(problem, u, s), 0];
  let best = holders[0];
  for (const s of holders) {
    const [a, b] = key(s);
    const [c, d] = key(best);
    if (a < c || (a === c && b < d)) best = s;
  }
  return best;
}

function routeFor(problem: SplitMoeProblem, cuts: readonly number[], placement: number[][][]): SplitMoeDecision {
  const routing = problem.classes.map((c, u) => {
    const rows: Route[][][] = placement.map((row, l) =>
      row.map((holders, e) =>
        l < cuts[u] || c.popularity[l][e] === 0 || holders.length === 0
          ? []
          : [{ server: bestHolder(problem, u, holders), share: 1 }],
      ),
    );
    if (c.maxDroppedShare > 0) {
      // Fractional knapsack: drop the calls with the largest saving per unit of routing mass first.
      const items: { l: number; e: number; saving: number }[] = [];
      rows.forEach((row, l) =>
        row.forEach((routes, e) => {
          if (routes.length === 0) return;
          const s = routes[0].server;
          const saving =
            problem.objective === 'network' ? problem.topK * callBytes(problem, u, s) : callSeconds(problem, u, s);
          if (saving > 0) items.push({ l, e, saving });
        }),
      );
      items.sort((a, b) => b.saving - a.saving);
      let budget = c.maxDroppedShare * problem.layers;
      for (const it of items) {
        const p = c.popularity[it.l][it.e];
        if (budget <= 0) break;
        const dropped = Math.min(1, budget / p);
        budget -= dropped * p;
        const s = rows[it.l][it.e][0].server;
        rows[it.l][it.e] = dropped >= 1 ? [] : [{ server: s, share: 1 - dropped }];
      }
    }
    return rows;
  });
  return { cuts: [...cuts], placement, routing };
}

function bruteForce(raw: unknown): BruteForce {
  const problem = parseProblem(raw);
  const L = problem.layers;
  const E = problem.experts;
  const S = problem.servers.length;
  const U = problem.classes.length;
  const cells = L * E * S;
  let best = Infinity;
  const cuts = new Array<number>(U).fill(0);
  for (;;) {
    for (let mask = 0; mask < 2 ** cells; mask++) {
      const placement = Array.from({ length: L }, (_, l) =>
        Array.from({ length: E }, (_, e) =>
          Array.from({ length: S }, (_, s) => s).filter((s) => (mask >> ((l * E + e) * S + s)) & 1),
        ),
      );
      const e = evaluateDecision(problem, routeFor(problem, cuts, placement));
      if (e.feasible && e.objective < best) best = e.objective;
    }
    let i = 0;
    while (i < U && cuts[i] === L) cuts[i++] = 0;
    if (i === U) break;
    cuts[i] += 1;
  }
  return best === Infinity ? { status: 'infeasible' } : { status: 'optimal', objective: best };
}

const copy = (raw: unknown): Raw => structuredClone(raw) as Raw;

const relaxations: readonly Relaxation[] = [
  {
    name: 'one more expert of edge memory on every server',
    apply(raw) {
      const r = copy(raw);
      for (const s of r.servers) s.expertMemoryBytes += GB;
      return r;
    },
  },
  {
    name: 'triple every access uplink and downlink',
    apply(raw) {
      const r = copy(raw);
      for (const c of r.classes) {
        c.link.uplinkBitsPerSecond *= 3;
        c.link.downlinkBitsPerSecond *= 3;
      }
      return r;
    },
  },
  {
    name: 'a faster device (FLOP/s and memory bandwidth doubled) for class 0',
    apply(raw) {
      const r = copy(raw);
      r.classes[0].device.peakFlopsPerSecond *= 2;
      r.classes[0].device.memoryBandwidthBytesPerSecond *= 2;
      return r;
    },
  },
  {
    name: 'one more expert layer of device memory for class 0',
    apply(raw) {
      const r = copy(raw);
      const m = r.moe as { experts: number };
      r.classes[0].memoryBytes += m.experts * GB;
      return r;
    },
  },
];

export const splitMoeGenerator: ContractGenerator = {
  kind: 'split-moe',
  tiny,
  bruteForce,
  relaxations,
  seeds: 12,
};

export default splitMoeGenerator;
