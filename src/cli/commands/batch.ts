/**
 * `edgeplan batch IN.jsonl --out OUT.jsonl` — solve many problems on a worker pool, one output line
 * per instance, resumable, and sharded for Slurm array jobs and Kubernetes Indexed Jobs.
 */
import {
  defaultWorkers,
  resolveShard,
  runBatch,
  UsageError,
  type BackendChoice,
  type BatchStats,
  type TaskOptions,
} from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { backendChoice, nonNegativeNumber, positiveInteger, positiveSeconds } from '../options.ts';

interface BatchFlags {
  readonly out?: string;
  readonly workers?: number;
  readonly backend?: BackendChoice;
  readonly timeLimit?: number;
  readonly mipGap?: number;
  readonly nodeLimit?: number;
  readonly withPeers?: boolean;
  readonly shard?: string;
  readonly shards?: number;
  readonly force?: boolean;
  readonly quiet?: boolean;
}

/** How often a progress line is printed (stderr; Slurm and Kubernetes keep it in the job's log). */
const PROGRESS_EVERY_SECONDS = 30;

function workerCount(value: string): number {
  const v = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(v)) {
    throw new UsageError(`--workers: expected an integer ≥ 0 (0: no worker threads), got "${value}"`);
  }
  return v;
}

function summaryLine(stats: BatchStats, out: string): string {
  const outcomes = Object.entries(stats.byTermination)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([t, n]) => `${n} ${t}`);
  if (stats.inputErrors > 0) outcomes.push(`${stats.inputErrors} input errors`);
  if (stats.internalErrors > 0) outcomes.push(`${stats.internalErrors} internal errors`);
  const rate = stats.wallSeconds > 0 ? stats.written / stats.wallSeconds : 0;
  const plural = stats.workers === 1 ? '' : 's';
  const parts = [
    `batch: shard ${stats.shard.index}/${stats.shard.count} (${stats.shard.source}): ` +
      `${stats.written} written to ${out}`,
    outcomes.length > 0 ? ` (${outcomes.join(', ')})` : '',
    stats.skipped > 0 ? `; ${stats.skipped} already done` : '',
    stats.dropped > 0 ? `; ${stats.dropped} earlier lines redone (cut off or errors)` : '',
    stats.otherShards > 0 ? `; ${stats.otherShards} in other shards` : '',
    `; ${stats.wallSeconds.toFixed(1)} s wall, ${rate.toFixed(2)} instances/s ` +
      `${stats.workers === 0 ? 'in the main thread' : `on ${stats.workers} worker thread${plural}`}\n`,
  ];
  return parts.join('');
}

export const batchCommand: CliCommand = {
  register(program, context) {
    program
      .command('batch')
      .description(
        'solve every problem of a JSONL file on a worker pool; one JSON line per instance, resumable, sharded',
      )
      .argument('<input>', 'JSONL: one problem per line, or { "id", "problem" | "file", "options", "params" }')
      .option('--out <file>', 'JSONL output, appended as results arrive; re-running resumes (required)')
      .option('--workers <n>', 'worker threads (default: the available cores; 0: in this thread)', workerCount)
      .option('--backend <method>', 'auto | exact | highs | glpk | jslp, for every line without its own', backendChoice)
      .option('--time-limit <seconds>', 'time limit of each instance (whole chain)', positiveSeconds('--time-limit'))
      .option('--mip-gap <gap>', 'relative MIP gap (default 1e-6)', nonNegativeNumber('--mip-gap'))
      .option('--node-limit <n>', 'branch-and-bound node limit', positiveInteger('--node-limit'))
      .option('--with-peers', 'also run every peer and report its objective and its ratio to the optimum')
      .option('--shard <i/n>', 'take shard I of N (I from 0) by a stable hash of the id; default from Slurm/Kubernetes')
      .option('--shards <n>', 'shard count of a Kubernetes Indexed Job (its completions)', positiveInteger('--shards'))
      .option('--force', 'recompute every instance (empties OUT first)')
      .option('--quiet', 'no progress or summary on stderr')
      .action(async (input: string, flags: BatchFlags) => {
        const { io } = context;
        if (flags.out === undefined) throw new UsageError('batch: --out OUT.jsonl is required');
        const shard = resolveShard({
          ...(flags.shard !== undefined ? { shard: flags.shard } : {}),
          ...(flags.shards !== undefined ? { shards: flags.shards } : {}),
          env: io.env,
        });
        const defaults: TaskOptions = {
          ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
          ...(flags.timeLimit !== undefined ? { timeLimitSeconds: flags.timeLimit } : {}),
          ...(flags.mipGap !== undefined ? { mipGap: flags.mipGap } : {}),
          ...(flags.nodeLimit !== undefined ? { nodeLimit: flags.nodeLimit } : {}),
        };
        const start = performance.now();
        let lastProgress = start;
        const stats = await runBatch({
          input,
          out: flags.out,
          cwd: io.cwd,
          workers: flags.workers ?? defaultWorkers(),
          shard,
          defaults,
          withPeers: flags.withPeers === true,
          force: flags.force === true,
          onRecord: (_record, s) => {
            const now = performance.now();
            if (flags.quiet === true || now - lastProgress < PROGRESS_EVERY_SECONDS * 1000) return;
            lastProgress = now;
            const rate = s.written / ((now - start) / 1000);
            io.stderr(`batch: ${s.written} written, ${s.skipped} already done, ${rate.toFixed(2)} instances/s\n`);
          },
        });
        if (flags.quiet !== true) io.stderr(summaryLine(stats, flags.out));
        // Every instance has its line: errors of single lines are answers, not a failed batch; a
        // crashed solve is (exit 3), and a re-run redoes it.
        context.exit(stats.internalErrors > 0 ? EXIT.internal : EXIT.solved);
      });
  },
};
