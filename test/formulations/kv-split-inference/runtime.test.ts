/**
 * kv-split-inference honours an optional runtime (issue 15 item 2): on the server its memory share
 * and fixed overhead shrink the memory, it pages every user's KV cache and sizes the prefill
 * workspace by its attention kernel; on every device (server and users) its host time per layer
 * call replaces the device's generic one, and on the users' devices its share and overhead apply.
 */
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { loadCatalog } from '../../../src/catalog/index.ts';
import { prefillWorkspaceBytes } from '../../../src/cost/memory.ts';
import { kvBytesPerTokenPerLayer } from '../../../src/cost/model.ts';
import { kvTables } from '../../../src/formulations/kv-split-inference/cost.ts';
import { parseKvProblem } from '../../../src/formulations/kv-split-inference/schema.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

/** Issue 15's int4 Llama-3-8B: 30 phones, 4096 + 2048 tokens, on an A100. */
const problem = (extra: Record<string, unknown> = {}, promptTokens = 4096): Record<string, unknown> => ({
  kind: 'kv-split-inference',
  model: { id: 'llama-3-8b', weightDtype: 'int4' },
  server: { device: 'a100-80gb' },
  users: Array.from({ length: 30 }, (_, i) => ({
    name: `phone-${i}`,
    device: 'phone',
    link: 'edge-cloud',
    promptTokens,
    outputTokens: 2048,
  })),
  objective: 'max',
  ...extra,
});

describe('kv-split-inference: runtime', () => {
  it("absent: today's server (whole memory, FasterTransformer buffers, exact KV)", () => {
    const p = parseKvProblem(problem());
    expect(p.server.memoryBytes).toBe(80e9);
    expect(p.serverRuntime).toBeNull();
  });

  it('vLLM: share and overhead off the server, paged KV, fused-attention workspace, its host time per call', () => {
    const vllm = loadCatalog().runtimes.get('vllm')!;
    const p = parseKvProblem(problem({ runtime: 'vllm' }, 4100));
    expect(p.server.memoryBytes).toBeCloseTo(80e9 * 0.9 - vllm.gpuOverheadBytes, -2);
    expect(p.server.perCallOverheadSeconds).toBe(vllm.perLayerOverheadSeconds);
    const t = kvTables(p);
    // 4100 + 2048 = 6148 tokens are allocated as 385 blocks of 16 = 6160 tokens, per server layer.
    expect(t.users[0][0].serverKvBytes).toBe(p.model.layers * 6160 * kvBytesPerTokenPerLayer(p.model));
    expect(t.workspaceBytes[0]).toBe(prefillWorkspaceBytes(p.model, vllm, 1, 4100));
    // The phones are unified-memory devices: the smaller overhead.
    expect(p.users[0].device.memoryBytes).toBeCloseTo(8e9 * 0.9 - vllm.unifiedOverheadBytes, -2);
  });

  it('server and user runtimes override the default', () => {
    const raw = problem({ runtime: 'vllm', server: { device: 'a100-80gb', runtime: 'tensorrt-llm' } });
    (raw.users as Record<string, unknown>[])[3].runtime = 'llama.cpp';
    const p = parseKvProblem(raw);
    expect(p.serverRuntime?.id).toBe('tensorrt-llm');
    const llamacpp = loadCatalog().runtimes.get('llama.cpp')!;
    expect(p.users[3].device.perCallOverheadSeconds).toBe(llamacpp.perLayerOverheadSeconds);
  });

  it('unknown runtime: one line with the JSON path and the close ids', () => {
    expect(() => parseKvProblem(problem({ runtime: 'vlm' }))).toThrow(
      /^\$\.runtime: unknown runtime "vlm"; did you mean "vllm"/,
    );
    const raw = problem();
    (raw.users as Record<string, unknown>[])[7].runtime = 'llamacpp';
    expect(() => parseKvProblem(raw)).toThrow(
      /^\$\.users\[7\]\.runtime: unknown runtime "llamacpp"; did you mean "llama.cpp"/,
    );
  });

  it('metamorphic: more server overhead is never better, and memory binds (users keep layers on their phones)', async () => {
    const withServer = (o: number): Record<string, unknown> =>
      problem({ server: { device: 'a100-80gb', runtime: runtimeWithOverhead('vllm', o) } });
    await expectOverheadNeverHelps(withServer, [0, 30e9, 45e9]);
  });
});

describe("issue 15's int4 Llama-3-8B case: the optimum rebuilt with 16-bit KV and activations", () => {
  it('20.05 ms per token (every phone at cut 0); 8.93 ms when KV and activations followed the int4 weights', async () => {
    // The A100's decode step reads 30 users' 16-bit KV (24.16 GB) every token: 2.2× the step with an
    // int4 cache. No file pins the "8088 s" figure; this is the case's optimum through solve.
    const sixteen = await solve(problem(), { timeLimitSeconds: 60 });
    expect(sixteen.termination).toBe('optimal');
    expect(sixteen.solution!.objective).toBeCloseTo(0.0200522152, 9);
    expect((sixteen.solution!.decision as { cuts: number[] }).cuts.every((c) => c === 0)).toBe(true);
    const oneDtype = await solve(
      problem({ model: { id: 'llama-3-8b', weightDtype: 'int4', kvDtype: 'int4', activationDtype: 'int4' } }),
      { timeLimitSeconds: 60 },
    );
    expect(oneDtype.solution!.objective).toBeCloseTo(0.008933201, 8);
  });
});
