/**
 * speculative-threshold honours an optional runtime (issue 15 item 2) on both sides of the round:
 * the device that drafts (and may decode alone) and the server that verifies. The runtime's share
 * and fixed overhead leave less memory for the weights (below their size they stream from
 * storage), and its per-layer and per-step host times enter every pass.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/index.ts';
import { draftSecondsPerToken, verifySeconds } from '../../../src/formulations/speculative-threshold/cost.ts';
import { parse as parseProblem } from '../../../src/formulations/speculative-threshold/schema.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

const file = new URL('../../../problems/speculative-threshold/phone-1b-draft-llama-2-7b-5g.json', import.meta.url);
const base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;

describe('speculative-threshold: runtime', () => {
  it('absent: the devices as given; given: memory share and overhead off, host times on every pass', () => {
    const bare = parseProblem(base);
    expect(bare.server.memoryBytes).toBe(24e9);
    const vllm = loadCatalog().runtimes.get('vllm')!;
    const p = parseProblem({ ...base, runtime: 'vllm' });
    expect(p.server.memoryBytes).toBeCloseTo(24e9 * 0.9 - vllm.gpuOverheadBytes, -2);
    expect(p.server.perCallOverheadSeconds).toBe(vllm.perLayerOverheadSeconds);
    // The phone is a unified-memory device: the smaller overhead.
    expect(p.device.memoryBytes).toBeCloseTo(bare.device.memoryBytes * 0.9 - vllm.unifiedOverheadBytes, -2);
    // Every verification pass pays vLLM's per-step time.
    const noStep = parseProblem({ ...base, runtime: { id: 'vllm', perStepOverheadSeconds: 0 } });
    expect(verifySeconds(p, 4) - verifySeconds(noStep, 4)).toBeCloseTo(vllm.perStepOverheadSeconds, 12);
  });

  it('per-side runtimes override the default', () => {
    const p = parseProblem({ ...base, runtime: 'vllm', draft: { ...base.draft, runtime: 'llama.cpp' } });
    expect(p.draftRuntime?.id).toBe('llama.cpp');
    expect(p.targetRuntime?.id).toBe('vllm');
    const q = parseProblem({ ...base, draft: { ...base.draft, runtime: 'transformers' } });
    // transformers: 0.75 ms per layer call and 3 ms per step on the phone's draft passes.
    expect(draftSecondsPerToken(q)).toBeGreaterThan(draftSecondsPerToken(parseProblem(base)) + 0.003);
  });

  it('unknown runtime: one line with the JSON path and the close ids', () => {
    expect(() => parseProblem({ ...base, runtime: 'vlm' })).toThrow(
      /^\$\.runtime: unknown runtime "vlm"; did you mean "vllm"/,
    );
    expect(() => parseProblem({ ...base, target: { ...base.target, runtime: 'tensorrt' } })).toThrow(
      /^\$\.target\.runtime: unknown runtime "tensorrt"; did you mean "tensorrt-llm"/,
    );
  });

  it('metamorphic: more server runtime overhead is never better, and memory binds (the target streams)', async () => {
    // RTX 3090: 24 GB × 0.9 = 21.6 GB for Llama-2-7B's 13.5 GB until the overhead passes ~8 GB.
    await expectOverheadNeverHelps(
      (o) => ({ ...base, target: { ...base.target, runtime: runtimeWithOverhead('vllm', o) } }),
      [0, 4e9, 9e9],
    );
  });
});
