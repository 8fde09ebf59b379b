/**
 * pipeline-placement under issue 15: an optional runtime (problem default, per-server override)
 * takes its share, fixed overhead and prefill workspace from each server's memory and pages the KV
 * cache; the KV cache and the hidden states keep their own 16-bit formats under int4 weights;
 * training defaults to mixed-16 and counts the fp32 loss buffers on the stage holding the head.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { runCli } from '../../support/cli.ts';
import { loadCatalog } from '../../../src/catalog/index.ts';
import { prefillWorkspaceBytes } from '../../../src/cost/memory.ts';
import { kvBytesPerTokenPerLayer, layerParams, type ModelSpec } from '../../../src/cost/model.ts';
import { InputError } from '../../../src/errors.ts';
import { stageMemory, tablesOf } from '../../../src/formulations/pipeline-placement/cost.ts';
import { parsePipeline } from '../../../src/formulations/pipeline-placement/schema.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

const inference = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'pipeline-placement',
  model: 'llama-2-7b',
  mode: { kind: 'inference-latency', batch: 8, promptTokens: 1000, outputTokens: 200 },
  servers: [
    { name: 'a', device: 'rtx-3090', profile: 'none' },
    { name: 'b', device: 'jetson-agx-orin-32gb', profile: 'none' },
    { name: 'c', device: 'jetson-orin-nx-16gb', profile: 'none' },
  ],
  links: { default: { name: 'lan', uplinkBitsPerSecond: 1e9, downlinkBitsPerSecond: 1e9, latencySeconds: 1e-3 } },
  ...extra,
});

describe('pipeline-placement: runtime', () => {
  it("absent: today's model (whole memory, exact KV); given: share, overhead and workspace off the memory", () => {
    const bare = parsePipeline(inference());
    expect(bare.servers.map((s) => s.memoryBytes)).toEqual(bare.servers.map((s) => s.device.memoryBytes));
    expect(bare.servers.every((s) => s.runtime === null && s.runtimeReservedBytes === 0)).toBe(true);
    const p = parsePipeline(inference({ runtime: 'vllm' }));
    const vllm = loadCatalog().runtimes.get('vllm')!;
    const workspace = prefillWorkspaceBytes(p.model, vllm, 8, 1000);
    expect(workspace).toBeGreaterThan(0);
    // RTX 3090: a discrete GPU (CUDA context); Orins: unified memory (the smaller overhead).
    expect(p.servers[0].memoryBytes).toBeCloseTo(24e9 * 0.9 - vllm.gpuOverheadBytes - workspace, -3);
    expect(p.servers[1].memoryBytes).toBeCloseTo(32e9 * 0.9 - vllm.unifiedOverheadBytes - workspace, -3);
  });

  it('a per-server runtime overrides the problem default', () => {
    const raw = inference({ runtime: 'vllm' });
    (raw.servers as Record<string, unknown>[])[2].runtime = 'llama.cpp';
    const p = parsePipeline(raw);
    expect(p.servers.map((s) => s.runtime?.id)).toEqual(['vllm', 'vllm', 'llama.cpp']);
  });

  it('paged KV: vLLM allocates 1200 tokens as 75 blocks of 16; llama.cpp exactly', () => {
    const raw = inference({
      runtime: 'vllm',
      mode: { kind: 'inference-latency', batch: 1, promptTokens: 1001, outputTokens: 200 },
    });
    const t = tablesOf(parsePipeline(raw));
    const model = parsePipeline(raw).model;
    const perLayer = kvBytesPerTokenPerLayer(model);
    expect(t.kvPrefix[0][1]).toBe(1216 * perLayer);
    const t2 = tablesOf(parsePipeline({ ...raw, runtime: 'llama.cpp' }));
    expect(t2.kvPrefix[0][1]).toBe(1201 * perLayer);
  });

  it("the runtime's per-layer host time and per-step time enter the roofline", () => {
    const slow = { id: 'vllm', perLayerOverheadSeconds: 1e-3, perStepOverheadSeconds: 0.01 };
    const base = tablesOf(parsePipeline(inference()));
    const t = tablesOf(parsePipeline(inference({ runtime: slow })));
    const L = t.layers;
    // Every layer pays 1 ms per call instead of the device's default; the head's stage the 10 ms step.
    expect(t.timePrefix[0][L]).toBeGreaterThan(base.timePrefix[0][L] + 0.01);
  });

  it('unknown runtime: InputError at its JSON path with the close ids', () => {
    expect(() => parsePipeline(inference({ runtime: 'vlm' }))).toThrow(InputError);
    expect(() => parsePipeline(inference({ runtime: 'vlm' }))).toThrow(
      /^\$\.runtime: unknown runtime "vlm"; did you mean "vllm"/,
    );
    const raw = inference();
    (raw.servers as Record<string, unknown>[])[1].runtime = 'lama.cpp';
    expect(() => parsePipeline(raw)).toThrow(
      /^\$\.servers\[1\]\.runtime: unknown runtime "lama.cpp"; did you mean "llama.cpp"/,
    );
  });

  it('metamorphic, inference: more runtime overhead is never better, and memory binds', async () => {
    await expectOverheadNeverHelps(
      (o) => inference({ runtime: runtimeWithOverhead('vllm', o) }),
      [0, 2e9, 6e9, 12e9, 20e9],
    );
  });

  it('metamorphic, training: more runtime overhead is never better, and memory binds', async () => {
    const training = (o: number): Record<string, unknown> => ({
      ...inference({ runtime: runtimeWithOverhead('pytorch-training', o) }),
      model: { id: 'gpt2-medium', layers: 8 },
      mode: { kind: 'training', microBatches: 4, microBatchSize: 4, sequenceLength: 1024 },
      servers: [
        { name: 'a', device: 'rtx-3090', memoryBytes: 8e9 },
        { name: 'b', device: 'jetson-orin-nx-16gb', memoryBytes: 6e9 },
        { name: 'c', device: 'jetson-orin-nx-16gb', memoryBytes: 6e9 },
      ],
    });
    await expectOverheadNeverHelps(training, [0, 1e9, 3e9, 5e9, 7e9]);
  });
});

describe('pipeline-placement: number formats (issue 15 item 1)', () => {
  const int4 = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
    inference({ model: { id: 'llama-3-8b', weightDtype: 'int4', ...extra } });

  it('int4 weights keep a 16-bit KV cache and 16-bit hidden states at the hops', () => {
    const p = parsePipeline(int4());
    const t = tablesOf(p);
    const m = p.model;
    expect(t.kvPrefix[0][1]).toBe(8 * 1200 * 2 * m.kvHeads * m.headDim * 2);
    expect(t.hopBytes[0]).toBe(8 * m.hiddenSize * 2);
  });

  it('kvDtype and activationDtype when given', () => {
    const t = tablesOf(parsePipeline(int4({ kvDtype: 'fp8', activationDtype: 'fp32' })));
    const m = parsePipeline(int4()).model;
    expect(t.kvPrefix[0][1]).toBe(8 * 1200 * 2 * m.kvHeads * m.headDim * 1);
    expect(t.hopBytes[0]).toBe(8 * m.hiddenSize * 4);
  });
});

describe('pipeline-placement: training accounting (issue 15 item 4)', () => {
  const training = (mode: Record<string, unknown> = {}): Record<string, unknown> => ({
    kind: 'pipeline-placement',
    model: { id: 'gpt2-medium', layers: 4 },
    mode: { kind: 'training', microBatches: 2, microBatchSize: 2, sequenceLength: 256, ...mode },
    servers: [{ name: 'a', device: 'a100-80gb' }],
  });

  it('mixed-16 by default (16 B per trained parameter); seed-12 when asked', () => {
    const model: ModelSpec = parsePipeline(training()).model;
    const params = layerParams(model, 2);
    const layer2 = (raw: Record<string, unknown>): number => {
      const t = tablesOf(parsePipeline(raw));
      return t.statePrefix[0][2] - t.statePrefix[0][1];
    };
    expect(layer2(training())).toBe(params * 16);
    expect(layer2(training({ accounting: 'seed-12' }))).toBe(params * 12);
  });

  it('the stage holding the head counts the fp32 logits upcast and gradient once, the logits per micro-batch', () => {
    const raw = training({ schedule: 'gpipe' });
    const p = parsePipeline(raw);
    const t = tablesOf(p);
    const tokens = 2 * 256;
    const V = p.model.vocabSize;
    const head = stageMemory(t, 0, 4, 4, 1);
    const noHead = stageMemory(t, 0, 3, 3, 1);
    // Layer 4 holds the head: its state adds the head matrix and fp32 upcast + gradient of the logits.
    expect(head.stateBytes - noHead.stateBytes).toBeGreaterThanOrEqual(tokens * V * 8);
    // GPipe keeps both micro-batches' 16-bit logits.
    expect(head.activationBytes - noHead.activationBytes).toBe(2 * tokens * V * 2);
  });
});

describe('pipeline-placement: the vLLM example', () => {
  it("llama-2-13b-vllm-3-edge-servers.json: optimal within the runtimes' memory, slower than ignoring them", async () => {
    const file = new URL('../../../problems/pipeline-placement/llama-2-13b-vllm-3-edge-servers.json', import.meta.url);
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & {
      servers: Record<string, unknown>[];
    };
    const withRuntime = await solve(raw);
    expect(withRuntime.termination).toBe('optimal');
    expect(withRuntime.solution!.objective).toBeCloseTo(0.147614, 5);
    const bare = { ...raw, servers: raw.servers.map(({ runtime: _, ...s }) => s) };
    delete (bare as Record<string, unknown>).runtime;
    const ignored = await solve(bare);
    expect(ignored.solution!.objective).toBeCloseTo(0.117169, 5);
    // The plan that ignores the runtime puts 28 layers on the 3090: more than vLLM leaves room for.
    const p = parsePipeline(raw);
    const t = tablesOf(p);
    const j = p.servers.findIndex((s) => s.name === 'rtx3090');
    expect(stageMemory(t, j, 13, 40, 1).totalBytes).toBeGreaterThan(p.servers[j].memoryBytes);
  });

  it('from the CLI: solves the example; an unknown runtime is one line with its JSON path, exit 2', async () => {
    const ok = await runCli(['solve', 'problems/pipeline-placement/llama-2-13b-vllm-3-edge-servers.json']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/memory 18\.90 GB of 19\.25 GB/);
    const bad = await runCli(['solve', 'test/formulations/pipeline-placement/fixtures/unknown-runtime.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/\$\.servers\[2\]\.runtime: unknown runtime "lama.cpp"; did you mean "llama.cpp"/);
  });
});
