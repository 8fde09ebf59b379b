/**
 * The benchmark runner. Per instance it parses the problem once, compiles the MILP once, and
 * times every method on that one compiled model (so backend time ratios compare solvers, not
 * compilations); every returned decision is re-checked by the family's `evaluate`, and every
 * peer baseline is scored by the same `evaluate`. A failure in one instance (bad input, an
 * exception, no solution within the limit) becomes a failed row; the run goes on.
 */
import { availableParallelism, cpus, platform, release } from 'node:os';
import {
  findContradictions,
  parseProblem,
  SolveSession,
  type Certified,
  type CompareRow,
  type ParsedProblem,
} from '../api.ts';
import { getBackend } from '../backends/registry.ts';
import { BACKEND_NAMES } from '../backends/types.ts';
import { ModelBuilder, type Sense } from '../milp/model.ts';
import { DEFAULT_MIP_GAP, type Termination } from '../milp/result.ts';
import type { BenchInstance, BenchMethod, BenchSuite, ScalingSeries } from './types.ts';

/** Time limit per method when an instance names none. */
export const DEFAULT_TIME_LIMIT_SECONDS = 30;
/** A method whose first solve takes longer than this is not repeated (budget: the whole bench < 15 min). */
export const REPEAT_CUTOFF_SECONDS = 5;

export interface MethodRun {
  readonly method: BenchMethod;
  readonly termination: Termination;
  /** evaluate's objective of the decision, null when there is none (or it was rejected). */
  readonly objective: number | null;
  readonly bound: number | null;
  readonly gap: number | null;
  /** Wall-clock seconds of each repeat (the solve only; compilation is timed once per instance). */
  readonly timesSeconds: readonly number[];
  readonly medianSeconds: number;
  readonly message?: string;
}

export interface PeerRun {
  readonly name: string;
  /** evaluate's objective, null when the peer found no decision or its decision is infeasible. */
  readonly objective: number | null;
  readonly feasible: boolean | null;
  readonly timeSeconds: number;
  /** See RATIO_CONVENTION; null without a feasible peer decision or a comparable optimum. */
  readonly ratio: number | null;
  readonly message?: string;
}

export interface InstanceResult {
  readonly suite: string;
  readonly instance: string;
  readonly description: string;
  /** `failed`: bad input, an exception, or no method produced a solution (reason says which). */
  readonly status: 'ok' | 'infeasible' | 'failed';
  readonly reason?: string;
  readonly sense: Sense | null;
  /** What the objective measures and in which unit (the family's objectiveLabel). */
  readonly objectiveLabel: string | null;
  readonly timeLimitSeconds: number;
  readonly compileSeconds: number | null;
  readonly methods: readonly MethodRun[];
  readonly peers: readonly PeerRun[];
  /** The best objective among methods that proved optimality, else the best feasible one. */
  readonly optimum: { readonly method: BenchMethod; readonly objective: number; readonly proven: boolean } | null;
  /** Whether every method that claims `optimal` reports the same objective (within the MIP gap). */
  readonly agreement: boolean | null;
  /** Methods contradicting each other: an `infeasible` claim against an evaluate-checked solution, or optima that differ. */
  readonly conflicts: readonly string[];
  /** Median-time ratios such as `glpk/highs`, between methods that both proved optimality. */
  readonly timeRatios: Readonly<Record<string, number>>;
}

export interface ScalingPoint {
  readonly size: number;
  readonly method: BenchMethod;
  readonly termination: Termination;
  readonly objective: number | null;
  readonly seconds: number;
  readonly message?: string;
}

export interface ScalingResult {
  readonly suite: string;
  readonly parameter: string;
  readonly timeLimitSeconds: number;
  readonly points: readonly ScalingPoint[];
  /** A point that could not be run at all (bad input). */
  readonly failures: readonly { readonly size: number; readonly reason: string }[];
}

export interface RatioStats {
  readonly count: number;
  readonly mean: number | null;
  /** The largest ratio: the peer that came closest to (or beat, if > 1) the optimum. */
  readonly worst: number | null;
  /** The smallest ratio: where the optimum's advantage was largest. */
  readonly best: number | null;
}

export interface SuiteSummary {
  readonly suite: string;
  readonly sense: string;
  readonly instances: number;
  readonly failed: number;
  /** Instances where methods contradict each other (see InstanceResult.conflicts). */
  readonly conflicts: number;
  /** Over every (instance, peer) pair with a ratio. */
  readonly ratio: RatioStats;
  readonly perPeer: Readonly<Record<string, RatioStats>>;
  /** Geometric mean over instances of each time ratio. */
  readonly timeRatios: Readonly<Record<string, number>>;
}

export interface MachineInfo {
  readonly node: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cores: number;
}

export interface BenchResults {
  readonly startedAt: string;
  readonly machine: MachineInfo;
  readonly options: { readonly repeat: number; readonly suites: readonly string[] };
  readonly ratioConvention: string;
  readonly instances: readonly InstanceResult[];
  readonly scaling: readonly ScalingResult[];
  readonly summaries: readonly SuiteSummary[];
  readonly totalSeconds: number;
}

export const RATIO_CONVENTION =
  'ratio = optimum/peer for minimisation, peer/optimum for maximisation: ≤ 1 means the optimum is at least as good as the peer (0.80 = the peer is 25% worse on a minimisation); > 1 would mean a peer beat the optimum';

export interface BenchProgress {
  start(total: number): void;
  /** Called once per unit of work (a method on an instance, a baseline set, a scaling point). */
  step(label: string): void;
  stop(): void;
}

export const silentProgress: BenchProgress = { start() {}, step() {}, stop() {} };

export interface BenchOptions {
  /** Repeats per method; the median is reported. Default 3. */
  readonly repeat?: number;
  readonly progress?: BenchProgress;
  /** Skip the scaling series (tests). */
  readonly scaling?: boolean;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
  };
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}

/** ≤ 1 when the optimum is at least as good (see RATIO_CONVENTION); null when signs make a ratio meaningless. */
export function optimumPeerRatio(sense: Sense, optimum: number, peer: number): number | null {
  if (!Number.isFinite(optimum) || !Number.isFinite(peer)) return null;
  if (optimum === peer) return 1;
  const [num, den] = sense === 'min' ? [optimum, peer] : [peer, optimum];
  // A ratio of objectives only reads as "x% better" when both are non-negative.
  if (num < 0 || den <= 0) return null;
  return num / den;
}

export function ratioStats(values: readonly number[]): RatioStats {
  if (values.length === 0) return { count: 0, mean: null, worst: null, best: null };
  return {
    count: values.length,
    mean: values.reduce((s, v) => s + v, 0) / values.length,
    worst: Math.max(...values),
    best: Math.min(...values),
  };
}

/** One method's certified outcome as a compare-style row (the bench checks contradictions as compare does). */
function rowOf(run: MethodRun): CompareRow {
  const feasible = run.objective !== null;
  return {
    method: run.method,
    kind: run.method === 'exact' ? 'exact' : 'backend',
    termination: run.termination,
    primalStatus: feasible ? 'feasible' : 'none',
    claim: null,
    objective: run.objective,
    bound: run.bound,
    gap: run.gap,
    timeSeconds: run.medianSeconds,
    feasible: feasible ? true : null,
    notes: [],
  };
}

/** Runs one method once through the chain's session (compile and warm start are cached in it). */
async function attempt(
  session: SolveSession,
  method: BenchMethod,
): Promise<{ certified: Certified | null; seconds: number; message?: string }> {
  const start = performance.now();
  try {
    session.restartClock();
    const certified = await session.run(method);
    return { certified, seconds: certified.attempt.timeSeconds };
  } catch (error) {
    return { certified: null, seconds: secondsSince(start), message: errorText(error) };
  }
}

/** Solves with one method up to `repeat` times; the first solve decides whether to repeat. */
async function timeMethod(
  session: SolveSession,
  method: BenchMethod,
  compileError: string | null,
  repeat: number,
): Promise<MethodRun> {
  if (method !== 'exact' && compileError !== null) {
    return {
      method,
      termination: 'error',
      objective: null,
      bound: null,
      gap: null,
      timesSeconds: [],
      medianSeconds: 0,
      message: compileError,
    };
  }
  const first = await attempt(session, method);
  const times = [first.seconds];
  const c = first.certified;
  const termination: Termination = c?.attempt.termination ?? 'error';
  // Repeats only sharpen the median of quick, conclusive solves; a slow or limit-bound one is shown once.
  if (termination === 'optimal' && first.seconds <= REPEAT_CUTOFF_SECONDS) {
    for (let i = 1; i < repeat; i++) times.push((await attempt(session, method)).seconds);
  }
  const messages = [first.message, c?.attempt.message, ...(c?.attempt.notes ?? [])].filter(
    (m): m is string => m !== undefined,
  );
  return {
    method,
    termination,
    objective: c?.solution?.objective ?? null,
    bound: c?.solution?.bound ?? null,
    gap: c?.solution?.gap ?? null,
    timesSeconds: times,
    medianSeconds: median(times),
    ...(messages.length > 0 ? { message: messages.join('; ') } : {}),
  };
}

/** The methods an instance is timed with: its own list, else exact (where it applies) and every backend. */
function methodsFor(session: SolveSession, listed: readonly BenchMethod[] | undefined): BenchMethod[] {
  if (listed !== undefined) return [...listed];
  const methods: BenchMethod[] = [];
  if (session.exactApplicability() === null) methods.push('exact');
  if (session.formulation.compile !== undefined) methods.push(...BACKEND_NAMES);
  return methods;
}

/** Warm start (the peers, run once) and compilation, through the session; a compile failure is a message for each backend. */
function prepare(
  session: SolveSession,
  needsModel: boolean,
): { compileSeconds: number | null; compileError: string | null } {
  session.warmStart();
  if (!needsModel || session.formulation.compile === undefined) {
    return {
      compileSeconds: null,
      compileError:
        session.formulation.compile === undefined && needsModel
          ? `kind ${session.parsed.kind} has no MILP compilation`
          : null,
    };
  }
  try {
    session.compile();
    return { compileSeconds: session.compileSeconds, compileError: null };
  } catch (error) {
    return { compileSeconds: null, compileError: `compile failed: ${errorText(error)}` };
  }
}

function peerRuns(session: SolveSession): Omit<PeerRun, 'ratio'>[] {
  return session.runPeers().map((p) => {
    const feasible = p.evaluation?.feasible ?? null;
    const objective = feasible === true ? (p.evaluation?.objective ?? null) : null;
    return {
      name: p.name,
      objective,
      feasible,
      timeSeconds: p.timeSeconds,
      ...(p.message !== undefined ? { message: p.message } : {}),
    };
  });
}

/**
 * Methods contradicting each other on one instance, by compare's rules (findContradictions):
 * `agreement` is null when fewer than two methods proved optimality.
 */
export function findConflicts(
  runs: readonly Pick<MethodRun, 'method' | 'termination' | 'objective'>[],
  sense: Sense = 'min',
): { agreement: boolean | null; conflicts: string[] } {
  const rows = runs.map((r) => rowOf({ bound: null, gap: null, timesSeconds: [], medianSeconds: 0, ...r }));
  const conflicts = findContradictions(rows, sense, DEFAULT_MIP_GAP);
  const proven = runs.filter((r) => r.termination === 'optimal' && r.objective !== null);
  return { agreement: proven.length > 1 ? conflicts.length === 0 : null, conflicts };
}

function better(sense: Sense, a: number, b: number): boolean {
  return sense === 'min' ? a < b : a > b;
}

/** Runs one instance; never throws. */
export async function runInstance(
  suite: string,
  instance: BenchInstance,
  repeat: number,
  progress: BenchProgress = silentProgress,
): Promise<InstanceResult> {
  const timeLimitSeconds = instance.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
  const base = { suite, instance: instance.name, description: instance.description, timeLimitSeconds };
  const failed = (reason: string, extra: Partial<InstanceResult> = {}): InstanceResult => ({
    ...base,
    status: 'failed',
    reason,
    sense: null,
    objectiveLabel: null,
    compileSeconds: null,
    methods: [],
    peers: [],
    optimum: null,
    agreement: null,
    conflicts: [],
    timeRatios: {},
    ...extra,
  });
  let parsed: ParsedProblem;
  try {
    parsed = parseProblem(instance.problem);
  } catch (error) {
    progress.step(`${suite}/${instance.name}: failed`);
    return failed(
      `bad input: ${error instanceof Error && 'path' in error && 'rule' in error ? `${String(error.path)}: ${String(error.rule)}` : errorText(error)}`,
    );
  }
  try {
    const session = new SolveSession(parsed, { timeLimitSeconds, mipGap: DEFAULT_MIP_GAP });
    const sense = parsed.sense;
    const methods = methodsFor(session, instance.methods);
    const peerList = peerRuns(session);
    const { compileSeconds, compileError } = prepare(
      session,
      methods.some((m) => m !== 'exact'),
    );
    const runs: MethodRun[] = [];
    for (const method of methods) {
      runs.push(await timeMethod(session, method, compileError, repeat));
      progress.step(`${suite}/${instance.name}: ${method} ${runs[runs.length - 1].termination}`);
    }
    const solved = runs.filter((r): r is MethodRun & { objective: number } => r.objective !== null);
    const proven = solved.filter((r) => r.termination === 'optimal');
    const pool = proven.length > 0 ? proven : solved;
    const bestRun = pool.reduce<(MethodRun & { objective: number }) | null>(
      (b, r) => (b === null || better(sense, r.objective, b.objective) ? r : b),
      null,
    );
    const optimum =
      bestRun === null ? null : { method: bestRun.method, objective: bestRun.objective, proven: proven.length > 0 };
    const { agreement, conflicts } = findConflicts(runs, sense);
    progress.step(`${suite}/${instance.name}: ${peerList.length} peers`);
    const peers: PeerRun[] = peerList.map((p) => ({
      ...p,
      ratio: optimum !== null && p.objective !== null ? optimumPeerRatio(sense, optimum.objective, p.objective) : null,
    }));
    const timeRatios: Record<string, number> = {};
    const highs = runs.find((r) => r.method === 'highs' && r.termination === 'optimal');
    if (highs !== undefined && highs.medianSeconds > 0) {
      for (const r of runs)
        if (r.method !== 'highs' && r.termination === 'optimal')
          timeRatios[`${r.method}/highs`] = r.medianSeconds / highs.medianSeconds;
    }
    const common = {
      ...base,
      sense,
      objectiveLabel: parsed.objectiveLabel,
      compileSeconds,
      methods: runs,
      peers,
      optimum,
      agreement,
      conflicts,
      timeRatios,
    };
    if (optimum !== null) return { ...common, status: 'ok' };
    if (runs.some((r) => r.termination === 'infeasible') && !runs.some((r) => r.termination === 'error')) {
      return { ...common, status: 'infeasible', reason: 'proven infeasible' };
    }
    const why =
      runs.length === 0
        ? 'no method applies'
        : runs.map((r) => `${r.method} ${r.termination}${r.message !== undefined ? ` (${r.message})` : ''}`).join('; ');
    return { ...common, status: 'failed', reason: `no solution: ${why}` };
  } catch (error) {
    progress.step(`${suite}/${instance.name}: failed`);
    return failed(`exception: ${errorText(error)}`);
  }
}

/** Times each method once per point of a scaling series (a curve, not a median). */
export async function runScaling(
  suite: string,
  series: ScalingSeries,
  progress: BenchProgress = silentProgress,
): Promise<ScalingResult> {
  const timeLimitSeconds = series.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
  const points: ScalingPoint[] = [];
  const failures: { size: number; reason: string }[] = [];
  for (const point of series.points) {
    try {
      const parsed = parseProblem(point.problem);
      const session = new SolveSession(parsed, { timeLimitSeconds, mipGap: DEFAULT_MIP_GAP });
      const methods = methodsFor(session, series.methods);
      const { compileError } = prepare(
        session,
        methods.some((m) => m !== 'exact'),
      );
      for (const method of methods) {
        const run = await timeMethod(session, method, compileError, 1);
        points.push({
          size: point.size,
          method,
          termination: run.termination,
          objective: run.objective,
          seconds: run.medianSeconds,
          ...(run.message !== undefined ? { message: run.message } : {}),
        });
      }
    } catch (error) {
      failures.push({ size: point.size, reason: errorText(error) });
    }
    progress.step(`${suite} scaling ${series.parameter}=${point.size}`);
  }
  return { suite, parameter: series.parameter, timeLimitSeconds, points, failures };
}

function geometricMean(values: readonly number[]): number {
  return Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length);
}

export function summarize(suite: string, results: readonly InstanceResult[]): SuiteSummary {
  const mine = results.filter((r) => r.suite === suite);
  const ratios: number[] = [];
  const perPeerValues: Record<string, number[]> = {};
  const timeValues: Record<string, number[]> = {};
  for (const r of mine) {
    for (const p of r.peers) {
      perPeerValues[p.name] ??= [];
      if (p.ratio !== null) {
        ratios.push(p.ratio);
        perPeerValues[p.name].push(p.ratio);
      }
    }
    for (const [key, value] of Object.entries(r.timeRatios)) (timeValues[key] ??= []).push(value);
  }
  const senses = [...new Set(mine.map((r) => r.sense).filter((s): s is Sense => s !== null))];
  return {
    suite,
    sense: senses.join('/') || '-',
    instances: mine.length,
    failed: mine.filter((r) => r.status === 'failed').length,
    conflicts: mine.filter((r) => r.conflicts.length > 0).length,
    ratio: ratioStats(ratios),
    perPeer: Object.fromEntries(Object.entries(perPeerValues).map(([k, v]) => [k, ratioStats(v)])),
    timeRatios: Object.fromEntries(Object.entries(timeValues).map(([k, v]) => [k, geometricMean(v)])),
  };
}

/**
 * Solves a two-variable MILP once with every backend, so that loading a solver (HiGHS's and
 * GLPK's WebAssembly) is not charged to the first instance that happens to use it.
 */
export async function warmUpBackends(): Promise<void> {
  const builder = new ModelBuilder('warm-up', 'max');
  const x = builder.addVariable('x', { type: 'integer', upper: 3 });
  const y = builder.binary('y');
  builder.lessEqual(
    'c',
    [
      { variable: x, coefficient: 1 },
      { variable: y, coefficient: 2 },
    ],
    4,
  );
  builder.addObjective(x, 1);
  builder.addObjective(y, 1);
  const model = builder.build();
  for (const name of BACKEND_NAMES) await getBackend(name).solve(model, { timeLimitSeconds: 10 });
}

/** Units of progress a suite will report, so a bar can show a total. */
function workUnits(instances: readonly BenchInstance[], scaling: readonly ScalingSeries[]): number {
  const perInstance = instances.reduce((s, i) => s + (i.methods?.length ?? BACKEND_NAMES.length + 1) + 1, 0);
  return perInstance + scaling.reduce((s, series) => s + series.points.length, 0);
}

/** Runs suites one after another; each suite's instances() / scaling() failing is itself a failed row. */
export async function runBench(suites: readonly BenchSuite[], options: BenchOptions = {}): Promise<BenchResults> {
  const start = performance.now();
  const startedAt = new Date().toISOString();
  const repeat = options.repeat ?? 3;
  const progress = options.progress ?? silentProgress;
  const withScaling = options.scaling ?? true;
  const prepared = suites.map((suite) => {
    let instances: BenchInstance[] = [];
    let scaling: ScalingSeries[] = [];
    let error: string | null = null;
    try {
      instances = suite.instances();
      scaling = withScaling ? suite.scaling() : [];
    } catch (e) {
      error = `suite could not build its instances: ${errorText(e)}`;
    }
    return { suite, instances, scaling, error };
  });
  await warmUpBackends();
  progress.start(prepared.reduce((s, p) => s + workUnits(p.instances, p.scaling), 0));
  const instances: InstanceResult[] = [];
  const scaling: ScalingResult[] = [];
  try {
    for (const p of prepared) {
      if (p.error !== null) {
        instances.push({
          suite: p.suite.kind,
          instance: '(suite)',
          description: '',
          status: 'failed',
          reason: p.error,
          sense: null,
          objectiveLabel: null,
          timeLimitSeconds: 0,
          compileSeconds: null,
          methods: [],
          peers: [],
          optimum: null,
          agreement: null,
          conflicts: [],
          timeRatios: {},
        });
        continue;
      }
      for (const instance of p.instances) instances.push(await runInstance(p.suite.kind, instance, repeat, progress));
      for (const series of p.scaling) scaling.push(await runScaling(p.suite.kind, series, progress));
    }
  } finally {
    progress.stop();
  }
  return {
    startedAt,
    machine: machineInfo(),
    options: { repeat, suites: suites.map((s) => s.kind) },
    ratioConvention: RATIO_CONVENTION,
    instances,
    scaling,
    summaries: suites.map((s) => summarize(s.kind, instances)),
    totalSeconds: secondsSince(start),
  };
}
