/** `edgeplan check problem solution.json` — re-check a decision or a whole solve report. */
import { check, readProblem } from '../../api-core.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, inFileAsync, readJsonFile, readProblemArgument } from '../files.ts';
import { formatCheck } from '../format.ts';
import { toJson } from '../format.ts';

export const checkCommand: CliCommand = {
  register(program, context) {
    program
      .command('check')
      .description(
        're-check a solution against its problem (exit 0 when feasible and any claimed objective holds, else 1)',
      )
      .argument('<problem>', 'problem file, read as `solve` reads it (JSON, MPS/LP for the milp kind, - for stdin)')
      .argument('<solution>', 'what `edgeplan solve --json` wrote, or a bare decision')
      .option('--json', 'print the JSON check report')
      .action(async (problemFile: string, solutionFile: string, flags: { json?: boolean }) => {
        const { io } = context;
        // Read as solve reads it (files.ts readProblemArgument), so that check sees the problem solve saw: the same
        // hf: models resolved relative to the problem file, and MPS/LP models.
        const input = readProblemArgument(problemFile, io);
        const problem = await inFileAsync(input.source, () => readProblem(input.raw));
        const solutionRaw = readJsonFile(solutionFile, io.cwd);
        // The problem is already parsed, so any InputError from here on is about the solution file.
        const report = inFile(solutionFile, () => check(problem, solutionRaw));
        io.stdout(flags.json === true ? toJson(report) : formatCheck(report));
        context.exit(report.ok ? EXIT.solved : EXIT.noSolution);
      });
  },
};
