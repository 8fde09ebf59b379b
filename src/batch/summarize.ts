/**
 * `edgeplan summarize`: the tables `edgeplan bench` prints — outcomes, optimum/peer ratios, solve
 * times, failures — computed from batch output instead of the bench suites. Ratios follow the
 * bench's convention (RATIO_CONVENTION) and are taken only against a certified optimum.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { RATIO_CONVENTION, ratioStats, type RatioStats } from '../bench/runner.ts';
import { formatRatio, formatSeconds, toMarkdown, toText, type Table } from '../bench/table.ts';
import { UsageError } from '../errors.ts';
import type { BatchRecord } from './types.ts';

export const RATIO_HEADER = 'ratio (≤ 1: optimum at least as good)';

const NO_POINT = ['infeasible', 'unbounded', 'infeasible_or_unbounded'];

export interface KindOutcomes {
  readonly kind: string;
  readonly sense: string;
  readonly instances: number;
  /** Certified optimal (our gap within mipGap). */
  readonly optimal: number;
  /** A decision held but not proven optimal (time or node limit, a failed certificate). */
  readonly feasible: number;
  /** Infeasible, unbounded or infeasible-or-unbounded. */
  readonly noPoint: number;
  /** No decision and no proof (a limit reached first, every method failed). */
  readonly noSolution: number;
  readonly errors: number;
}

export interface PeerOutcomes {
  readonly kind: string;
  readonly peer: string;
  /** Instances the peer ran on. */
  readonly runs: number;
  readonly feasible: number;
  readonly noDecision: number;
  /** Its decision failed evaluate. */
  readonly rejected: number;
  /** Feasible peer decisions on instances without a certified optimum: no ratio. */
  readonly unrated: number;
  readonly ratio: RatioStats;
}

export interface MethodTimes {
  readonly kind: string;
  readonly method: string;
  readonly instances: number;
  readonly medianSeconds: number;
  readonly p90Seconds: number;
  readonly maxSeconds: number;
  readonly totalSeconds: number;
}

export interface Failure {
  readonly id: string;
  readonly kind: string | null;
  readonly what: string;
}

export interface BatchSummary {
  readonly instances: number;
  readonly kinds: readonly KindOutcomes[];
  readonly peers: readonly PeerOutcomes[];
  readonly times: readonly MethodTimes[];
  readonly failures: readonly Failure[];
  readonly ratioConvention: string;
}

/** The value at quantile q of sorted values (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function failureOf(r: BatchRecord): Failure | null {
  if (r.error !== null) {
    const where = r.error.path !== undefined ? `${r.error.path}: ` : '';
    const file = r.error.file !== undefined ? ` (in ${r.error.file})` : '';
    return { id: r.id, kind: r.kind, what: `line ${r.error.line}: ${where}${r.error.rule}${file}` };
  }
  if (r.objective !== null || (r.termination !== null && NO_POINT.includes(r.termination))) return null;
  const why = r.explanation !== null ? `: ${r.explanation}` : '';
  return { id: r.id, kind: r.kind, what: `${r.termination ?? 'no termination'}, no solution${why}` };
}

const byKey = <T>(map: Map<string, T>, key: string, make: () => T): T => {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
};

export function summarizeRecords(records: readonly BatchRecord[]): BatchSummary {
  const kinds = new Map<
    string,
    { sense: string; counts: Omit<KindOutcomes, 'kind' | 'sense'> & Record<string, number> }
  >();
  const peers = new Map<
    string,
    {
      kind: string;
      peer: string;
      runs: number;
      feasible: number;
      noDecision: number;
      rejected: number;
      unrated: number;
      ratios: number[];
    }
  >();
  const times = new Map<string, { kind: string; method: string; seconds: number[] }>();
  const failures: Failure[] = [];
  for (const r of records) {
    const kind = r.kind ?? '(unparsed)';
    const entry = byKey(kinds, kind, () => ({
      sense: r.sense ?? '-',
      counts: { instances: 0, optimal: 0, feasible: 0, noPoint: 0, noSolution: 0, errors: 0 },
    }));
    entry.counts.instances++;
    const failure = failureOf(r);
    if (failure !== null) failures.push(failure);
    if (r.error !== null) entry.counts.errors++;
    else if (r.termination === 'optimal' && r.objective !== null) entry.counts.optimal++;
    else if (r.objective !== null) entry.counts.feasible++;
    else if (r.termination !== null && NO_POINT.includes(r.termination)) entry.counts.noPoint++;
    else entry.counts.noSolution++;
    if (r.error === null && r.method !== null) {
      byKey(times, `${kind}\u0000${r.method}`, () => ({ kind, method: r.method ?? '-', seconds: [] })).seconds.push(
        r.timeSeconds,
      );
    }
    for (const p of r.peers ?? []) {
      const s = byKey(peers, `${kind}\u0000${p.name}`, () => ({
        kind,
        peer: p.name,
        runs: 0,
        feasible: 0,
        noDecision: 0,
        rejected: 0,
        unrated: 0,
        ratios: [],
      }));
      s.runs++;
      if (p.feasible === true) s.feasible++;
      else if (p.feasible === false) s.rejected++;
      else s.noDecision++;
      if (p.ratio !== null) s.ratios.push(p.ratio);
      else if (p.feasible === true) s.unrated++;
    }
  }
  const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return {
    instances: records.length,
    kinds: [...kinds.entries()]
      .sort(([a], [b]) => order(a, b))
      .map(([kind, e]) => ({ kind, sense: e.sense, ...e.counts })),
    peers: [...peers.values()]
      .sort((a, b) => order(a.kind, b.kind) || order(a.peer, b.peer))
      .map(({ ratios, ...rest }) => ({ ...rest, ratio: ratioStats(ratios) })),
    times: [...times.values()]
      .sort((a, b) => order(a.kind, b.kind) || order(a.method, b.method))
      .map(({ kind, method, seconds }) => {
        const sorted = [...seconds].sort((x, y) => x - y);
        return {
          kind,
          method,
          instances: sorted.length,
          medianSeconds: quantile(sorted, 0.5),
          p90Seconds: quantile(sorted, 0.9),
          maxSeconds: sorted[sorted.length - 1],
          totalSeconds: sorted.reduce((t, v) => t + v, 0),
        };
      }),
    failures,
    ratioConvention: RATIO_CONVENTION,
  };
}

export async function readRecords(file: string, cwd = process.cwd()): Promise<BatchRecord[]> {
  const records: BatchRecord[] = [];
  const reader = createInterface({ input: createReadStream(resolve(cwd, file), 'utf8'), crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of reader) {
      line++;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text) as unknown;
      } catch {
        throw new UsageError(
          `${file}:${line}: not a JSON line (a cut-off batch output? run edgeplan merge on it first)`,
        );
      }
      if (typeof value !== 'object' || value === null || !('id' in value) || !('error' in value)) {
        throw new UsageError(`${file}:${line}: not a batch output line (no "id" and "error" fields)`);
      }
      records.push(value as BatchRecord);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new UsageError(`${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`);
  }
  return records;
}

export function summaryTables(summary: BatchSummary, maxFailures = 20): Table[] {
  const tables: Table[] = [
    {
      title: `Outcomes per formulation (${summary.instances} instances)`,
      header: [
        'formulation',
        'sense',
        'instances',
        'optimal',
        'feasible, not proven',
        'infeasible/unbounded',
        'no solution',
        'errors',
      ],
      rows: summary.kinds.map((k) =>
        [k.kind, k.sense, k.instances, k.optimal, k.feasible, k.noPoint, k.noSolution, k.errors].map(String),
      ),
      note:
        'optimal: our certified gap within mipGap; feasible, not proven: a decision held at a limit or after a ' +
        'failed certificate; no solution: a limit reached or every method failed without a decision.',
    },
  ];
  if (summary.peers.length > 0) {
    tables.push({
      title: 'Optimum vs peers',
      header: [
        'formulation',
        'peer',
        'runs',
        'ratios',
        `mean ${RATIO_HEADER}`,
        'worst (closest peer)',
        'best (largest gain)',
        'no decision',
        'rejected by evaluate',
        'unrated (no certified optimum)',
      ],
      rows: summary.peers.map((p) => [
        p.kind,
        p.peer,
        String(p.runs),
        String(p.ratio.count),
        formatRatio(p.ratio.mean),
        formatRatio(p.ratio.worst),
        formatRatio(p.ratio.best),
        String(p.noDecision),
        String(p.rejected),
        String(p.unrated),
      ]),
      note: `${summary.ratioConvention}.`,
    });
  }
  tables.push({
    title: 'Solve times (wall clock per instance: warm start, compile, methods, certification; peers not included)',
    header: ['formulation', 'method', 'instances', 'median', 'p90', 'max', 'total'],
    rows: summary.times.map((t) => [
      t.kind,
      t.method,
      String(t.instances),
      formatSeconds(t.medianSeconds),
      formatSeconds(t.p90Seconds),
      formatSeconds(t.maxSeconds),
      formatSeconds(t.totalSeconds),
    ]),
  });
  const shown = summary.failures.slice(0, maxFailures);
  const more = summary.failures.length - shown.length;
  tables.push({
    title: `Failures (${summary.failures.length}: error lines, and no solution without a proof of infeasibility)`,
    header: ['id', 'formulation', 'what'],
    rows: shown.map((f) => [f.id, f.kind ?? '-', f.what]),
    ...(more > 0 ? { note: `… and ${more} more (--max-failures N shows more)` } : {}),
  });
  return tables;
}

export function formatSummary(summary: BatchSummary, format: 'text' | 'markdown', maxFailures = 20): string {
  const render = format === 'markdown' ? toMarkdown : toText;
  return `${summaryTables(summary, maxFailures).map(render).join('\n\n')}\n`;
}
