/** `edgeplan grid BASE.json --sweep PATH=VALUES … > IN.jsonl` — batch input as a cartesian product of sweeps. */
import { baseNames, gridLines, gridSize, parseGridSweep, UsageError, type GridBase } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { readJsonFile } from '../files.ts';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';

interface GridFlags {
  readonly sweep: string[];
  readonly name?: string;
  readonly out?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const gridCommand: CliCommand = {
  register(program, context) {
    program
      .command('grid')
      .description('write batch input: every combination of the sweeps, applied to every base problem')
      .argument('<bases...>', 'base problem JSON files')
      .option('--sweep <path=values>', 'PATH=start:step:end or PATH=v1,v2,… (repeat for more axes)', collect, [])
      .option('--name <name>', 'name used in ids instead of the base file name (one base only)')
      .option('--out <file>', 'write to FILE instead of standard output')
      .action(async (files: string[], flags: GridFlags) => {
        const { io } = context;
        if (flags.name !== undefined && files.length > 1) throw new UsageError('grid: --name applies to one base only');
        const names = flags.name !== undefined ? [flags.name] : baseNames(files);
        const bases: GridBase[] = files.map((file, i) => ({ name: names[i], problem: readJsonFile(file, io.cwd) }));
        const sweeps = flags.sweep.map(parseGridSweep);
        const size = gridSize(bases, sweeps);
        // Every line is checked before the first is written (a refused value leaves no half-written
        // file): one pass to check, one to write, so a large grid is never held in memory.
        for (const _line of gridLines(bases, sweeps));
        const lines = gridLines(bases, sweeps);
        if (flags.out === undefined) {
          for (const line of lines) io.stdout(`${JSON.stringify(line)}\n`);
        } else {
          const stream = createWriteStream(resolve(io.cwd, flags.out));
          await new Promise<void>((done, fail) => {
            stream.on('error', (error) => fail(new UsageError(`--out ${flags.out}: cannot write (${error.message})`)));
            const pump = (): void => {
              for (const line of lines) {
                if (!stream.write(`${JSON.stringify(line)}\n`)) {
                  stream.once('drain', pump);
                  return;
                }
              }
              stream.end(done);
            };
            pump();
          });
        }
        io.stderr(
          `grid: ${size} lines (${bases.length} bases × ${sweeps.map((s) => s.values.length).join(' × ') || 1})\n`,
        );
        context.exit(EXIT.solved);
      });
  },
};
