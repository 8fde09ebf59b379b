/** `edgeplan bench` — every formulation's instances across methods and peers, with tables and plots. */
import { resolve } from 'node:path';
import { loadBenchTools } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { positiveInteger } from '../options.ts';

interface BenchFlags {
  readonly suite: string;
  readonly repeat: number;
  readonly out: string;
  readonly html?: boolean;
  readonly json?: boolean;
  readonly scaling: boolean;
}

export const benchCommand: CliCommand = {
  register(program, context) {
    program
      .command('bench')
      .description(
        'benchmark every formulation: each backend and the exact method (time, gap) and each peer (ratio optimum/peer), plus scaling curves',
      )
      .option('--suite <name>', 'one suite (a kind) or all', 'all')
      .option(
        '--repeat <n>',
        'repeats per method; the median time is reported (slow solves run once)',
        positiveInteger('--repeat'),
        3,
      )
      .option('--out <dir>', 'directory for bench.json, bench.md and the SVG plots', 'bench-out')
      .option('--html', 'also write bench.html, one self-contained report with the tables and plots')
      .option('--json', 'print the JSON results instead of the Markdown tables')
      .option('--no-scaling', 'skip the scaling series')
      .action(async (flags: BenchFlags) => {
        const { io } = context;
        // Loaded on use: the suites pull in every family and the plots pull in vega, which other commands never need.
        const { barProgress, lineProgress, benchMarkdown, writeBenchOutputs, runBench, selectSuites } =
          await loadBenchTools();
        const suites = selectSuites(flags.suite);
        const tty = process.stderr.isTTY === true && io.env.EDGEPLAN_PLAIN_PROGRESS !== '1';
        const progress = tty ? barProgress(process.stderr) : lineProgress(io.stderr);
        const results = await runBench(suites, { repeat: flags.repeat, progress, scaling: flags.scaling });
        const dir = resolve(io.cwd, flags.out);
        const written = await writeBenchOutputs(results, dir, { html: flags.html === true });
        io.stdout(flags.json === true ? `${JSON.stringify(results, null, 2)}\n` : benchMarkdown(results));
        const failed = results.instances.filter((r) => r.status === 'failed').length;
        io.stderr(
          `edgeplan bench: ${results.instances.length} instances (${failed} failed) in ${results.totalSeconds.toFixed(1)} s; wrote ${written.files.length} files to ${dir}\n`,
        );
        // A failed instance is a finding of the benchmark, reported in its table, not a crash of the command.
        context.exit(EXIT.solved);
      });
  },
};
