/**
 * Progress on stderr for long work. The solvers run synchronously on the main thread (HiGHS's
 * WASM `run`, GLPK, the exact methods' searches), so a timer there would never fire while one
 * works. The heartbeat therefore lives in a worker thread that writes straight to the file
 * descriptor (fs.writeSync, not process.stderr, which a worker forwards through the blocked main
 * thread). The main thread posts what is running and what the solver last reported (ChainHooks:
 * onStepStart, onProgress — HiGHS calls back synchronously from inside its run); the worker prints
 * the elapsed time and those facts: on a terminal one line rewritten in place, otherwise a plain
 * line every few seconds. Nothing is printed for work that ends within `afterSeconds`.
 */
import { Worker } from 'node:worker_threads';
import type { ChainHooks, ChainStep, Method, ProgressEvent } from '../solve/options.ts';

export interface ProgressOptions {
  /** File descriptor to write to; default 2 (stderr). */
  readonly fd?: number;
  /** One line rewritten in place (a terminal) rather than a new line each time. */
  readonly tty?: boolean;
  /** Say nothing for work shorter than this; default 1 s. */
  readonly afterSeconds?: number;
  /**
   * Seconds between redraws (terminal) or heartbeat lines (plain mode); default 0.5 and 5. In plain
   * mode a new exact phase is also printed at once, at most one line a second (`phaseSeconds`).
   */
  readonly everySeconds?: number;
  /** Plain mode: the least time between two lines when the phase changes; default 1 s. */
  readonly phaseSeconds?: number;
  /** Prefix of every line; default `edgeplan`. */
  readonly label?: string;
}

/** What the worker knows; the main thread overwrites fields as they change. */
export interface ProgressState {
  step?: string;
  method?: string;
  phase?: string;
  incumbent?: number;
  bound?: number;
  gap?: number;
  nodes?: number;
  iterations?: number;
  /**
   * A MILP that an exact method runs inside one of its phases (an LNS sub-problem, a relaxation):
   * its facts as text, kept apart because its bound is the sub-problem's, not the problem's.
   */
  inner?: string;
  /** Sweeps: points done and total. */
  done?: number;
  total?: number;
  point?: string;
}

export interface ProgressReporter {
  /** Hooks to hand to SolveOptions.hooks. */
  readonly hooks: ChainHooks;
  /** Overwrites part of the state (sweeps: the point; compare: the method). */
  update(state: ProgressState): void;
  /** Ends the heartbeat, clearing a terminal line. Idempotent. */
  stop(): Promise<void>;
}

/** One progress line from the state (exported for tests and for the docs' examples). */
export function progressLine(label: string, elapsedSeconds: number, s: ProgressState): string {
  const parts = [`${label}: ${formatElapsed(elapsedSeconds)}`];
  if (s.total !== undefined && s.done !== undefined) {
    const width = 20;
    const filled = s.total > 0 ? Math.round((width * s.done) / s.total) : 0;
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${s.done}/${s.total}`);
    if (s.point !== undefined) parts.push(s.point);
  }
  if (s.method !== undefined)
    parts.push(s.step === 'solve' || s.step === undefined ? s.method : `${s.step} ${s.method}`);
  else if (s.step !== undefined) parts.push(s.step);
  if (s.phase !== undefined) parts.push(s.phase);
  if (s.incumbent !== undefined) parts.push(`incumbent ${sig(s.incumbent)}`);
  if (s.bound !== undefined) parts.push(`bound ${sig(s.bound)}`);
  if (s.gap !== undefined) parts.push(`gap ${Number((s.gap * 100).toPrecision(3))}%`);
  if (s.nodes !== undefined) parts.push(`${s.nodes} nodes`);
  if (s.iterations !== undefined && s.nodes === undefined) parts.push(`${s.iterations} simplex iterations`);
  if (s.inner !== undefined) parts.push(`(${s.inner})`);
  return parts.join('  ');
}

/** An exact method's inner MILP as one phrase: `MILP incumbent 3 bound 2.5 40 nodes`. */
export function innerMilpText(event: ProgressEvent): string {
  const parts = ['MILP'];
  if (event.incumbent !== undefined) parts.push(`incumbent ${sig(event.incumbent)}`);
  if (event.bound !== undefined) parts.push(`bound ${sig(event.bound)}`);
  if (event.nodes !== undefined) parts.push(`${event.nodes} nodes`);
  else if (event.iterations !== undefined) parts.push(`${event.iterations} simplex iterations`);
  return parts.join(' ');
}

function sig(v: number): string {
  return String(Number(v.toPrecision(6)));
}

export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${String(Math.floor(seconds - 60 * m)).padStart(2, '0')} s`;
}

// The worker is plain CommonJS evaluated from a string: it needs no build step and no loader,
// in the sources (tsx) and in dist/ alike. It gets progressLine's source through workerData.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const line = new Function('return ' + workerData.lineSource)();
const elapsedText = new Function('return ' + workerData.elapsedSource)();
const sigText = new Function('return ' + workerData.sigSource)();
const formatElapsed = elapsedText; const sig = sigText;
const start = Date.now();
let state = {};
let shown = false;
let lastLine = -Infinity;
let lastPhase;
const write = (text) => { try { fs.writeSync(workerData.fd, text); } catch { /* a closed stderr ends nothing */ } };
const tick = () => {
  const elapsed = (Date.now() - start) / 1000;
  if (elapsed < workerData.afterSeconds) return;
  if (!workerData.tty) {
    // Plain lines: a heartbeat every everySeconds, and a new phase as soon as phaseSeconds allow.
    const since = elapsed - lastLine;
    const fresh = state.phase !== lastPhase && since >= workerData.phaseSeconds;
    if (!fresh && since < workerData.everySeconds) return;
  }
  const text = line(workerData.label, elapsed, state);
  if (workerData.tty) write('\\r\\x1b[K' + text.slice(0, workerData.columns - 1));
  else write(text + '\\n');
  lastLine = elapsed;
  lastPhase = state.phase;
  shown = true;
};
const timer = setInterval(tick, Math.min(workerData.everySeconds, workerData.phaseSeconds) * 1000);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    if (workerData.tty && shown) write('\\r\\x1b[K');
    parentPort.postMessage('stopped');
    return;
  }
  state = Object.assign({}, state, m);
});
`;

/** A no-op reporter (`--quiet`, tests). */
export function silentProgress(): ProgressReporter {
  return { hooks: {}, update() {}, stop: () => Promise.resolve() };
}

export function startProgress(options: ProgressOptions = {}): ProgressReporter {
  const tty = options.tty ?? false;
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      fd: options.fd ?? 2,
      tty,
      afterSeconds: options.afterSeconds ?? 1,
      everySeconds: options.everySeconds ?? (tty ? 0.5 : 5),
      phaseSeconds: options.phaseSeconds ?? 1,
      label: options.label ?? 'edgeplan',
      columns: process.stderr.columns ?? 120,
      lineSource: progressLine.toString(),
      elapsedSource: formatElapsed.toString(),
      sigSource: sig.toString(),
    },
  });
  // The heartbeat must never keep a finished command alive.
  worker.unref();
  let stopped: Promise<void> | null = null;
  const post = (state: ProgressState): void => {
    if (stopped === null) worker.postMessage(state);
  };
  // Solver callbacks can fire thousands of times a second; the worker needs the latest only. The
  // latest facts are kept here and posted at most every 200 ms, or 50 ms after a new phase (so the
  // phase an exact method enters just before a long silent step is not lost to the throttle).
  // -Infinity: the first facts go out at once (performance.now() may be under 200 ms in a fresh process).
  let lastPostMs = -Infinity;
  let trailing: NodeJS.Timeout | undefined;
  let pending: ProgressState = {};
  const clearSolverFacts = {
    phase: undefined,
    incumbent: undefined,
    bound: undefined,
    gap: undefined,
    nodes: undefined,
    iterations: undefined,
  };
  let solving: Method | undefined;
  const hooks: ChainHooks = {
    onStepStart(step: ChainStep, method?: Method) {
      if (step === 'solve') solving = method;
      pending = { step, method, ...clearSolverFacts, inner: undefined };
      post(pending);
    },
    onStep(step: ChainStep) {
      // A backend compiles inside its solve step: back to naming the method once the model is built.
      if (step === 'compile' && solving !== undefined) {
        pending = { ...pending, step: 'solve', method: solving };
        post(pending);
      }
      if (step === 'solve') solving = undefined;
    },
    onProgress(event: ProgressEvent) {
      const { method, ...facts } = event;
      // An exact method's own MILP reports as phase 'MILP': keep the method's phase and its own
      // incumbent/bound, and show the MILP's facts beside them.
      const inner = method === 'exact' && facts.phase === 'MILP';
      const update: ProgressState = inner
        ? { method, inner: innerMilpText(event) }
        : { method, ...clearSolverFacts, ...facts, inner: undefined };
      const newPhase = !inner && facts.phase !== pending.phase;
      pending = { ...pending, ...update };
      const now = performance.now();
      const wait = (newPhase ? 50 : 200) - (now - lastPostMs);
      if (wait > 0) {
        // Throttled: the latest facts still go out once the window ends (when the event loop runs),
        // so the last report before a long silent step is not lost.
        trailing ??= setTimeout(() => {
          trailing = undefined;
          lastPostMs = performance.now();
          post(pending);
        }, wait).unref();
        return;
      }
      clearTimeout(trailing);
      trailing = undefined;
      lastPostMs = now;
      post(pending);
    },
  };
  return {
    hooks,
    update: post,
    stop() {
      if (stopped !== null) return stopped;
      clearTimeout(trailing);
      stopped = new Promise<void>((resolve) => {
        const done = (): void => {
          void worker.terminate().then(() => resolve());
        };
        worker.once('message', done);
        worker.once('error', done);
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      });
      return stopped;
    },
  };
}

/** Chains two hook sets (the CLI's progress and a caller's own). */
export function combineHooks(a: ChainHooks, b: ChainHooks): ChainHooks {
  return {
    onStep: (...args) => {
      a.onStep?.(...args);
      b.onStep?.(...args);
    },
    onStepStart: (...args) => {
      a.onStepStart?.(...args);
      b.onStepStart?.(...args);
    },
    onProgress: (...args) => {
      a.onProgress?.(...args);
      b.onProgress?.(...args);
    },
  };
}
