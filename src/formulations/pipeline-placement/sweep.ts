/**
 * The seed's Fig. 5: total training time against the number of edge servers. For each count k the
 * problem is solved to optimality with exactly k stages — on the first k listed servers
 * (`pool: 'prefix'`, every one of them used) or on the best k of the whole pool (`pool: 'best'`).
 * More servers cut each stage's compute but add boundary transfers, so the curve is U-shaped.
 */
import { evaluatePipeline } from './evaluate.ts';
import { searchOptimum, planToDecision } from './exact.ts';
import { tablesOf } from './cost.ts';
import { trueCosts } from './dp.ts';
import { parsePipeline, type PipelineDecision } from './schema.ts';

export interface SweepPoint {
  readonly servers: number;
  readonly feasible: boolean;
  /** Total training time (iterations × iteration time), seconds; Infinity when infeasible. */
  readonly totalSeconds: number;
  readonly computeSeconds: number;
  readonly commSeconds: number;
  readonly bubbleSeconds: number;
  readonly decision: PipelineDecision | null;
}

function serverName(s: unknown, i: number): string {
  const name = typeof s === 'object' && s !== null && 'name' in s ? (s as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : `server${i}`;
}

/** The link description restricted to the first k servers (matrices cut, pairs to dropped servers removed). */
function restrictLinks(links: unknown, k: number, kept: ReadonlySet<string>): unknown {
  if (typeof links !== 'object' || links === null) return links;
  const out: Record<string, unknown> = { ...(links as Record<string, unknown>) };
  for (const key of ['bitsPerSecondMatrix', 'latencySecondsMatrix']) {
    const m = out[key];
    if (Array.isArray(m)) out[key] = m.slice(0, k).map((row: unknown) => (Array.isArray(row) ? row.slice(0, k) : row));
  }
  if (Array.isArray(out.pairs)) {
    out.pairs = out.pairs.filter((p: unknown) => {
      const q = p as { from?: unknown; to?: unknown };
      return typeof q.from === 'string' && typeof q.to === 'string' && kept.has(q.from) && kept.has(q.to);
    });
  }
  return out;
}

export function trainingTimeVsServers(
  raw: unknown,
  options: { counts?: readonly number[]; pool?: 'prefix' | 'best' } = {},
): SweepPoint[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new TypeError('expected a pipeline-placement problem object');
  const base = raw as Record<string, unknown>;
  const servers = Array.isArray(base.servers) ? base.servers : [];
  const counts = options.counts ?? servers.map((_, i) => i + 1);
  const pool = options.pool ?? 'prefix';
  return counts.map((k): SweepPoint => {
    const variant: Record<string, unknown> = { ...base, stages: k };
    delete variant.maxStages;
    if (pool === 'prefix') {
      const kept = servers.slice(0, k);
      variant.servers = kept;
      variant.links = restrictLinks(base.links, k, new Set(kept.map((s, i) => serverName(s, i))));
    }
    const problem = parsePipeline(variant);
    const out = searchOptimum(problem, trueCosts(tablesOf(problem)));
    if (!out.plan)
      return {
        servers: k,
        feasible: false,
        totalSeconds: Infinity,
        computeSeconds: 0,
        commSeconds: 0,
        bubbleSeconds: 0,
        decision: null,
      };
    const decision = planToDecision(problem, out.plan);
    const e = evaluatePipeline(problem, decision);
    const b = e.breakdown;
    if (b === null)
      throw new Error(`the exact search returned a malformed plan: ${e.violations.map((v) => v.message).join('; ')}`);
    const it = b.iterations;
    return {
      servers: k,
      feasible: e.feasible,
      totalSeconds: e.objective,
      computeSeconds: it * b.computeSeconds,
      commSeconds: it * b.commSeconds,
      bubbleSeconds: it * b.bubbleSeconds,
      decision,
    };
  });
}
