/**
 * The benchmark runner. Per instance it parses the problem once, compiles the MILP once, and
 * times every method on that one compiled model (so backend time ratios compare solvers, not
 * compilations); every returned decision is re-checked by the family's `evaluate`, and every
 * peer baseline is scored by the same `evaluate`. A failure in one instance (bad input, an
 * exception, no solution within the limit) becomes a failed row; the run goes on.
 */
import { availableParallelism, cpus, platform, release } from 'node:os';
import { parseProblem, OBJECTIVE_TOLERANCE, type ParsedProblem } from '../api.ts';
import { getBackend } from '../backends/registry.ts';
import { BACKEND_NAMES } from '../backends/types.ts';
import type { AnyFormulation, Compiled, ExactContext, SolveMilp } from '../formulations/types.ts';
import { ModelBuilder, type Sense } from '../milp/model.ts';
import { DEFAULT_MIP_GAP, relativeGap, type MilpResult, type Termination } from '../milp/result.ts';
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
  return { node: process.version, platform: `${platform()} ${release()}`, cpu: list[0]?.model.trim() ?? 'unknown', cores: availableParallelism() };
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
  return { count: values.length, mean: values.reduce((s, v) => s + v, 0) / values.length, worst: Math.max(...values), best: Math.min(...values) };
}

function senseOf(parsed: ParsedProblem): Sense {
  const f = parsed.formulation;
  return f.senseOf !== undefined ? f.senseOf.call(f, parsed.problem) : parsed.sense;
}

/** HiGHS, then GLPK when HiGHS errors — the MILP solver an exact method may call. */
function benchSolveMilp(mipGap: number): SolveMilp {
  return async (model, options = {}) => {
    let last: MilpResult | undefined;
    for (const name of ['highs', 'glpk'] as const) {
      last = await getBackend(name).solve(model, { mipGap, ...options });
      if (last.termination !== 'error') return last;
    }
    return last as MilpResult;
  };
}

interface Attempt {
  readonly termination: Termination;
  readonly objective: number | null;
  readonly bound: number | null;
  readonly gap: number | null;
  readonly seconds: number;
  readonly message?: string;
}

/** Runs one method once on an instance whose model (if any) is already compiled. */
async function attempt(formulation: AnyFormulation, problem: unknown, method: BenchMethod, compiled: Compiled<unknown> | null, timeLimitSeconds: number): Promise<Attempt> {
  const start = performance.now();
  const fail = (message: string, termination: Termination = 'error'): Attempt => ({ termination, objective: null, bound: null, gap: null, seconds: secondsSince(start), message });
  try {
    let decision: unknown;
    let solverObjective: number | undefined;
    let bound: number | undefined;
    let termination: Termination;
    let message: string | undefined;
    if (method === 'exact') {
      const exact = formulation.exact;
      if (exact === undefined) return fail(`kind ${formulation.kind} has no exact method`);
      const why = exact.notApplicable(problem);
      if (why !== null) return fail(`exact method does not apply: ${why}`);
      const context: ExactContext = { mipGap: DEFAULT_MIP_GAP, timeLimitSeconds, solveMilp: benchSolveMilp(DEFAULT_MIP_GAP) };
      const result = await exact.solve.call(exact, problem, context);
      termination = result.termination;
      decision = result.decision;
      bound = result.bound;
      message = result.message;
    } else {
      if (compiled === null) return fail(`kind ${formulation.kind} has no MILP compilation`);
      const backend = getBackend(method);
      const result = await backend.solve(compiled.model, {
        mipGap: DEFAULT_MIP_GAP,
        timeLimitSeconds,
        ...(compiled.warmStart !== undefined && backend.capabilities.warmStart ? { warmStart: compiled.warmStart } : {}),
      });
      termination = result.termination;
      message = result.message;
      if (result.solution !== null) {
        decision = compiled.decode(result.solution.values);
        solverObjective = result.solution.objective;
        bound = result.solution.bound;
      }
    }
    const seconds = secondsSince(start);
    if (decision === null || decision === undefined || termination === 'error' || termination === 'infeasible' || termination === 'unbounded') {
      return { termination: termination === 'optimal' ? 'error' : termination, objective: null, bound: null, gap: null, seconds, ...(message !== undefined ? { message } : termination === 'optimal' ? { message: 'reported optimal without a decision' } : {}) };
    }
    // Never the solver's word: the family's evaluate decides feasibility and the objective.
    const evaluation = formulation.evaluate(problem, decision);
    if (!evaluation.feasible) {
      return { termination: 'error', objective: null, bound: null, gap: null, seconds, message: `decision fails evaluate: ${evaluation.violations.slice(0, 2).map((v) => v.message).join('; ')}` };
    }
    const objective = evaluation.objective;
    if (solverObjective !== undefined && !(Math.abs(solverObjective - objective) <= OBJECTIVE_TOLERANCE * Math.max(1, Math.abs(objective)))) {
      return { termination: 'error', objective: null, bound: null, gap: null, seconds, message: `objective mismatch: solver ${solverObjective}, evaluate ${objective}` };
    }
    const hasBound = bound !== undefined && Number.isFinite(bound);
    return {
      termination,
      objective,
      bound: hasBound ? (bound as number) : null,
      gap: hasBound ? relativeGap(objective, bound as number) : null,
      seconds,
      ...(message !== undefined ? { message } : {}),
    };
  } catch (error) {
    return fail(errorText(error));
  }
}

/** Solves with one method up to `repeat` times; the first solve decides whether to repeat. */
async function timeMethod(formulation: AnyFormulation, problem: unknown, method: BenchMethod, compiled: Compiled<unknown> | null, compileError: string | null, timeLimitSeconds: number, repeat: number): Promise<MethodRun> {
  if (method !== 'exact' && compiled === null) {
    return { method, termination: 'error', objective: null, bound: null, gap: null, timesSeconds: [], medianSeconds: 0, message: compileError ?? `kind ${formulation.kind} has no MILP compilation` };
  }
  const first = await attempt(formulation, problem, method, compiled, timeLimitSeconds);
  const times = [first.seconds];
  // Repeats only sharpen the median of quick, conclusive solves; a slow or limit-bound one is shown once.
  if (first.termination === 'optimal' && first.seconds <= REPEAT_CUTOFF_SECONDS) {
    for (let i = 1; i < repeat; i++) times.push((await attempt(formulation, problem, method, compiled, timeLimitSeconds)).seconds);
  }
  return {
    method,
    termination: first.termination,
    objective: first.objective,
    bound: first.bound,
    gap: first.gap,
    timesSeconds: times,
    medianSeconds: median(times),
    ...(first.message !== undefined ? { message: first.message } : {}),
  };
}

/** The methods an instance is timed with: its own list, else exact (where it applies) and every backend. */
function methodsFor(formulation: AnyFormulation, problem: unknown, listed: readonly BenchMethod[] | undefined): BenchMethod[] {
  if (listed !== undefined) return [...listed];
  const methods: BenchMethod[] = [];
  if (formulation.exact !== undefined && formulation.exact.notApplicable(problem) === null) methods.push('exact');
  if (formulation.compile !== undefined) methods.push(...BACKEND_NAMES);
  return methods;
}

function compileOnce(formulation: AnyFormulation, problem: unknown): { compiled: Compiled<unknown> | null; seconds: number | null; error: string | null } {
  if (formulation.compile === undefined) return { compiled: null, seconds: null, error: null };
  const start = performance.now();
  try {
    const compiled = formulation.compile(problem);
    return { compiled, seconds: secondsSince(start), error: null };
  } catch (error) {
    return { compiled: null, seconds: secondsSince(start), error: `compile failed: ${errorText(error)}` };
  }
}

function runPeers(formulation: AnyFormulation, problem: unknown): Omit<PeerRun, 'ratio'>[] {
  return formulation.baselines.map((baseline) => {
    const start = performance.now();
    try {
      const decision = baseline.run(problem);
      const timeSeconds = secondsSince(start);
      if (decision === null) {
        let reason = 'its procedure found none';
        try {
          reason = baseline.whyNoDecision?.(problem) ?? reason;
        } catch (error) {
          reason = `whyNoDecision failed: ${errorText(error)}`;
        }
        return { name: baseline.name, objective: null, feasible: null, timeSeconds, message: `no decision: ${reason}` };
      }
      const evaluation = formulation.evaluate(problem, decision);
      if (!evaluation.feasible) {
        return { name: baseline.name, objective: null, feasible: false, timeSeconds, message: `infeasible: ${evaluation.violations.slice(0, 2).map((v) => v.message).join('; ')}` };
      }
      return { name: baseline.name, objective: evaluation.objective, feasible: true, timeSeconds };
    } catch (error) {
      return { name: baseline.name, objective: null, feasible: null, timeSeconds: secondsSince(start), message: `error: ${errorText(error)}` };
    }
  });
}

/**
 * Methods contradicting each other on one instance: two `optimal` claims with different
 * objectives, or an `infeasible`/`unbounded` claim while another method holds a solution that
 * passed evaluate. `agreement` is null when fewer than two methods proved optimality.
 */
export function findConflicts(runs: readonly Pick<MethodRun, 'method' | 'termination' | 'objective'>[]): { agreement: boolean | null; conflicts: string[] } {
  const conflicts: string[] = [];
  const proven = runs.filter((r): r is typeof r & { objective: number } => r.termination === 'optimal' && r.objective !== null);
  let agreement: boolean | null = null;
  if (proven.length > 1) {
    const values = proven.map((r) => r.objective);
    const scale = Math.max(1, ...values.map(Math.abs));
    agreement = Math.max(...values) - Math.min(...values) <= Math.max(OBJECTIVE_TOLERANCE, 2 * DEFAULT_MIP_GAP) * scale;
    if (!agreement) conflicts.push(`methods claiming optimal disagree: ${proven.map((r) => `${r.method} ${r.objective}`).join(', ')}`);
  }
  const holder = runs.find((r) => r.objective !== null);
  if (holder !== undefined) {
    for (const r of runs) {
      if (r.termination === 'infeasible' || r.termination === 'unbounded') conflicts.push(`${r.method} reports ${r.termination}, but ${holder.method} found a solution that passes evaluate`);
    }
  }
  return { agreement, conflicts };
}

function better(sense: Sense, a: number, b: number): boolean {
  return sense === 'min' ? a < b : a > b;
}

/** Runs one instance; never throws. */
export async function runInstance(suite: string, instance: BenchInstance, repeat: number, progress: BenchProgress = silentProgress): Promise<InstanceResult> {
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
    return failed(`bad input: ${error instanceof Error && 'path' in error && 'rule' in error ? `${String(error.path)}: ${String(error.rule)}` : errorText(error)}`);
  }
  try {
    const formulation = parsed.formulation;
    const problem = parsed.problem;
    const sense = senseOf(parsed);
    const methods = methodsFor(formulation, problem, instance.methods);
    const needsModel = methods.some((m) => m !== 'exact');
    const { compiled, seconds: compileSeconds, error: compileError } = needsModel ? compileOnce(formulation, problem) : { compiled: null, seconds: null, error: null };
    const runs: MethodRun[] = [];
    for (const method of methods) {
      runs.push(await timeMethod(formulation, problem, method, compiled, compileError, timeLimitSeconds, repeat));
      progress.step(`${suite}/${instance.name}: ${method} ${runs[runs.length - 1].termination}`);
    }
    const solved = runs.filter((r): r is MethodRun & { objective: number } => r.objective !== null);
    const proven = solved.filter((r) => r.termination === 'optimal');
    const pool = proven.length > 0 ? proven : solved;
    const bestRun = pool.reduce<(MethodRun & { objective: number }) | null>((b, r) => (b === null || better(sense, r.objective, b.objective) ? r : b), null);
    const optimum = bestRun === null ? null : { method: bestRun.method, objective: bestRun.objective, proven: proven.length > 0 };
    const { agreement, conflicts } = findConflicts(runs);
    const peerRuns = runPeers(formulation, problem);
    progress.step(`${suite}/${instance.name}: ${peerRuns.length} peers`);
    const peers: PeerRun[] = peerRuns.map((p) => ({ ...p, ratio: optimum !== null && p.objective !== null ? optimumPeerRatio(sense, optimum.objective, p.objective) : null }));
    const timeRatios: Record<string, number> = {};
    const highs = runs.find((r) => r.method === 'highs' && r.termination === 'optimal');
    if (highs !== undefined && highs.medianSeconds > 0) {
      for (const r of runs) if (r.method !== 'highs' && r.termination === 'optimal') timeRatios[`${r.method}/highs`] = r.medianSeconds / highs.medianSeconds;
    }
    const common = { ...base, sense, objectiveLabel: parsed.objectiveLabel, compileSeconds, methods: runs, peers, optimum, agreement, conflicts, timeRatios };
    if (optimum !== null) return { ...common, status: 'ok' };
    if (runs.some((r) => r.termination === 'infeasible') && !runs.some((r) => r.termination === 'error')) {
      return { ...common, status: 'infeasible', reason: 'proven infeasible' };
    }
    const why = runs.length === 0 ? 'no method applies' : runs.map((r) => `${r.method} ${r.termination}${r.message !== undefined ? ` (${r.message})` : ''}`).join('; ');
    return { ...common, status: 'failed', reason: `no solution: ${why}` };
  } catch (error) {
    progress.step(`${suite}/${instance.name}: failed`);
    return failed(`exception: ${errorText(error)}`);
  }
}

/** Times each method once per point of a scaling series (a curve, not a median). */
export async function runScaling(suite: string, series: ScalingSeries, progress: BenchProgress = silentProgress): Promise<ScalingResult> {
  const timeLimitSeconds = series.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
  const points: ScalingPoint[] = [];
  const failures: { size: number; reason: string }[] = [];
  for (const point of series.points) {
    try {
      const parsed = parseProblem(point.problem);
      const methods = methodsFor(parsed.formulation, parsed.problem, series.methods);
      const needsModel = methods.some((m) => m !== 'exact');
      const { compiled, error } = needsModel ? compileOnce(parsed.formulation, parsed.problem) : { compiled: null, error: null };
      for (const method of methods) {
        const run = await timeMethod(parsed.formulation, parsed.problem, method, compiled, error, timeLimitSeconds, 1);
        points.push({ size: point.size, method, termination: run.termination, objective: run.objective, seconds: run.medianSeconds, ...(run.message !== undefined ? { message: run.message } : {}) });
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
  builder.lessEqual('c', [{ variable: x, coefficient: 1 }, { variable: y, coefficient: 2 }], 4);
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
        instances.push({ suite: p.suite.kind, instance: '(suite)', description: '', status: 'failed', reason: p.error, sense: null, objectiveLabel: null, timeLimitSeconds: 0, compileSeconds: null, methods: [], peers: [], optimum: null, agreement: null, conflicts: [], timeRatios: {} });
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

