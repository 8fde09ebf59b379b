/** `edgeplan solve problem.json` — solve, re-check, report; `--sweep` re-solves over a parameter. */
import { parseProblem, solve, sweep, sweepValues, type BackendChoice, type SolveReport, type SweepReport } from '../../api.ts';
import { EXIT, type CliCommand, type ExitCode } from '../context.ts';
import { inFile, inFileAsync, readJsonFile, writeTextFile } from '../files.ts';
import { formatSolve, formatSweep, toJson } from '../format.ts';
import { backendChoice, nonNegativeNumber, positiveInteger, positiveSeconds, sweepSpec } from '../options.ts';

interface SolveFlags {
  readonly backend: BackendChoice;
  readonly timeLimit?: number;
  readonly mipGap?: number;
  readonly nodeLimit?: number;
  readonly out?: string;
  readonly json?: boolean;
  readonly sweep?: string;
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
    program
      .command('solve')
      .description('solve a problem file; every answer is re-checked by the family\'s evaluate')
      .argument('<problem>', 'problem JSON file (see `edgeplan schema`)')
      .option('--backend <method>', 'auto | exact | highs | glpk | jslp (auto: exact method if it applies, else the backends in capability order, falling back on failure)', backendChoice, 'auto')
      .option('--time-limit <seconds>', 'time limit for the whole run (warm start, compile, every method tried)', positiveSeconds('--time-limit'))
      .option('--mip-gap <gap>', 'relative MIP gap at which a search may stop (default 1e-6)', nonNegativeNumber('--mip-gap'))
      .option('--node-limit <n>', 'branch-and-bound node limit (backends that support one)', positiveInteger('--node-limit'))
      .option('--out <file>', 'also write the JSON report to FILE')
      .option('--json', 'print the JSON report instead of the human summary')
      .option('--sweep <path=values>', 'solve once per value of a numeric field: PATH=start:step:end or PATH=v1,v2,… (e.g. accuracy.maxFreezingRatio=0:0.1:1)')
      .action(async (file: string, flags: SolveFlags) => {
        const { io } = context;
        const raw = readJsonFile(file, io.cwd);
        const problem = inFile(file, () => parseProblem(raw));
        const options = {
          backend: flags.backend,
          ...(flags.timeLimit !== undefined ? { timeLimitSeconds: flags.timeLimit } : {}),
          ...(flags.mipGap !== undefined ? { mipGap: flags.mipGap } : {}),
          ...(flags.nodeLimit !== undefined ? { nodeLimit: flags.nodeLimit } : {}),
        };
        if (flags.sweep !== undefined) {
          const spec = sweepSpec(flags.sweep);
          const values = sweepValues(spec.values);
          const report = await inFileAsync(file, () => sweep(problem, spec.path, values, options));
          const json = toJson(report);
          if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, json);
          io.stdout(flags.json === true ? json : formatSweep(report));
          context.exit(sweepExitCode(report));
          return;
        }
        const report = await solve(problem, options);
        const json = toJson(report);
        if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, json);
        io.stdout(flags.json === true ? json : formatSolve(report, problem.formulation.title));
        context.exit(solveExitCode(report));
      });
  },
};
