/**
 * Seeded instance generator for the caching family: servers and users dropped in a square area,
 * a user covered by every server within a radius (at least its nearest), and Zipf request
 * popularity mixed between a global ranking and a per-user ranking. Produces the raw problem
 * JSON a user would write, so examples, tests and the benchmark share one source.
 */
import { mulberry32 as seededRandom } from '../../util/random.ts';

export interface CachingInstanceOptions {
  readonly seed: number;
  /** Catalog model ids used as LoRA bases. */
  readonly bases: readonly string[];
  readonly adaptersPerBase: number;
  readonly includeBase: boolean;
  readonly servers: number;
  readonly storageBytesPerServer: number;
  readonly users: number;
  readonly areaMeters: number;
  readonly coverageRadiusMeters: number;
  readonly zipfExponent: number;
  /** Weight of the per-user ranking against the global one, in [0, 1]. */
  readonly personalization: number;
  /** Models each user requests (its top of the mixed ranking). */
  readonly modelsPerUser: number;
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export function generateCachingInput(o: CachingInstanceOptions): Record<string, unknown> {
  const rand = seededRandom(o.seed);
  const families = o.bases.map((model) => ({
    type: 'lora',
    id: model,
    model,
    adapters: o.adaptersPerBase,
    rank: 16,
    targets: ['q', 'v'],
    includeBase: o.includeBase,
  }));
  const modelIds = o.bases.flatMap((b) => [
    ...(o.includeBase ? [`${b}/base`] : []),
    ...Array.from({ length: o.adaptersPerBase }, (_, i) => `${b}/lora-${i + 1}`),
  ]);
  const globalRank = shuffle([...modelIds], rand);
  const zipf = (rank: number): number => 1 / (rank + 1) ** o.zipfExponent;
  const servers = Array.from({ length: o.servers }, (_, n) => ({
    id: `edge-${n + 1}`,
    x: rand() * o.areaMeters,
    y: rand() * o.areaMeters,
  }));
  const users = Array.from({ length: o.users }, (_, u) => {
    const x = rand() * o.areaMeters;
    const y = rand() * o.areaMeters;
    const dist = servers.map((s) => Math.hypot(s.x - x, s.y - y));
    const nearest = dist.indexOf(Math.min(...dist));
    const covering = servers.filter((_, n) => dist[n] <= o.coverageRadiusMeters || n === nearest).map((s) => s.id);
    const own = shuffle([...modelIds], rand);
    const score = new Map<string, number>();
    globalRank.forEach((m, r) => score.set(m, (1 - o.personalization) * zipf(r)));
    own.forEach((m, r) => score.set(m, (score.get(m) as number) + o.personalization * zipf(r)));
    const top = [...score.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, o.modelsPerUser);
    const total = top.reduce((s, [, v]) => s + v, 0);
    const requests: Record<string, number> = {};
    for (const [m, v] of top) requests[m] = Number((v / total).toFixed(6));
    return { id: `user-${u + 1}`, servers: covering, requests };
  });
  return {
    kind: 'model-caching',
    families,
    servers: servers.map((s) => ({ id: s.id, storageBytes: o.storageBytesPerServer })),
    users,
    objective: 'hit-ratio',
  };
}
