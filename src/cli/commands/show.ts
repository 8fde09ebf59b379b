/** `edgeplan show problem.json solution.json --html FILE` — pictures of a solution saved earlier. */
import { parseProblem, showHtml, showSvg, UsageError } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, inFileAsync, readJsonFile, readProblemArgument, writeTextFile } from '../files.ts';

interface ShowFlags {
  readonly html?: string;
  readonly svg?: string;
}

export const showCommand: CliCommand = {
  register(program, context) {
    program
      .command('show')
      .description(
        'draw a saved solution (what solve --json/--out wrote, or a bare decision), re-checked by evaluate',
      )
      .argument('<problem>', 'problem file, read as `solve` reads it (JSON, MPS/LP, - for stdin)')
      .argument('<solution>', 'solution JSON file')
      .option('--html <file>', 'write a self-contained HTML page with the pictures')
      .option('--svg <file>', 'write the pictures as one SVG file')
      .action(async (problemFile: string, solutionFile: string, flags: ShowFlags) => {
        const { io } = context;
        if (flags.html === undefined && flags.svg === undefined)
          throw new UsageError('show: give --html FILE and/or --svg FILE');
        const input = readProblemArgument(problemFile, io);
        const problem = inFile(input.source, () => parseProblem(input.raw));
        const solution = readJsonFile(solutionFile, io.cwd);
        if (flags.html !== undefined) {
          const html = await inFileAsync(solutionFile, () => showHtml(problem, solution));
          writeTextFile(flags.html, io.cwd, html);
        }
        if (flags.svg !== undefined) {
          const svg = await inFileAsync(solutionFile, () => showSvg(problem, solution));
          writeTextFile(flags.svg, io.cwd, svg);
        }
        context.exit(EXIT.solved);
      });
  },
};
