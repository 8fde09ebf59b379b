/** `edgeplan merge OUT-*.jsonl --out ALL.jsonl` — join shard outputs, one line per id, sorted by id. */
import { mergeFiles, recordLine, UsageError } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { writeTextFile } from '../files.ts';
import { positiveInteger } from '../options.ts';

interface MergeFlags {
  readonly out?: string;
  readonly input?: string;
  readonly shards?: number;
}

const LIST_AT_MOST = 10;

function listed(ids: readonly string[]): string {
  const shown = ids.slice(0, LIST_AT_MOST).join(', ');
  return ids.length > LIST_AT_MOST ? `${shown}, … (${ids.length - LIST_AT_MOST} more)` : shown;
}

export const mergeCommand: CliCommand = {
  register(program, context) {
    program
      .command('merge')
      .description('join batch outputs (e.g. one per shard): de-duplicated, sorted by id, missing ids reported')
      .argument('<files...>', 'batch output files (JSONL)')
      .option('--out <file>', 'merged JSONL (default: standard output)')
      .option('--input <file>', 'the batch input: report its ids that no output holds')
      .option(
        '--shards <n>',
        'the shard count used: group missing ids by the shard to re-run',
        positiveInteger('--shards'),
      )
      .action(async (files: string[], flags: MergeFlags) => {
        const { io } = context;
        if (flags.shards !== undefined && flags.input === undefined) {
          throw new UsageError('merge: --shards needs --input (missing ids are found against the input)');
        }
        const report = await mergeFiles(files, {
          cwd: io.cwd,
          ...(flags.input !== undefined ? { input: flags.input } : {}),
          ...(flags.shards !== undefined ? { shards: flags.shards } : {}),
        });
        const text = report.records.map((r) => `${recordLine(r)}\n`).join('');
        if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, text);
        else io.stdout(text);
        const lines = [
          `merge: ${report.records.length} ids from ${report.lines} lines in ${report.files} files` +
            (report.duplicates > 0 ? ` (${report.duplicates} repeated lines dropped)` : ''),
        ];
        if (report.unreadable.length > 0) {
          lines.push(`merge: ${report.unreadable.length} unreadable lines skipped: ${listed(report.unreadable)}`);
        }
        for (const c of report.conflicts) lines.push(`merge: conflict: ${c}`);
        if (report.missing !== null) {
          if (report.missing.length === 0) lines.push(`merge: every id of ${flags.input} is present`);
          else {
            const byShard =
              report.missingByShard === null
                ? ''
                : ` — by shard: ${Object.entries(report.missingByShard)
                    .map(([s, n]) => `${s}/${flags.shards}: ${n}`)
                    .join(', ')}`;
            lines.push(
              `merge: ${report.missing.length} ids of ${flags.input} missing: ${listed(report.missing)}${byShard}`,
            );
          }
        }
        if (report.unexpected !== null && report.unexpected.length > 0) {
          lines.push(`merge: ${report.unexpected.length} ids not in ${flags.input}: ${listed(report.unexpected)}`);
        }
        io.stderr(`${lines.join('\n')}\n`);
        const incomplete = (report.missing?.length ?? 0) > 0 || report.conflicts.length > 0;
        context.exit(incomplete ? EXIT.noSolution : EXIT.solved);
      });
  },
};
