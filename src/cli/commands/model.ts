/**
 * `edgeplan model <problem> --format lp|mps` — a family's compiled MILP as a solver file, so that Gurobi, CPLEX,
 * SCIP, HiGHS or CBC users can run it; `edgeplan solve model.mps` reads it back as the `milp` kind.
 */
import { readProblem, UsageError, writeModelText, type ModelFileFormat } from '../../api-core.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, inFileAsync, readProblemArgument, writeTextFile } from '../files.ts';

function format(value: string): ModelFileFormat {
  const f = value.toLowerCase();
  if (f !== 'lp' && f !== 'mps') throw new UsageError(`--format ${value}: must be lp or mps`);
  return f;
}

export const modelCommand: CliCommand = {
  register(program, context) {
    program
      .command('model')
      .description("write a problem's compiled MILP as a CPLEX LP or free MPS file (for external solvers)")
      .argument('<problem>', 'problem JSON file, - for standard input, or an MPS/LP file (converted)')
      .option('--format <lp|mps>', 'lp (CPLEX LP) or mps (free MPS)', format, 'mps' as ModelFileFormat)
      .option('--out <file>', 'write to FILE instead of standard output')
      .action(async (file: string, flags: { format: ModelFileFormat; out?: string }) => {
        const { io } = context;
        const input = readProblemArgument(file, io);
        const source = input.source;
        const problem = await inFileAsync(source, () => readProblem(input.raw));
        const compile = problem.formulation.compile;
        if (compile === undefined) {
          throw new UsageError(`kind ${problem.kind} has no MILP formulation (it is solved by its exact method only)`);
        }
        const compiled = inFile(source, () => compile.call(problem.formulation, problem.problem));
        const text = writeModelText(compiled.model, flags.format);
        if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, text);
        else io.stdout(text);
        const m = compiled.model;
        const integers = m.variables.filter((v) => v.type !== 'continuous').length;
        const size = `${m.variables.length} columns (${integers} integer), ${m.constraints.length} rows`;
        if (flags.out !== undefined) io.stderr(`edgeplan: wrote ${flags.out}: ${problem.kind} model, ${size}\n`);
        context.exit(EXIT.solved);
      });
  },
};
