/**
 * `edgeplan import helix FILE` — another planner's instance as an edgeplan problem (JSON on stdout). Helix's
 * instances are read in its JSON instance format or straight from the `ilp_model.lp` its artifact hands to Gurobi.
 */
import { basename } from 'node:path';
import { importHelix, importHelixLp, isLpInput, UsageError } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, parseJsonText, readTextFile } from '../files.ts';

const FORMATS = ['helix'] as const;

/** The file's path inside Helix's repository when it is one of its artifact's files, else the path as given. */
function helixSource(file: string): string {
  const at = file.search(/(^|\/)(artifact_evaluation|examples)\//);
  return at < 0 ? file : file.slice(at).replace(/^\//, '');
}

export const importCommand: CliCommand = {
  register(program, context) {
    program
      .command('import')
      .description('convert an instance of another planner into a problem file (formats: helix)')
      .argument('<format>', `instance format: ${FORMATS.join(', ')}`)
      .argument('<file>', "instance file: Helix's JSON instance or its ilp_model.lp (LP text, by extension or content)")
      .action((format: string, file: string) => {
        if (format !== 'helix')
          throw new UsageError(`unknown import format "${format}"; formats: ${FORMATS.join(', ')}`);
        const text = readTextFile(file, context.io.cwd);
        const problem = isLpInput(file, text)
          ? inFile(file, () => importHelixLp(text, basename(file), helixSource(file)))
          : inFile(file, () => importHelix(parseJsonText(text), basename(file)));
        context.io.stdout(`${JSON.stringify(problem, null, 2)}\n`);
        context.exit(EXIT.solved);
      });
  },
};
