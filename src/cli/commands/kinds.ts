/**
 * `edgeplan kinds` — the registered problem families.
 *
 * The plain list (kind and title) comes from the registry's table and loads no family, so it starts as fast as the
 * CLI can (issue 18). `--long` and `--json` also give each family's methods and baselines, which means loading
 * every family (a few hundred milliseconds).
 */
import { getFormulation, kindTitle, listKinds, loadFormulations } from '../../api-kinds.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { table } from '../format.ts';

export const kindsCommand: CliCommand = {
  register(program, context) {
    program
      .command('kinds')
      .description('list the problem kinds (families) edgeplan can solve')
      .option('--long', 'also list each kind\'s methods and baselines (loads every family)')
      .option('--json', 'print them as JSON, with methods and baselines')
      .action(async (flags: { json?: boolean; long?: boolean }) => {
        if (flags.json !== true && flags.long !== true) {
          context.io.stdout(`${table(['kind', 'title'], listKinds().map((kind) => [kind, kindTitle(kind)]))}\n`);
          context.exit(EXIT.solved);
          return;
        }
        await loadFormulations();
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
