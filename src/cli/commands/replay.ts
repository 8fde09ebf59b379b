/** `edgeplan replay problem.json` — online caching policies against the offline optimum on a request trace. */
import { toJson } from '../format.ts';
import { REPLAY_POLICIES, parseProblem, replayCaching, type ReplayPolicyName, type ReplayReport } from '../../api.ts';
import { UsageError } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, inFileAsync, readJsonFile, readProblemArgument, writeTextFile } from '../files.ts';
import { positiveInteger, positiveSeconds } from '../options.ts';

interface ReplayFlags {
  readonly trace?: string;
  readonly requests: number;
  readonly seed: number;
  readonly policies: ReplayPolicyName[];
  readonly decay: number;
  readonly window?: number;
  readonly timeLimit?: number;
  readonly out?: string;
  readonly json?: boolean;
}

function policyList(value: string): ReplayPolicyName[] {
  return value.split(',').map((part) => {
    const match = REPLAY_POLICIES.find((p) => p === part.trim());
    if (match === undefined)
      throw new UsageError(
        `--policies: expected a comma-separated list of ${REPLAY_POLICIES.join(', ')}, got "${part.trim()}"`,
      );
    return match;
  });
}

function decayValue(value: string): number {
  const v = Number(value);
  if (!(v > 0 && v <= 1)) throw new UsageError(`--decay: expected a number in (0, 1], got "${value}"`);
  return v;
}

function formatReplay(report: ReplayReport): string {
  const latency = report.objective !== 'hit-ratio';
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const ms = (x: number): string => `${(x * 1000).toFixed(3)} ms`;
  const source =
    report.seed !== null ? ` drawn from the problem's request model (seed ${report.seed})` : ' from the trace file';
  const lines = [
    `${report.requests} requests${source}; the problem optimises ${latency ? 'mean serve latency' : 'hit ratio'}`,
  ];
  if (report.optimumObjective !== null && report.optimumExpectedHitRatio !== null) {
    const value = latency ? `expected latency ${ms(report.optimumObjective)}, ` : '';
    lines.push(
      `offline optimum: ${value}expected hit ratio ${pct(report.optimumExpectedHitRatio)} (${report.optimumTermination})`,
    );
  }
  const header = latency
    ? 'mean latency  hit ratio  fetches   per window (latency, ms)'
    : 'hit ratio  fetches   per window (hit ratio, %)';
  lines.push('', `${'policy'.padEnd(28)}${header}`);
  for (const r of report.results) {
    const windows = r.windows
      .map((w) => (latency ? ((w.meanLatencySeconds ?? 0) * 1000).toFixed(1) : (w.hitRatio * 100).toFixed(0)))
      .join(' ');
    const cells = latency
      ? `${ms(r.value).padStart(12)}  ${pct(r.hitRatio).padStart(9)}  ${String(r.fetches).padStart(7)}   ${windows}`
      : `${pct(r.hitRatio).padStart(9)}  ${String(r.fetches).padStart(7)}   ${windows}`;
    lines.push(`${r.policy.padEnd(28)}${cells}`);
  }
  lines.push('', 'belady reads the future trace: an offline reference, not a policy a server could run.');
  return `${lines.join('\n')}\n`;
}

export const replayCommand: CliCommand = {
  register(program, context) {
    program
      .command('replay')
      .description(
        'replay a request trace against online cache policies (LRU, least age of context), the offline Belady reference and the static optimum (model-caching)',
      )
      .argument('<problem>', 'model-caching problem JSON file')
      .option('--trace <file>', 'request trace JSON: [{ "user": id, "model": id }, …]; default: drawn from the problem')
      .option('--requests <n>', 'requests to draw when no trace is given', positiveInteger('--requests'), 10_000)
      .option('--seed <n>', 'seed of the drawn trace', positiveInteger('--seed'), 1)
      .option('--policies <list>', `comma-separated: ${REPLAY_POLICIES.join(', ')}`, policyList, [...REPLAY_POLICIES])
      .option('--decay <δ>', 'per-request decay of least-age-of-context scores', decayValue, 0.99)
      .option('--window <n>', 'requests per hit-ratio window (default: 1/20 of the trace)', positiveInteger('--window'))
      .option('--time-limit <seconds>', 'time limit for solving the offline optimum', positiveSeconds('--time-limit'))
      .option('--out <file>', 'write the JSON report to a file')
      .option('--json', 'print the JSON report')
      .action(async (file: string, flags: ReplayFlags) => {
        const { io } = context;
        const input = readProblemArgument(file, io);
        const problem = inFile(input.source, () => parseProblem(input.raw));
        const trace = flags.trace !== undefined ? readJsonFile(flags.trace, io.cwd) : undefined;
        const run = () =>
          replayCaching(problem, {
            ...(trace !== undefined ? { trace } : { requests: flags.requests, seed: flags.seed }),
            policies: flags.policies,
            decay: flags.decay,
            ...(flags.window !== undefined ? { windowSize: flags.window } : {}),
            solve: flags.timeLimit !== undefined ? { timeLimitSeconds: flags.timeLimit } : {},
          });
        const report = flags.trace !== undefined ? await inFileAsync(flags.trace, run) : await run();
        if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, toJson(report));
        io.stdout(flags.json === true ? toJson(report) : formatReplay(report));
        context.exit(EXIT.solved);
      });
  },
};
