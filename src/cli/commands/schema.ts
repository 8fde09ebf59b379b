/** `edgeplan schema [kind]` — JSON Schema of a kind's input (for editors and validators). */
import { InputError, loadFormulation, loadFormulations, schema } from '../../api-core.ts';
import { EXIT, type CliCommand } from '../context.ts';

export const schemaCommand: CliCommand = {
  register(program, context) {
    program
      .command('schema')
      .description("print the JSON Schema of a kind's problem file (all kinds when none is given)")
      .argument('[kind]', 'problem kind (see `edgeplan kinds`)')
      .action(async (kind: string | undefined) => {
        // Families load lazily: the one asked for, or all of them for the schema covering every kind.
        if (kind === undefined) await loadFormulations();
        else {
          // An unknown kind is reported by schema() in its own words.
          await loadFormulation(kind).catch((error: unknown) => {
            if (!(error instanceof InputError)) throw error;
          });
        }
        context.io.stdout(`${JSON.stringify(schema(kind), null, 2)}\n`);
        context.exit(EXIT.solved);
      });
  },
};
