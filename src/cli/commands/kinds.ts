/** `edgeplan kinds` — the registered problem families. */
import { getFormulation, listKinds } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { table } from '../format.ts';

export const kindsCommand: CliCommand = {
  register(program, context) {
    program
      .command('kinds')
      .description('list the problem kinds (families) edgeplan can solve')
      .option('--json', 'print them as JSON')
      .action((flags: { json?: boolean }) => {
        const kinds = listKinds().map((kind) => {
          const f = getFormulation(kind);
          const methods = [f.exact !== undefined ? 'exact' : null, f.compile !== undefined ? 'milp' : null].filter(
            (m) => m !== null,
          );
          return { kind, title: f.title, methods, baselines: f.baselines.map((b) => b.name) };
        });
        context.io.stdout(
          flags.json === true
            ? `${JSON.stringify(kinds, null, 2)}\n`
            : `${table(
                ['kind', 'methods', 'title', 'baselines'],
                kinds.map((k) => [k.kind, k.methods.join(', '), k.title, k.baselines.join(', ') || '-']),
              )}\n`,
        );
        context.exit(EXIT.solved);
      });
  },
};
