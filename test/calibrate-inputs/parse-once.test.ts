/**
 * `edgeplan calibrate` parses each measurement file's JSON once: the format checks (llama-bench, vLLM benchmark output,
 * edgeplan's JSON rows) and the reading share one parse (src/cost/calibrate.ts readMeasurementFile).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { resolveDevice, resolveModel } from '../../src/catalog/index.ts';
import { rooflineTime } from '../../src/cost/device.ts';
import { rowWork } from '../../src/cost/layers.ts';
import { main } from '../../src/cli/main.ts';
import { latencyJson, throughputJson } from './vllm-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeplan-parse-once-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const rtx = resolveDevice('rtx-3090', '$');
const llama = resolveModel('llama-2-7b', '$');
const truth = { ...rtx, computeEfficiency: 0.55, bandwidthEfficiency: 0.7, perCallOverheadSeconds: 2e-5 };
const rows = [1, 8, 32].flatMap((batch) =>
  [1, 64, 512].map((tokens) => ({
    layer: 'decoder',
    device: 'rtx-3090',
    batch,
    tokens,
    context: tokens,
    seconds: rooflineTime(truth, rowWork(llama, 'decoder', 1, { batch, tokens, contextTokens: tokens })).seconds,
  })),
);
writeFileSync(join(dir, 'rows.json'), JSON.stringify({ measurements: rows }, null, 2));
const vllm = { flops: 55e12, bytes: 720e9, overhead: rtx.perCallOverheadSeconds };
writeFileSync(join(dir, 'latency.json'), latencyJson(vllm, 1, 32, 128));
writeFileSync(join(dir, 'throughput.json'), throughputJson(vllm, 64, 512, 128, 200));

/**
 * Runs calibrate in process on `args` (file arguments, then options) and counts the JSON.parse calls on the text of
 * each of `files`.
 */
async function parsesOf(files: readonly string[], args: readonly string[]): Promise<number[]> {
  const texts = files.map((f) => readFileSync(join(dir, f), 'utf8').trim());
  const parse = vi.spyOn(JSON, 'parse');
  let err = '';
  const io = { stdout: () => undefined, stderr: (t: string) => void (err += t), cwd: dir, env: {} };
  const code = await main(['calibrate', ...args, '--device', 'rtx-3090', '--model', 'llama-2-7b'], io);
  expect(err).toBe('');
  expect(code).toBe(0);
  const calls = parse.mock.calls.map(([text]) => (typeof text === 'string' ? text.trim() : null));
  return texts.map((t) => calls.filter((c) => c === t).length);
}

describe('edgeplan calibrate: each JSON file parsed once', () => {
  it('edgeplan {"measurements": [...]} rows', async () => {
    expect(await parsesOf(['rows.json'], ['rows.json'])).toEqual([1]);
  });

  it('vLLM latency and throughput outputs, fitted together', async () => {
    const args = ['latency.json#input-len=32,output-len=128,batch-size=1', 'throughput.json'];
    const settings = ['--input-len', '512', '--output-len', '128', '--batch-size', '64'];
    expect(await parsesOf(['latency.json', 'throughput.json'], [...args, ...settings])).toEqual([1, 1]);
  });
});
