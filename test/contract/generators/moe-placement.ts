/**
 * Contract generator for moe-placement: tiny inline MoEs (1–2 layers, 2–3 routed experts, at most
 * one shared expert, 2–3 servers with inline links) without spare replicas — the replica budget
 * equals the experts per layer, so every expert has exactly one holder with share 1 and the
 * decision space is finite: the brute force enumerates every assignment of every (layer, expert)
 * to a server (≤ 3^8 = 6561), scored by evaluate. With spare replicas the shares are continuous
 * and no enumeration is exhaustive; the family's own tests cover replication against the MILP.
 */
import { evaluateDecision } from '../../../src/formulations/moe-placement/evaluate.ts';
import { parseProblem, type Replica } from '../../../src/formulations/moe-placement/schema.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

interface RawLink {
  uplinkBitsPerSecond: number;
  downlinkBitsPerSecond: number;
  latencySeconds: number;
}
type RawServer = { device: string; expertMemoryBytes: number; link?: RawLink; node?: string };
type Raw = Record<string, unknown> & { servers: RawServer[]; maxReplicasPerLayer: number; requester?: { server: number } };

const EXPERT_BYTES = 1e9;
const DEVICES = ['a100-80gb', 'rtx-3090', 'jetson-agx-orin-64gb'] as const;

function tiny(seed: number): Raw {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const layers = 1 + Math.floor(random() * 2);
  const routed = 2 + Math.floor(random() * 2);
  const shared = layers * routed <= 4 && random() < 0.4 ? 1 : 0;
  const experts = routed + shared;
  const S = 2 + Math.floor(random() * 2);
  // Keep the enumeration small: S^(L·E) ≤ 3^8.
  const servers = Array.from({ length: layers * experts > 6 ? 2 : S }, () => ({
    device: pick(DEVICES),
    // Whole slots, sometimes a few too few (infeasible instances are part of the contract).
    expertMemoryBytes: (Math.floor(random() * (layers * experts)) + 1) * EXPERT_BYTES,
    link: {
      uplinkBitsPerSecond: pick([1e8, 1e9, 1e10]),
      downlinkBitsPerSecond: pick([1e8, 1e9, 1e10]),
      latencySeconds: pick([0, 1e-4, 1e-3]),
    } as RawLink,
  }));
  const home = random() < 0.4 ? 0 : null;
  const raw: Raw = {
    kind: 'moe-placement',
    moe: {
      layers,
      experts: routed,
      topK: 1 + Math.floor(random() * routed),
      expertBytes: EXPERT_BYTES,
      expertFlopsPerToken: pick([1e9, 1e10, 1e11]),
      activationBytesPerToken: 8192,
      ...(shared > 0 ? { sharedExperts: shared } : {}),
    },
    popularity: { matrix: Array.from({ length: layers }, () => Array.from({ length: routed }, () => 1 + Math.floor(random() * 20))) },
    batchTokens: pick([16, 256, 2048]),
    servers: servers.map((s, i) => (i === home ? { device: s.device, expertMemoryBytes: s.expertMemoryBytes } : s)),
    maxReplicasPerLayer: experts,
    objective: pick(['latency', 'latency', 'max-load', 'traffic'] as const),
  };
  if (home !== null) raw.requester = { server: home };
  return raw;
}

/** Every assignment of each (layer, expert) to one server, scored by evaluate (the budget allows no replica). */
function bruteForce(raw: unknown): BruteForce {
  const problem = parseProblem(raw);
  if (problem.maxReplicasPerLayer !== problem.experts) throw new Error('moe-placement brute force: instances must allow no spare replica');
  const S = problem.servers.length;
  const cells = problem.layers * problem.experts;
  const assignment = new Array<number>(cells).fill(0);
  let best = Infinity;
  for (;;) {
    const placement: Replica[][][] = Array.from({ length: problem.layers }, (_, l) =>
      Array.from({ length: problem.experts }, (_, e) => [{ server: assignment[l * problem.experts + e], share: 1 }]),
    );
    const e = evaluateDecision(problem, { placement });
    if (e.feasible && e.objective < best) best = e.objective;
    let i = 0;
    while (i < cells && assignment[i] === S - 1) assignment[i++] = 0;
    if (i === cells) break;
    assignment[i] += 1;
  }
  return best === Infinity ? { status: 'infeasible' } : { status: 'optimal', objective: best };
}

const copy = (raw: unknown): Raw => structuredClone(raw) as Raw;
const eachLink = (r: Raw, f: (link: RawLink) => void): Raw => {
  for (const s of r.servers) if (s.link !== undefined) f(s.link);
  return r;
};

const relaxations: readonly Relaxation[] = [
  {
    name: 'one more expert slot on every server',
    apply(raw) {
      const r = copy(raw);
      for (const s of r.servers) s.expertMemoryBytes += EXPERT_BYTES;
      return r;
    },
  },
  {
    name: 'triple every uplink and downlink rate',
    apply: (raw) =>
      eachLink(copy(raw), (l) => {
        l.uplinkBitsPerSecond *= 3;
        l.downlinkBitsPerSecond *= 3;
      }),
  },
  {
    name: 'halve every link latency',
    apply: (raw) =>
      eachLink(copy(raw), (l) => {
        l.latencySeconds /= 2;
      }),
  },
  {
    name: 'a faster device (sustained FLOP/s doubled) on server 0',
    apply(raw) {
      const r = copy(raw);
      // The override replaces peak × efficiency; twice the catalog's effective rate is always faster.
      const s0 = r.servers[0] as RawServer & { flopsPerSecond?: number };
      s0.flopsPerSecond = 2 * effectiveFlops(s0.device);
      return r;
    },
  },
  // Absent on purpose: a larger replica budget (spare replicas make shares continuous, beyond the
  // brute force) and an extra server (it needs a link and a device, an arbitrary choice that the
  // slot relaxation already covers).
];

/** The catalog device's sustained FLOP/s (peak × efficiency), read through the parser. */
function effectiveFlops(device: string): number {
  const p = parseProblem({
    kind: 'moe-placement',
    moe: { layers: 1, experts: 1, topK: 1, expertBytes: 1, expertFlopsPerToken: 1, activationBytesPerToken: 1 },
    popularity: { matrix: [[1]] },
    batchTokens: 1,
    servers: [{ device }],
    requester: { server: 0 },
  });
  return p.servers[0].flopsPerSecond;
}

export const moePlacementGenerator: ContractGenerator = {
  kind: 'moe-placement',
  tiny,
  bruteForce,
  relaxations,
  seeds: 12,
  exclusions: {
    jslp:
      'javascript-lp-solver claims "infeasible" on seed 8 (optimum 0.180 s; the chain catches it as an error) and ' +
      'does not finish seed 11 (a 2-layer, 3-expert, 3-server instance) within 500 s without a time limit',
  },
};

export default moePlacementGenerator;
