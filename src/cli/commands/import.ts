/** `edgeplan import helix FILE` — another planner's instance as an edgeplan problem (JSON on stdout). */
import { basename } from 'node:path';
import { importHelix, UsageError } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, readJsonFile } from '../files.ts';

const FORMATS = ['helix'] as const;

export const importCommand: CliCommand = {
  register(program, context) {
    program
      .command('import')
      .description('convert an instance of another planner into a problem file (formats: helix)')
      .argument('<format>', `instance format: ${FORMATS.join(', ')}`)
      .argument('<file>', 'instance file (JSON)')
      .action((format: string, file: string) => {
        if (format !== 'helix')
          throw new UsageError(`unknown import format "${format}"; formats: ${FORMATS.join(', ')}`);
        const raw = readJsonFile(file, context.io.cwd);
        const problem = inFile(file, () => importHelix(raw, basename(file)));
        context.io.stdout(`${JSON.stringify(problem, null, 2)}\n`);
        context.exit(EXIT.solved);
      });
  },
};
