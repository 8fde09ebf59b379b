/**
 * Seeded generator of realistic pipeline-placement instances: a pool of mixed edge devices spread
 * over sites, fast wired links inside a site, slower (often wireless) links between sites, and a
 * per-pair spread so that no two directed links are alike. Used by the benchmark's scaling series.
 */
import { mulberry32 as rng } from '../../util/random.ts';

const PALETTE = [
  'rtx-3090',
  'jetson-agx-orin-64gb',
  'jetson-agx-orin-32gb',
  'jetson-orin-nx-16gb',
  'a100-80gb',
  'rtx-3090',
  'jetson-agx-orin-64gb',
  'jetson-agx-orin-32gb',
] as const;

/** Rate (bit/s) and latency (s) inside a site and between sites, before the per-pair spread. */
const INSIDE = { bitsPerSecond: 10e9, latencySeconds: 1e-4 };
const BETWEEN = [
  { bitsPerSecond: 1e9, latencySeconds: 2e-3 },
  { bitsPerSecond: 500e6, latencySeconds: 3e-3 },
  { bitsPerSecond: 300e6, latencySeconds: 5e-3 },
];

export interface PoolOptions {
  readonly seed: number;
  readonly servers: number;
  readonly model: string;
  /** The `mode` object of the problem, as written in JSON. */
  readonly mode: Record<string, unknown>;
  /** Sites the servers are spread over (default ⌈servers / 4⌉). */
  readonly sites?: number;
  /** Pin the first server as the source. */
  readonly pinSource?: boolean;
  readonly serverOrder?: 'any' | 'listed';
}

export function generatePipelineInput(o: PoolOptions): Record<string, unknown> {
  const random = rng(o.seed);
  const n = o.servers;
  const sites = o.sites ?? Math.max(1, Math.ceil(n / 4));
  const site = Array.from({ length: n }, (_, i) => i % sites);
  const servers = Array.from({ length: n }, (_, i) => {
    const device = i === 0 && o.pinSource ? 'jetson-orin-nx-16gb' : PALETTE[Math.floor(random() * PALETTE.length)];
    return { name: `${device.replace(/^jetson-/, '')}-${i}`, device };
  });
  const bitsPerSecondMatrix: (number | null)[][] = [];
  const latencySecondsMatrix: number[][] = [];
  for (let i = 0; i < n; i++) {
    bitsPerSecondMatrix.push([]);
    latencySecondsMatrix.push([]);
    for (let j = 0; j < n; j++) {
      if (i === j) {
        bitsPerSecondMatrix[i].push(null);
        latencySecondsMatrix[i].push(0);
        continue;
      }
      const a = Math.min(site[i], site[j]);
      const b = Math.max(site[i], site[j]);
      const base = a === b ? INSIDE : BETWEEN[(a + b) % BETWEEN.length];
      const spread = 0.6 + 0.8 * random();
      bitsPerSecondMatrix[i].push(Math.round(base.bitsPerSecond * spread));
      latencySecondsMatrix[i].push(Number((base.latencySeconds * (2 - spread)).toPrecision(4)));
    }
  }
  return {
    kind: 'pipeline-placement',
    description: `generated: ${n} mixed edge servers over ${sites} sites (seed ${o.seed})`,
    model: o.model,
    mode: o.mode,
    servers,
    links: { bitsPerSecondMatrix, latencySecondsMatrix },
    ...(o.pinSource ? { source: servers[0].name } : {}),
    ...(o.serverOrder ? { serverOrder: o.serverOrder } : {}),
  };
}
