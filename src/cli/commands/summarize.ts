/** `edgeplan summarize ALL.jsonl` — bench's tables (outcomes, peer ratios, times, failures) from batch output. */
import { formatSummary, readRecords, summarizeRecords } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { toJson } from '../format.ts';
import { positiveInteger } from '../options.ts';

interface SummarizeFlags {
  readonly markdown?: boolean;
  readonly json?: boolean;
  readonly maxFailures: number;
}

export const summarizeCommand: CliCommand = {
  register(program, context) {
    program
      .command('summarize')
      .description('tables from batch output: outcomes per formulation, optimum/peer ratios, solve times, failures')
      .argument('<file>', 'batch output (JSONL), e.g. from edgeplan merge')
      .option('--markdown', 'Markdown tables')
      .option('--json', 'the summary as JSON')
      .option('--max-failures <n>', 'failures listed', positiveInteger('--max-failures'), 20)
      .action(async (file: string, flags: SummarizeFlags) => {
        const { io } = context;
        const summary = summarizeRecords(await readRecords(file, io.cwd));
        if (flags.json === true) io.stdout(toJson(summary));
        else io.stdout(formatSummary(summary, flags.markdown === true ? 'markdown' : 'text', flags.maxFailures));
        context.exit(EXIT.solved);
      });
  },
};
