/**
 * `edgeplan compare problem.json` — every backend, the exact method and every baseline side by side. The problem is
 * read as `solve` reads it (files.ts readProblemArgument): `-` for standard input, MPS/LP model files, `hf:` models.
 */
import { compare, readProblem, type BackendName } from '../../api-core.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFileAsync, readProblemArgument } from '../files.ts';
import { formatCompare } from '../format.ts';
import { toJson } from '../format.ts';
import { backendList, nonNegativeNumber, positiveInteger, positiveSeconds } from '../options.ts';
import * as pictures from '../pictures.ts';

/** So that one slow backend (jslp on a large MIP) cannot stall the whole table. */
export const DEFAULT_COMPARE_TIME_LIMIT_SECONDS = 60;

interface CompareFlags {
  readonly timeLimit: number;
  readonly mipGap?: number;
  readonly nodeLimit?: number;
  readonly backends?: BackendName[];
  readonly json?: boolean;
  readonly html?: string;
  readonly svg?: string;
  readonly quiet?: boolean;
}

export const compareCommand: CliCommand = {
  register(program, context) {
    const command = program
      .command('compare')
      .description(
        'run every backend, the exact method (where it applies) and every baseline; each decision re-checked by evaluate',
      )
      .argument('<problem>', 'problem JSON file, - for standard input, or an MPS/LP model file')
      .option(
        '--time-limit <seconds>',
        'time limit per method',
        positiveSeconds('--time-limit'),
        DEFAULT_COMPARE_TIME_LIMIT_SECONDS,
      )
      .option('--mip-gap <gap>', 'relative MIP gap (default 1e-6)', nonNegativeNumber('--mip-gap'))
      .option('--node-limit <n>', 'branch-and-bound node limit', positiveInteger('--node-limit'))
      .option('--backends <list>', 'only these backends, e.g. highs,glpk', backendList)
      .option('--json', 'print the JSON comparison report');
    pictures
      .addPictureOptions(command)
      .action(async (file: string, flags: CompareFlags) => {
        const { io } = context;
        const input = readProblemArgument(file, io);
        const problem = await inFileAsync(input.source, () => readProblem(input.raw));
        const report = await pictures.withProgress(io, flags, (progress) =>
          compare(problem, {
            timeLimitSeconds: flags.timeLimit,
            ...(flags.mipGap !== undefined ? { mipGap: flags.mipGap } : {}),
            ...(flags.nodeLimit !== undefined ? { nodeLimit: flags.nodeLimit } : {}),
            ...(flags.backends !== undefined ? { only: flags.backends } : {}),
            hooks: progress.hooks,
          }),
        );
        await pictures.writeComparePictures(io, flags, problem, report);
        io.stdout(flags.json === true ? toJson(report) : formatCompare(report));
        const anyFeasible = report.rows.some((r) => r.feasible === true && r.termination !== 'error');
        const anyInfeasible = report.rows.some((r) => r.termination === 'infeasible' || r.termination === 'unbounded');
        context.exit(anyFeasible ? EXIT.solved : anyInfeasible ? EXIT.noSolution : EXIT.internal);
      });
  },
};
