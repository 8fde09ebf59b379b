/**
 * parallel-placement's `runtime` (issue 15 item 2): besides its direct block
 * `{ gpuMemoryUtilization, overheadBytes }`, a runtime profile of datasets/runtimes.json (an id or an
 * object overriding one) whose share and per-process overhead (GPU or unified-memory figure) go
 * through the same shared functions as every family, and whose host time per layer call replaces
 * the device's generic one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/index.ts';
import { parseParallel } from '../../../src/formulations/parallel-placement/schema.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

const file = new URL('../../../problems/parallel-placement/vllm-6824-two-gpus-30-50gb.json', import.meta.url);
const base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('parallel-placement: runtime profiles', () => {
  it('the direct block is unchanged; a profile gives its share, overhead and host time', () => {
    const direct = parseParallel(base);
    // The file's own block: the whole 30 / 50 GB free, 1 GB of overhead.
    expect(direct.servers.map((s) => s.usableBytes)).toEqual([29e9, 49e9]);
    const vllm = loadCatalog().runtimes.get('vllm')!;
    const p = parseParallel({ ...base, runtime: 'vllm' });
    expect(p.servers[0].usableBytes).toBeCloseTo(30e9 * vllm.memoryUtilization - vllm.gpuOverheadBytes, -2);
    expect(p.servers[1].device.perCallOverheadSeconds).toBe(vllm.perLayerOverheadSeconds);
    expect(p.overheadBytes).toBe(vllm.gpuOverheadBytes);
    const q = parseParallel({ ...base, runtime: { id: 'vllm', memoryUtilization: 0.95 } });
    expect(q.servers[1].usableBytes).toBeCloseTo(50e9 * 0.95 - vllm.gpuOverheadBytes, -2);
  });

  it('unknown runtime: one line with the JSON path and the close ids', () => {
    expect(() => parseParallel({ ...base, runtime: 'vlm' })).toThrow(
      /^\$\.runtime: unknown runtime "vlm"; did you mean "vllm"/,
    );
  });

  it('metamorphic: more runtime overhead never holds more KV, and memory binds', async () => {
    await expectOverheadNeverHelps((o) => ({ ...base, runtime: runtimeWithOverhead('vllm', o) }), [0, 2e9, 5e9], 'max');
  });
});
