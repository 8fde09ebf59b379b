/**
 * Contract generator for agent-placement: one task of two or three modules (a chain, or two
 * sources feeding one module) built from small catalog LLMs, now and then a LoRA module sharing
 * its base with another, a module reading raw bytes from the device, a pin; one or two servers
 * (tight memory, sometimes a load cap that binds), one to three users on phones with tight memory
 * and links of different speeds, some reaching one server only; each objective in turn, an SLO now
 * and then. Brute force enumerates every placement of every (user, module) and keeps the best one
 * evaluate accepts — never the exact method.
 * Every backend solves the candidate-selection MILP (milp.ts); the exact method searches the same
 * candidates combinatorially.
 */
import { agentPlacementFormulation as F } from '../../../src/formulations/agent-placement/index.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

type Raw = Record<string, unknown>;
type RawLink = { uplinkBitsPerSecond: number; downlinkBitsPerSecond: number; latencySeconds: number };
type RawUser = Raw & { device: Raw; memoryBytes: number; links: { server: string; link: RawLink }[] };
type RawServer = Raw & { memoryBytes: number };

const GB = 1e9;
const MODELS = ['qwen2.5-0.5b', 'llama-3.2-1b', 'qwen2.5-1.5b'];
const OBJECTIVES = ['worst-latency', 'mean-latency', 'network'] as const;
/** Placements the brute force may enumerate per instance (all users together). */
const MAX_COMBINATIONS = 1_000;

function tiny(seed: number): unknown {
  const rand = mulberry32(seed * 7919 + 11);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  const servers: RawServer[] = Array.from({ length: int(1, 2) }, (_, n) => ({
    id: `s${n}`,
    device: pick(['l4', 'jetson-orin-nx-16gb', 'a10']),
    memoryBytes: int(2, 8) * GB,
    ...(rand() < 0.25 ? { maxUtilisation: 0.3 } : {}),
  }));
  const moduleCount = int(2, 3);
  let users = int(1, 3);
  while ((1 + servers.length) ** (moduleCount * users) > MAX_COMBINATIONS) users--;
  const base = pick(MODELS);
  const diamond = moduleCount === 3 && rand() < 0.4;
  const modules = Array.from({ length: moduleCount }, (_, k) => {
    const shares = k > 0 && rand() < 0.35;
    const inputs = diamond ? (k === 2 ? ['m0', 'm1'] : []) : k === 0 ? [] : [`m${k - 1}`];
    return {
      id: `m${k}`,
      model: shares ? base : pick(MODELS),
      ...(shares ? { lora: { rank: 8 } } : {}),
      inputs,
      inputTokens: int(50, 400),
      outputTokens: int(0, 40),
      ...(rand() < 0.3 ? { outputBytes: int(1, 4000) * 1000 } : {}),
      ...(inputs.length === 0 && rand() < 0.5 ? { sourceBytes: int(1, 2000) * 1000 } : {}),
      ...(rand() < 0.12 ? { pin: pick(['device', 'edge'] as const) } : {}),
    };
  });
  const objective = OBJECTIVES[seed % 3];
  const rawUsers: RawUser[] = Array.from({ length: users }, (_, u) => {
    const reach = servers.filter((_, n) => n === u % servers.length || rand() < 0.5);
    return {
      id: `u${u}`,
      device: { id: pick(['phone', 'snapdragon-8-gen-3', 'raspberry-pi-5-8gb']) },
      memoryBytes: int(1, 5) * GB,
      links: reach.map((s) => ({
        server: s.id as string,
        link: {
          uplinkBitsPerSecond: int(5, 200) * 1e6,
          downlinkBitsPerSecond: int(10, 400) * 1e6,
          latencySeconds: int(1, 30) / 1000,
        },
      })),
      interactionsPerSecond: int(1, 20) / 10,
      ...(rand() < 0.25 ? { latencySloSeconds: int(5, 60) / 10 } : {}),
    };
  });
  const edgeLinks =
    servers.length === 2 && rand() < 0.7
      ? [
          {
            between: ['s0', 's1'],
            link: { uplinkBitsPerSecond: 1e9, downlinkBitsPerSecond: 5e8, latencySeconds: 0.002 },
          },
        ]
      : [];
  return {
    kind: 'agent-placement',
    tasks: [{ id: 't', modules }],
    servers,
    edgeLinks,
    users: rawUsers,
    objective,
    parameterSharing: rand() >= 0.2,
  };
}

function bruteForce(raw: unknown): BruteForce {
  const p = F.parse(raw);
  const L = 1 + p.servers.length;
  const names = ['device', ...p.servers.map((s) => s.id)];
  const slots = p.users.flatMap((u, i) => p.tasks[u.task].modules.map((m) => ({ user: i, module: m.id })));
  let best = Infinity;
  const digits = slots.map(() => 0);
  for (;;) {
    const placements = p.users.map((u, i) => ({
      user: u.id,
      modules: slots
        .map((s, k) => ({ s, k }))
        .filter(({ s }) => s.user === i)
        .map(({ s, k }) => ({ module: s.module, at: names[digits[k]] })),
    }));
    const e = F.evaluate(p, { placements });
    if (e.feasible && e.objective < best) best = e.objective;
    let k = 0;
    while (k < digits.length && ++digits[k] === L) digits[k++] = 0;
    if (k === digits.length) break;
  }
  return best === Infinity ? { status: 'infeasible' } : { status: 'optimal', objective: best };
}

const scaleLinks = (u: RawUser, f: number): RawUser => ({
  ...u,
  links: u.links.map((l) => ({
    ...l,
    link: {
      ...l.link,
      uplinkBitsPerSecond: l.link.uplinkBitsPerSecond * f,
      downlinkBitsPerSecond: l.link.downlinkBitsPerSecond * f,
    },
  })),
});

const relaxations: Relaxation[] = [
  {
    name: '4 GB more memory on every edge server',
    apply: (raw) => {
      const r = raw as Raw & { servers: RawServer[] };
      return { ...r, servers: r.servers.map((s) => ({ ...s, memoryBytes: s.memoryBytes + 4 * GB })) };
    },
  },
  {
    name: 'a faster device (45 TFLOP/s, 154 GB/s: above every generated one)',
    apply: (raw) => {
      const r = raw as Raw & { users: RawUser[] };
      return {
        ...r,
        users: r.users.map((u) => ({
          ...u,
          device: { ...u.device, peakFlopsPerSecond: 45e12, memoryBandwidthBytesPerSecond: 153.6e9 },
        })),
      };
    },
  },
  {
    name: 'faster links (twice the rates, device ↔ edge and edge ↔ edge)',
    apply: (raw) => {
      const r = raw as Raw & { users: RawUser[]; edgeLinks: { between: string[]; link: RawLink }[] };
      return {
        ...r,
        users: r.users.map((u) => scaleLinks(u, 2)),
        edgeLinks: r.edgeLinks.map((e) => ({
          ...e,
          link: {
            ...e.link,
            uplinkBitsPerSecond: 2 * e.link.uplinkBitsPerSecond,
            downlinkBitsPerSecond: 2 * e.link.downlinkBitsPerSecond,
          },
        })),
      };
    },
  },
];

const generator: ContractGenerator = {
  kind: 'agent-placement',
  tiny,
  bruteForce,
  relaxations,
  seeds: 12,
};

export default generator;
