/** `edgeplan calibrate` on vLLM benchmark outputs, through the CLI's main(): per-file settings, bad input exits 2. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDevice } from '../../src/catalog/index.ts';
import { main } from '../../src/cli/main.ts';
import { latencyJson, throughputJson } from './vllm-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeplan-vllm-cli-'));
const device = resolveDevice('rtx-3090', '$');
const truth = { flops: 55e12, bytes: 720e9, overhead: device.perCallOverheadSeconds };
writeFileSync(join(dir, 'latency.json'), latencyJson(truth, 1, 32, 128));
writeFileSync(join(dir, 'throughput.json'), throughputJson(truth, 64, 512, 128, 200));
writeFileSync(join(dir, 'serve.json'), JSON.stringify({ mean_ttft_ms: 20, mean_tpot_ms: 9 }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: dir, env: {} });
  return { code, out, err };
}

const base = ['calibrate', '--device', 'rtx-3090', '--model', 'llama-2-7b'];

describe('edgeplan calibrate with vLLM benchmark outputs', () => {
  it('fits a latency and a throughput file with their own settings, and says the fit is under-determined', async () => {
    const r = await run(
      ...base,
      'latency.json#input-len=32,output-len=128,batch-size=1',
      'throughput.json',
      '--input-len',
      '512',
      '--output-len',
      '128',
      '--batch-size',
      '64',
      '--json',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as {
      fit: { effectiveFlopsPerSecond: number; effectiveBytesPerSecond: number; warnings: string[] };
      measurements: number;
    };
    expect(doc.measurements).toBe(2);
    expect(doc.fit.effectiveFlopsPerSecond / truth.flops).toBeCloseTo(1, 3);
    expect(doc.fit.effectiveBytesPerSecond / truth.bytes).toBeCloseTo(1, 3);
    expect(doc.fit.warnings.join(' ')).toMatch(/under-determined/);
  });

  it('a missing setting is one line naming the option, exit 2', async () => {
    const r = await run(...base, 'latency.json', 'throughput.json', '--output-len', '128', '--batch-size', '8');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/--input-len: required for a vLLM benchmark_latency file/);
  });

  it('neither format, one vLLM file alone, wrong lengths: refused with the reason, exit 2', async () => {
    const neither = await run(...base, 'serve.json');
    expect(neither.code).toBe(2);
    expect(neither.err.trim().split('\n')).toHaveLength(1);
    expect(neither.err).toMatch(/avg_latency.*elapsed_time.*it has: mean_ttft_ms/);
    const settings = ['--input-len', '512', '--output-len', '128', '--batch-size', '64'];
    const alone = await run(...base, 'throughput.json', ...settings);
    expect(alone.code).toBe(2);
    expect(alone.err).toMatch(/one vLLM benchmark run is one measurement/);
    const wrong = await run(
      ...base,
      'latency.json#input-len=32,output-len=128,batch-size=1',
      'throughput.json#input-len=256,output-len=128,batch-size=64',
    );
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/total_num_tokens: 128000 tokens is not 200 requests × \(256 \+ 128\)/);
    const badSuffix = await run(...base, 'latency.json#input=32', 'throughput.json');
    expect(badSuffix.code).toBe(2);
    expect(badSuffix.err).toMatch(/after "#" expected input-len=I/);
  });
});
