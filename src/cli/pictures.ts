/**
 * The CLI side of issue 19: `--html`/`--svg` pictures for solve and compare, the sweep's grid,
 * peers, CSV and plot, and the progress heartbeat on stderr. Commands call into here so that
 * their own files change by a few lines; everything drawn comes from src/api.ts (src/viz), imported only when a
 * picture is asked for: drawing loads vega and every family's drawer, which a plain solve should not pay for.
 */
import type { Command } from 'commander';
import {
  startProgress,
  silentProgress,
  sweepGrid,
  sweepValues,
  UsageError,
  type CompareReport,
  type ParsedProblem,
  type ProgressReporter,
  type SolveOptions,
  type SolveReport,
  type SweepReport,
} from '../api-core.ts';
import type { CliIo } from './context.ts';
import { writeTextFile } from './files.ts';
import { sweepSpec } from './options.ts';

export interface PictureFlags {
  readonly html?: string;
  readonly svg?: string;
  readonly quiet?: boolean;
}

export interface SweepFlags extends PictureFlags {
  /** One or more PATH=VALUES specs joined by `;` (repeated --sweep flags are joined so). */
  readonly sweep?: string;
  readonly withPeers?: boolean;
  readonly csv?: string;
  readonly plot?: string;
}

/** Repeated `--sweep` flags collect into one `;`-separated string (a grid over every axis). */
export function collectSweep(value: string, previous: string | undefined): string {
  return previous === undefined ? value : `${previous};${value}`;
}

export function addPictureOptions(command: Command): Command {
  return command
    .option('--html <file>', 'also write a self-contained HTML page with pictures of the plan')
    .option('--svg <file>', 'also write the pictures as one SVG file')
    .option('--quiet', 'no progress on stderr');
}

export function addSweepOptions(command: Command): Command {
  return command
    .option('--with-peers', 'with --sweep: also run every peer at each point')
    .option('--csv <file>', 'with --sweep: write every point and method as CSV')
    .option('--plot <file>', 'with --sweep: write objective vs parameter as SVG, one line per method');
}

/**
 * The heartbeat for a command: on unless --quiet or EDGEPLAN_PROGRESS=0. It writes to the
 * process's stderr descriptor from a worker thread (the solvers block the main thread).
 */
export function progressFor(io: CliIo, flags: { readonly quiet?: boolean }): ProgressReporter {
  if (flags.quiet === true || io.env.EDGEPLAN_PROGRESS === '0') return silentProgress();
  return startProgress({ tty: process.stderr.isTTY === true });
}

/** Runs `work` with the heartbeat's hooks merged into the options, stopping it however work ends. */
export async function withProgress<T>(
  io: CliIo,
  flags: { readonly quiet?: boolean },
  work: (progress: ProgressReporter) => Promise<T>,
): Promise<T> {
  const progress = progressFor(io, flags);
  try {
    return await work(progress);
  } finally {
    await progress.stop();
  }
}

export async function writeSolvePictures(
  io: CliIo,
  flags: PictureFlags,
  problem: ParsedProblem,
  report: SolveReport,
): Promise<void> {
  if (flags.html === undefined && flags.svg === undefined) return;
  const { solutionHtml, solutionSvg } = await import('../api.ts');
  if (flags.html !== undefined) writeTextFile(flags.html, io.cwd, await solutionHtml(problem, report));
  if (flags.svg !== undefined) writeTextFile(flags.svg, io.cwd, await solutionSvg(problem, report));
}

export async function writeComparePictures(
  io: CliIo,
  flags: PictureFlags,
  problem: ParsedProblem,
  report: CompareReport,
): Promise<void> {
  if (flags.html === undefined && flags.svg === undefined) return;
  const { compareHtml, compareSvg } = await import('../api.ts');
  if (flags.html !== undefined) writeTextFile(flags.html, io.cwd, await compareHtml(problem, report));
  if (flags.svg !== undefined) writeTextFile(flags.svg, io.cwd, await compareSvg(problem, report));
}

/** The axes of the collected --sweep options (one per repeat, see collectSweep). */
export function sweepAxes(sweep: string | undefined): { path: string; values: number[] }[] {
  const specs = (sweep ?? '').split(';').filter((s) => s.trim() !== '');
  if (specs.length === 0) throw new UsageError('--sweep: expected PATH=start:step:end or PATH=v1,v2,…');
  return specs.map((text) => {
    const spec = sweepSpec(text);
    return { path: spec.path, values: sweepValues(spec.values) };
  });
}

/** `solve --sweep …`: one axis or a grid, optionally with peers, with progress; writes --csv and --plot. */
export async function runSweep(
  io: CliIo,
  flags: SweepFlags,
  problem: ParsedProblem,
  options: SolveOptions,
): Promise<SweepReport> {
  const axes = sweepAxes(flags.sweep);
  if (flags.html !== undefined || flags.svg !== undefined)
    throw new UsageError('--html and --svg draw one plan; for a sweep use --plot FILE.svg (and --csv FILE)');
  const report = await withProgress(io, flags, (progress) =>
    sweepGrid(problem, axes, {
      ...options,
      hooks: progress.hooks,
      ...(flags.withPeers === true ? { withPeers: true } : {}),
      onPoint: (done, total, values) =>
        progress.update({ done, total, point: values.map((v, i) => `${axes[i].path}=${v}`).join(' ') }),
    }),
  );
  if (flags.csv === undefined && flags.plot === undefined) return report;
  const { sweepCsv, sweepPlotSvg } = await import('../api.ts');
  if (flags.csv !== undefined) writeTextFile(flags.csv, io.cwd, sweepCsv(report));
  if (flags.plot !== undefined) writeTextFile(flags.plot, io.cwd, await sweepPlotSvg(report));
  return report;
}
