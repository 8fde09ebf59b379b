/** `edgeplan reproduce [name|all]` — published numbers and figure shapes, expected vs obtained, with plots. */
import { resolve } from 'node:path';
import { loadReproduceTools, type ReproductionOutcome } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';

interface ReproduceFlags {
  readonly out: string;
  readonly html?: boolean;
  readonly json?: boolean;
}

export const reproduceCommand: CliCommand = {
  register(program, context) {
    program
      .command('reproduce')
      .description(
        "regenerate the seed paper's numbers and figure shapes, Leviathan et al.'s Table 1 and the EdgeShard comparison; exit 1 if one misses its tolerance",
      )
      .argument('[name]', 'one reproduction, or all', 'all')
      .option('--out <dir>', 'directory for reproduce.json, reproduce.md and the SVG plots', 'bench-out')
      .option('--html', 'also write reproduce.html, one self-contained report with the tables and plots')
      .option('--json', 'print the JSON outcomes instead of the tables')
      .action(async (name: string, flags: ReproduceFlags) => {
        const { io } = context;
        // Loaded on use: the reproductions pull in several families and vega, which other commands never need.
        const { reproduceText, writeReproduceOutputs, runReproduction, selectReproductions } =
          await loadReproduceTools();
        const selected = selectReproductions(name);
        const outcomes: ReproductionOutcome[] = [];
        for (const r of selected) {
          const outcome = await runReproduction(r);
          outcomes.push(outcome);
          io.stderr(`reproduce ${r.name}: ${outcome.pass ? 'pass' : 'FAIL'} (${outcome.timeSeconds.toFixed(1)} s)\n`);
        }
        const dir = resolve(io.cwd, flags.out);
        const files = await writeReproduceOutputs(outcomes, dir, { html: flags.html === true });
        io.stdout(flags.json === true ? `${JSON.stringify(outcomes, null, 2)}\n` : reproduceText(outcomes));
        io.stderr(`edgeplan reproduce: wrote ${files.length} files to ${dir}\n`);
        // EXIT.noSolution (1): a reproduction that misses its tolerance is a failed claim, not bad input.
        context.exit(outcomes.every((o) => o.pass) ? EXIT.solved : EXIT.noSolution);
      });
  },
};
