/**
 * Contract generator for model-caching: one or two families of 1–3 models sharing a base block
 * (sizes in whole GB), one or two servers with 2–9 GB (now and then none), one to three users with random request
 * probabilities. Hit-ratio instances give coverage as server lists (some users reach both servers,
 * coupling them; some one, where the exact method applies); expected-latency instances compute it
 * from links of different latencies, with a cloud that is sometimes faster than a far server (which
 * then serves nothing). Parameter sharing is off in one seed in four.
 * Brute force enumerates every subset of models on every server and values each decision with
 * evaluate — never the MILP or the exact method.
 */
import { fitsStorage, storageBytes } from '../../../src/formulations/model-caching/cost.ts';
import { emptyCached } from '../../../src/formulations/model-caching/decision.ts';
import { modelCaching as F } from '../../../src/formulations/model-caching/index.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

type Raw = Record<string, unknown>;
type RawServer = { id: string; storageBytes: number };
type RawUser = Raw & { id: string; servers?: string[]; links?: { server: string; link: Raw }[] };

const GB = 1e9;

function tiny(seed: number): unknown {
  const rand = mulberry32(seed * 104729 + 3);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const blocks: { id: string; sizeBytes: number }[] = [];
  const models: { id: string; blocks: string[] }[] = [];
  for (let f = 0; f < int(1, 2); f++) {
    blocks.push({ id: `base${f}`, sizeBytes: int(1, 6) * GB });
    for (let v = 0; v < int(1, 3); v++) {
      blocks.push({ id: `top${f}.${v}`, sizeBytes: int(1, 3) * GB });
      models.push({ id: `m${f}.${v}`, blocks: [`base${f}`, `top${f}.${v}`] });
    }
  }
  // Mostly tight storage (2–9 GB against 2–9 GB models), now and then none at all.
  const servers: RawServer[] = Array.from({ length: int(1, 2) }, (_, n) => ({
    id: `s${n}`,
    storageBytes: rand() < 0.1 ? 0 : int(2, 9) * GB,
  }));
  const latency = rand() < 0.4;
  const cloud = 1;
  const users: RawUser[] = Array.from({ length: int(1, 3) }, (_, u) => {
    const requests: Record<string, number> = {};
    for (const m of models) if (rand() < 0.7) requests[m.id] = Number(rand().toFixed(3));
    if (Object.values(requests).every((p) => p === 0)) requests[models[0].id] = 1;
    const reach = servers.filter(() => rand() < 0.5).map((s) => s.id);
    if (reach.length === 0 && rand() < 0.9) reach.push(servers[int(0, servers.length - 1)].id);
    if (!latency) return { id: `u${u}`, servers: reach, requests };
    // Serve latency = link latency (0.2–1.4 s; above the 1 s cloud for some) + a fast download.
    const links = reach.map((server) => ({
      server,
      link: {
        downlinkBitsPerSecond: 1e12,
        uplinkBitsPerSecond: 1e9,
        latencySeconds: Number((0.2 + 1.2 * rand()).toFixed(2)),
      },
    }));
    return { id: `u${u}`, links, latencyBoundSeconds: 10, requests };
  });
  return {
    kind: 'model-caching',
    blocks,
    models,
    servers,
    users,
    objective: latency ? 'expected-latency' : 'hit-ratio',
    ...(latency ? { cloudLatencySeconds: cloud } : {}),
    parameterSharing: rand() >= 0.25,
  };
}

function bruteForce(raw: unknown): BruteForce {
  const p = F.parse(raw);
  const M = p.models.length;
  const sign = p.objective === 'hit-ratio' ? 1 : -1;
  // Per server, every subset of models that fits.
  const fitting = p.servers.map((s) => {
    const subsets: number[][] = [];
    for (let mask = 0; mask < 1 << M; mask++) {
      const set = Array.from({ length: M }, (_, m) => m).filter((m) => mask & (1 << m));
      if (fitsStorage(storageBytes(p, set), s.storageBytes)) subsets.push(set);
    }
    return subsets;
  });
  let best = -Infinity;
  const chosen: number[][] = [];
  const visit = (n: number): void => {
    if (n === p.servers.length) {
      const cached = emptyCached();
      p.servers.forEach((s, k) => (cached[s.id] = chosen[k].map((m) => p.models[m].id)));
      const e = F.evaluate(p, { cached });
      if (e.feasible) best = Math.max(best, sign * e.objective);
      return;
    }
    for (const set of fitting[n]) {
      chosen[n] = set;
      visit(n + 1);
    }
  };
  visit(0);
  // The empty cache always fits, so there is always an optimum.
  return { status: 'optimal', objective: sign * best };
}

const relaxations: Relaxation[] = [
  {
    name: '2 GB more storage on every server',
    apply: (raw) => {
      const r = raw as Raw & { servers: RawServer[] };
      return { ...r, servers: r.servers.map((s) => ({ ...s, storageBytes: s.storageBytes + 2 * GB })) };
    },
  },
  { name: 'parameter sharing on', apply: (raw) => ({ ...(raw as Raw), parameterSharing: true }) },
  {
    name: 'every user reaches every server (hit ratio: coverage; latency: a 0.5 s link where there was none)',
    apply: (raw) => {
      const r = raw as Raw & { servers: RawServer[]; users: RawUser[] };
      const users = r.users.map((u) => {
        if (u.servers) return { ...u, servers: r.servers.map((s) => s.id) };
        const have = new Set((u.links ?? []).map((l) => l.server));
        const extra = r.servers
          .filter((s) => !have.has(s.id))
          .map((s) => ({
            server: s.id,
            link: { downlinkBitsPerSecond: 1e12, uplinkBitsPerSecond: 1e9, latencySeconds: 0.5 },
          }));
        return { ...u, links: [...(u.links ?? []), ...extra] };
      });
      return { ...r, users };
    },
  },
];

const generator: ContractGenerator = {
  kind: 'model-caching',
  tiny,
  bruteForce,
  relaxations,
  seeds: 12,
};

export default generator;
