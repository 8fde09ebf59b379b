/** `edgeplan solve problem.json` — solve, re-check, report; `--sweep` re-solves over a parameter. */
import {
  InputError,
  readProblem,
  solve,
  sweepGrid,
  type BackendChoice,
  type SolveReport,
  type SweepReport,
} from '../../api-core.ts';
import { EXIT, type CliCommand, type CliIo, type ExitCode } from '../context.ts';
import {
  inFile,
  inFileAsync,
  jsonLines,
  readProblemArgument,
  readStdinText,
  readTextFile,
  writeTextFile,
  type JsonLine,
} from '../files.ts';
import { formatSolve, formatSweep, toJson } from '../format.ts';
import { backendChoice, nonNegativeNumber, positiveInteger, positiveSeconds } from '../options.ts';
import * as pictures from '../pictures.ts';

interface SolveFlags {
  readonly backend: BackendChoice;
  readonly timeLimit?: number;
  readonly mipGap?: number;
  readonly nodeLimit?: number;
  readonly out?: string;
  readonly json?: boolean;
  readonly jsonl?: boolean;
  readonly sweep?: string;
  readonly html?: string;
  readonly svg?: string;
  readonly quiet?: boolean;
  readonly withPeers?: boolean;
  readonly csv?: string;
  readonly plot?: string;
}

/** Verdicts that mean a method failed rather than answered. */
const FAILURES: readonly string[] = ['error', 'memory_limit', 'invalid_model', 'numerical_error'];

/** 0 with a solution, 1 infeasible / unbounded / none found in the limits, 3 when every method failed. */
export function solveExitCode(report: SolveReport): ExitCode {
  if (report.solution !== null) return EXIT.solved;
  return FAILURES.includes(report.termination) ? EXIT.internal : EXIT.noSolution;
}

/** A sweep solved if any value got a solution; every row failing with errors is internal. */
export function sweepExitCode(report: SweepReport): ExitCode {
  if (report.rows.some((r) => r.objective !== null)) return EXIT.solved;
  return report.rows.every((r) => r.termination === 'error') ? EXIT.internal : EXIT.noSolution;
}

export const solveCommand: CliCommand = {
  register(program, context) {
    const command = program
      .command('solve')
      .description("solve a problem file; every answer is re-checked by the family's evaluate")
      .argument('<problem>', 'problem JSON file (see `edgeplan schema`), - for standard input, or an MPS/LP model file')
      .option(
        '--backend <method>',
        'auto | exact | highs | glpk | jslp (auto: exact method if it applies, else the backends in capability order, falling back on failure)',
        backendChoice,
        'auto',
      )
      .option(
        '--time-limit <seconds>',
        'time limit for the whole run (warm start, compile, every method tried)',
        positiveSeconds('--time-limit'),
      )
      .option(
        '--mip-gap <gap>',
        'relative MIP gap at which a search may stop (default 1e-6)',
        nonNegativeNumber('--mip-gap'),
      )
      .option(
        '--node-limit <n>',
        'branch-and-bound node limit (backends that support one)',
        positiveInteger('--node-limit'),
      )
      .option('--out <file>', 'also write the JSON report to FILE')
      .option('--json', 'print the JSON report instead of the human summary')
      .option('--jsonl', 'several problems, one JSON per line (file or -), one compact report per line')
      .option(
        '--sweep <path=values>',
        'solve once per value of a numeric field: PATH=start:step:end or PATH=v1,v2,… (e.g. accuracy.maxFreezingRatio=0:0.1:1, users[*].uplinkBitsPerSecond=1e6,1e7); repeat for a grid',
        pictures.collectSweep,
      );
    pictures.addSweepOptions(pictures.addPictureOptions(command)).action(async (file: string, flags: SolveFlags) => {
      const { io } = context;
      if (flags.jsonl === true) {
        context.exit(await solveJsonLines(file, flags, context.io));
        return;
      }
      const input = readProblemArgument(file, io);
      const source = input.source;
      const raw = input.raw;
      const problem = await inFileAsync(source, () => readProblem(raw));
      const options = solveOptions(flags);
      if (flags.sweep !== undefined) {
        const report = await inFileAsync(source, () => pictures.runSweep(io, flags, problem, options));
        const json = toJson(report);
        if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, json);
        io.stdout(flags.json === true ? json : formatSweep(report));
        context.exit(sweepExitCode(report));
        return;
      }
      const report = await pictures.withProgress(io, flags, (p) => solve(problem, { ...options, hooks: p.hooks }));
      await pictures.writeSolvePictures(io, flags, problem, report);
      const json = toJson(report);
      if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, json);
      io.stdout(flags.json === true ? json : formatSolve(report, problem.formulation.title));
      context.exit(solveExitCode(report));
    });
  },
};

function solveOptions(flags: SolveFlags) {
  return {
    backend: flags.backend,
    ...(flags.timeLimit !== undefined ? { timeLimitSeconds: flags.timeLimit } : {}),
    ...(flags.mipGap !== undefined ? { mipGap: flags.mipGap } : {}),
    ...(flags.nodeLimit !== undefined ? { nodeLimit: flags.nodeLimit } : {}),
  };
}

const compact = (value: unknown): string => `${JSON.stringify(JSON.parse(toJson(value)))}\n`;
const SEVERITY: readonly ExitCode[] = [EXIT.solved, EXIT.noSolution, EXIT.badInput, EXIT.internal];
const worse = (a: ExitCode, b: ExitCode): ExitCode => (SEVERITY.indexOf(a) >= SEVERITY.indexOf(b) ? a : b);

/**
 * `solve --jsonl`: each problem (a line of the file or of stdin) solved in turn, one compact report per line, in input
 * order. A line with bad input prints `{"line":N,"error":{"path":…,"rule":…}}` and the others still run; the exit
 * code is the worst of all lines (3 > 2 > 1 > 0). With --sweep every line is swept and each sweep is one line.
 */
async function solveJsonLines(file: string, flags: SolveFlags, io: CliIo): Promise<ExitCode> {
  const text = file === '-' ? readStdinText() : null;
  const entries = text !== null ? jsonLines(text) : jsonLinesOfFile(file, io.cwd);
  const options = solveOptions(flags);
  const axes = flags.sweep !== undefined ? pictures.sweepAxes(flags.sweep) : undefined;
  const out: string[] = [];
  let code: ExitCode = EXIT.solved;
  for (const entry of entries) {
    let line: string;
    try {
      if ('error' in entry) throw entry.error;
      const problem = await readProblem(entry.raw);
      if (axes !== undefined) {
        const report = await sweepGrid(problem, axes, options);
        code = worse(code, sweepExitCode(report));
        line = compact({ line: entry.line, ...report });
      } else {
        const report = await solve(problem, options);
        code = worse(code, solveExitCode(report));
        line = compact({ line: entry.line, ...report });
      }
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      code = worse(code, EXIT.badInput);
      line = compact({ line: entry.line, error: { path: error.path, rule: error.rule } });
    }
    io.stdout(line);
    out.push(line);
  }
  if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, out.join(''));
  return code;
}

function jsonLinesOfFile(file: string, cwd: string): JsonLine[] {
  // Reuse the size limit and error messages of the JSON reader; JSON Lines text is not one JSON value.
  const text = readTextFile(file, cwd);
  return inFile(file, () => jsonLines(text));
}
