/** `edgeplan schema [kind]` — JSON Schema of a kind's input (for editors and validators). */
import { schema } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';

export const schemaCommand: CliCommand = {
  register(program, context) {
    program
      .command('schema')
      .description("print the JSON Schema of a kind's problem file (all kinds when none is given)")
      .argument('[kind]', 'problem kind (see `edgeplan kinds`)')
      .action((kind: string | undefined) => {
        context.io.stdout(`${JSON.stringify(schema(kind), null, 2)}\n`);
        context.exit(EXIT.solved);
      });
  },
};
