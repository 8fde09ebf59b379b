/** `edgeplan replay problem.json` — online caching policies against the offline optimum on a request trace. */
import { toJson } from '../format.ts';
import { REPLAY_POLICIES, parseProblem, replayCaching, type ReplayPolicyName, type ReplayReport } from '../../api.ts';
import { UsageError } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, inFileAsync, readJsonFile, writeTextFile } from '../files.ts';
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
    if (match === undefined) throw new UsageError(`--policies: expected a comma-separated list of ${REPLAY_POLICIES.join(', ')}, got "${part.trim()}"`);
    return match;
  });
}

function decayValue(value: string): number {
  const v = Number(value);
  if (!(v > 0 && v <= 1)) throw new UsageError(`--decay: expected a number in (0, 1], got "${value}"`);
  return v;
}

function formatReplay(report: ReplayReport): string {
  const lines = [`${report.requests} requests${report.seed !== null ? ` drawn from the problem's request model (seed ${report.seed})` : ' from the trace file'}`];
  if (report.optimumExpectedHitRatio !== null) lines.push(`offline optimum: expected hit ratio ${(report.optimumExpectedHitRatio * 100).toFixed(2)}% (${report.optimumTermination})`);
  lines.push('', 'policy                      hit ratio   per window');
  for (const r of report.results) {
    const windows = r.windows.map((w) => (w.hitRatio * 100).toFixed(0)).join(' ');
    lines.push(`${r.policy.padEnd(28)}${`${(r.hitRatio * 100).toFixed(2)}%`.padStart(9)}   ${windows}`);
  }
  return `${lines.join('\n')}\n`;
}

export const replayCommand: CliCommand = {
  register(program, context) {
    program
      .command('replay')
      .description('replay a request trace against online cache policies (LRU, least age of context) and the offline optimum (model-caching)')
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
        const problem = inFile(file, () => parseProblem(readJsonFile(file, io.cwd)));
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
