/**
 * Throughput figures of `edgeplan batch` (issue 20), measured rather than asserted in tests:
 *
 *   npx tsx src/batch/measure.ts [--repeat 3] [--skip-grid | --only-grid]
 *
 * 1. Throughput with 1 and 2 worker threads on a grid of 240 small split-finetune instances (GPT-2
 *    medium, 3 clients: freezing ratio × subchannels × epochs; ~0.1 s each), with the threads'
 *    start-up and in steady state (a 240-instance run less a 40-instance run: start-up cancels).
 * 2. Per-instance overhead beyond the solve: the same difference of runs, less the solve time of
 *    the extra instances (the chain's own timing, shared among the workers), per instance.
 * 3. A 1,000-instance grid over the bundled examples, end to end through the CLI (grid, batch with
 *    peers on 2 workers, merge, summarize).
 *
 * The machine's load average is printed beside each figure: on a shared machine the 2-worker
 * speed-up is bounded by the cores other processes leave free.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gridLines, parseGridSweep } from './grid.ts';
import { runBatch } from './run.ts';
import type { BatchRecord } from './types.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const problem = (path: string): unknown => JSON.parse(readFileSync(join(ROOT, 'problems', path), 'utf8'));

function argValue(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const load = (): string => loadavg()[0].toFixed(1);

function solveSeconds(file: string): number {
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as BatchRecord);
  // A figure from a run whose instances failed would time failures, not solves.
  const failed = records.find((r) => r.error !== null);
  if (failed !== undefined) throw new Error(`${file}: ${failed.id} failed: ${failed.error?.rule ?? ''}`);
  return records.reduce((t, r) => t + r.timeSeconds + (r.peerSeconds ?? 0), 0);
}

interface Run {
  readonly wall: number;
  readonly solve: number;
  readonly cpu: number;
}

async function timedRun(dir: string, input: string, workers: number): Promise<Run> {
  const out = join(dir, `out-${workers}.jsonl`);
  const cpu0 = process.cpuUsage();
  const stats = await runBatch({ input, out, workers, force: true });
  const cpu = process.cpuUsage(cpu0);
  return { wall: stats.wallSeconds, solve: solveSeconds(out), cpu: (cpu.user + cpu.system) / 1e6 };
}

async function throughput(dir: string, repeat: number, say: (text: string) => void): Promise<void> {
  const base = { name: 'gpt2-medium', problem: problem('split-finetune/gpt2-medium-3-clients.json') };
  const sweeps = ['accuracy.maxFreezingRatio=0:0.1:0.9', 'subchannels=4,8,12,16,24,32', 'epochs=1,2,5,10'];
  const grid = [...gridLines([base], sweeps.map(parseGridSweep))].map((l) => `${JSON.stringify(l)}\n`);
  const big = join(dir, 'grid-240.jsonl');
  const small = join(dir, 'grid-40.jsonl');
  writeFileSync(big, grid.join(''));
  // Every sixth line: the small run spans the grid like the big one.
  writeFileSync(small, grid.filter((_, i) => i % 6 === 0).join(''));
  const n = grid.length;
  const m = Math.ceil(n / 6);
  say(`\n## 1-2. ${n} split-finetune instances (${sweeps.join(' × ')}), a spread ${m} of them; median of ${repeat}`);
  const rows: Record<number, { rate: number; steady: number; overhead: number; startup: number; cpu: number }[]> = {
    1: [],
    2: [],
  };
  for (let r = 0; r < repeat; r++) {
    for (const workers of [1, 2]) {
      const a = await timedRun(dir, small, workers);
      const b = await timedRun(dir, big, workers);
      // Thread start-up is in both runs and cancels out of the differences.
      const steady = (n - m) / (b.wall - a.wall);
      const overhead = (b.wall - a.wall - (b.solve - a.solve) / workers) / (n - m);
      const startup = a.wall - a.solve / workers - m * overhead;
      // CPU time is not inflated by other processes' load as wall time is: CPU seconds per extra
      // instance, the same for 1 and 2 workers, means the work splits with nothing added.
      const cpu = (b.cpu - a.cpu) / (n - m);
      rows[workers].push({ rate: n / b.wall, steady, overhead, startup, cpu });
      say(
        `  workers ${workers}: ${m} in ${a.wall.toFixed(2)} s, ${n} in ${b.wall.toFixed(2)} s ` +
          `(solve ${a.solve.toFixed(2)} s / ${b.solve.toFixed(2)} s, process CPU ${b.cpu.toFixed(1)} s): ` +
          `${(n / b.wall).toFixed(1)} instances/s with start-up, ${steady.toFixed(1)}/s steady; ` +
          `overhead ${(overhead * 1000).toFixed(1)} ms per instance, ` +
          `start-up ${startup.toFixed(2)} s; CPU ${(cpu * 1000).toFixed(1)} ms per instance (load ${load()})`,
      );
    }
  }
  const med = (w: number, key: 'rate' | 'steady' | 'overhead' | 'startup' | 'cpu'): number =>
    median(rows[w].map((x) => x[key]));
  say(
    `  => with start-up: 1 worker ${med(1, 'rate').toFixed(1)}/s, 2 workers ${med(2, 'rate').toFixed(1)}/s, ` +
      `speed-up ${(med(2, 'rate') / med(1, 'rate')).toFixed(2)}×`,
  );
  say(
    `  => steady state: 1 worker ${med(1, 'steady').toFixed(1)}/s, 2 workers ${med(2, 'steady').toFixed(1)}/s, ` +
      `speed-up ${(med(2, 'steady') / med(1, 'steady')).toFixed(2)}×`,
  );
  say(
    `  => overhead beyond the solve, 1 worker: ${(med(1, 'overhead') * 1000).toFixed(1)} ms per instance; ` +
      `thread start-up ${med(1, 'startup').toFixed(2)} s (1 worker), ${med(2, 'startup').toFixed(2)} s (2 workers)`,
  );
  say(
    `  => process CPU per instance (steady): 1 worker ${(med(1, 'cpu') * 1000).toFixed(1)} ms, ` +
      `2 workers ${(med(2, 'cpu') * 1000).toFixed(1)} ms: on ${availableParallelism()} otherwise idle cores ` +
      `2 workers would reach at most ${((2 * med(1, 'cpu')) / med(2, 'cpu')).toFixed(2)}× one worker`,
  );
}

async function main(): Promise<void> {
  const repeat = argValue('--repeat', 3);
  const dir = mkdtempSync(join(tmpdir(), 'edgeplan-measure-'));
  const lines: string[] = [];
  const say = (text: string): void => {
    lines.push(text);
    console.log(text);
  };
  say(`# edgeplan batch throughput (${new Date().toISOString()})`);
  say(`machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}`);
  try {
    if (!process.argv.includes('--only-grid')) await throughput(dir, repeat, say);
    if (!process.argv.includes('--skip-grid')) {
      say('\n## 3. 1,000-instance grid over the bundled examples, end to end through the CLI');
      const cli = (args: string[]): string =>
        execFileSync(process.execPath, [join(ROOT, 'bin/edgeplan.js'), ...args], {
          cwd: dir,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          maxBuffer: 1 << 28,
        });
      const p = (f: string): string => join(ROOT, 'problems', f);
      const t0 = performance.now();
      const gridText = [
        cli([
          'grid',
          p('pipeline-placement/edgeshard-llama-2-7b.json'),
          '--sweep',
          'mode.batch=1,2,4,8',
          '--sweep',
          'mode.promptTokens=32:32:320',
          '--sweep',
          'mode.outputTokens=32,64,96,128,256',
        ]),
        cli([
          'grid',
          p('speculative-threshold/phone-1b-draft-llama-2-7b-5g.json'),
          p('speculative-threshold/satellite.json'),
          '--sweep',
          'contextTokens=256:256:2048',
          '--sweep',
          'channel.states[0].link.uplinkBitsPerSecond=5e6,1e7,2e7,5e7,1e8',
          '--sweep',
          'payload.headerBytes=20,40,80,160,320',
        ]),
        cli([
          'grid',
          p('split-finetune/gpt2-medium-3-clients.json'),
          '--sweep',
          'accuracy.maxFreezingRatio=0:0.1:0.9',
          '--sweep',
          'subchannels=4,8,12,16,24',
          '--sweep',
          'epochs=1,5',
        ]),
        cli([
          'grid',
          p('pipeline-placement/edgeshard-memory-trap.json'),
          '--sweep',
          'servers[0].memoryBytes=1e9:2.5e8:3.25e9',
          '--sweep',
          'servers[1].memoryBytes=1e9:2.5e8:3.25e9',
          '--sweep',
          'mode.promptTokens=1,4,16',
        ]),
      ].join('');
      writeFileSync(join(dir, 'grid-1000.jsonl'), gridText);
      const t1 = performance.now();
      execFileSync(
        process.execPath,
        [
          join(ROOT, 'bin/edgeplan.js'),
          'batch',
          'grid-1000.jsonl',
          '--out',
          'out-1000.jsonl',
          '--workers',
          '2',
          '--with-peers',
          '--quiet',
        ],
        { cwd: dir, stdio: 'inherit' },
      );
      const t2 = performance.now();
      cli(['merge', 'out-1000.jsonl', '--input', 'grid-1000.jsonl', '--out', 'all-1000.jsonl']);
      const summary = cli(['summarize', 'all-1000.jsonl', '--markdown']);
      const t3 = performance.now();
      const count = gridText.split('\n').filter((l) => l !== '').length;
      const work = solveSeconds(join(dir, 'all-1000.jsonl'));
      say(
        `  ${count} instances: grid ${((t1 - t0) / 1000).toFixed(1)} s, batch ${((t2 - t1) / 1000).toFixed(1)} s ` +
          `(${(count / ((t2 - t1) / 1000)).toFixed(1)} instances/s on 2 workers, with peers; ` +
          `solve + peers ${work.toFixed(1)} s ` +
          `of work), merge + summarize ${((t3 - t2) / 1000).toFixed(1)} s (load ${load()})\n`,
      );
      say(summary);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
