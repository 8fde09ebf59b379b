/**
 * moe-placement honours an optional runtime (issue 15 item 2): its memory share and fixed overhead
 * leave less memory for experts on every server (problem default, per-server override), and its
 * per-layer host time replaces the device's per-call overhead.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/index.ts';
import { parseProblem } from '../../../src/formulations/moe-placement/schema.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

const problem = (
  extra: Record<string, unknown> = {},
  servers?: Record<string, unknown>[],
): Record<string, unknown> => ({
  kind: 'moe-placement',
  model: { id: 'mixtral-8x7b', layers: 2 },
  popularity: { generator: 'zipf', exponent: 1, seed: 5 },
  batchTokens: 16,
  servers: servers ?? [
    { name: 'host', device: { id: 'a100-80gb', memoryBytes: 4e9 } },
    { name: 'gpu', device: { id: 'rtx-3090', memoryBytes: 4e9 }, link: 'datacenter' },
    { name: 'orin', device: { id: 'jetson-agx-orin-64gb', memoryBytes: 4e9 }, link: '5g-urllc' },
  ],
  requester: { server: 0 },
  ...extra,
});

describe('moe-placement: runtime', () => {
  it('absent: the whole memory for experts; given: share × memory − overhead (unified devices smaller)', () => {
    expect(parseProblem(problem()).servers.map((s) => s.expertMemoryBytes)).toEqual([4e9, 4e9, 4e9]);
    const vllm = loadCatalog().runtimes.get('vllm')!;
    const p = parseProblem(problem({ runtime: 'vllm' }));
    expect(p.servers[0].expertMemoryBytes).toBeCloseTo(4e9 * 0.9 - vllm.gpuOverheadBytes, -2);
    expect(p.servers[2].expertMemoryBytes).toBeCloseTo(4e9 * 0.9 - vllm.unifiedOverheadBytes, -2);
    expect(p.servers[0].device.perCallOverheadSeconds).toBe(vllm.perLayerOverheadSeconds);
  });

  it('a given expertMemoryBytes within what the runtime leaves is kept; a server runtime overrides the default', () => {
    const servers = [
      { name: 'host', device: 'a100-80gb', expertMemoryBytes: 70e9 },
      { name: 'gpu', device: 'rtx-3090', link: 'datacenter', expertMemoryBytes: 1e9, runtime: 'llama.cpp' },
    ];
    const p = parseProblem(problem({ runtime: 'vllm' }, servers));
    expect(p.servers[0].expertMemoryBytes).toBe(70e9);
    // The server's device is the one its runtime leaves (deviceUnderRuntime), as in split-moe and agent-placement.
    expect(p.servers[0].device.memoryBytes).toBeCloseTo(80e9 * 0.9 - 1.5e9, -2);
    expect(p.servers[1].expertMemoryBytes).toBe(1e9);
    expect(p.servers[1].runtime?.id).toBe('llama.cpp');
  });

  it('a given expertMemoryBytes above what the runtime leaves is bad input at its path, never capped', () => {
    const servers = [
      { name: 'host', device: 'a100-80gb', expertMemoryBytes: 75e9 },
      { name: 'gpu', device: 'rtx-3090', link: 'datacenter' },
    ];
    const over = /^\$\.servers\[0\]\.expertMemoryBytes: 75000000000 bytes exceeds the memory runtime "vllm" leaves /;
    expect(() => parseProblem(problem({ runtime: 'vllm' }, servers))).toThrow(over);
    expect(() => parseProblem(problem({ runtime: 'vllm' }, servers))).toThrow(/: 70500000000 bytes$/);
  });

  it('a runtime that leaves no memory is bad input at the runtime’s path (was: silently 0 bytes for experts)', () => {
    const greedy = { id: 'vllm', gpuOverheadBytes: 30e9, unifiedOverheadBytes: 30e9 };
    expect(() => parseProblem(problem({ runtime: greedy }))).toThrow(
      /^\$\.runtime: runtime "vllm" leaves no memory on .* \(its overhead exceeds its share\)$/,
    );
    const servers = (problem().servers as Record<string, unknown>[]).map((s, i) =>
      i === 1 ? { ...s, runtime: greedy } : s,
    );
    expect(() => parseProblem(problem({}, servers))).toThrow(
      /^\$\.servers\[1\]\.runtime: runtime "vllm" leaves no memory/,
    );
  });

  it('unknown runtime: one line with the JSON path and the close ids', () => {
    expect(() => parseProblem(problem({ runtime: 'tensorrt' }))).toThrow(
      /^\$\.runtime: unknown runtime "tensorrt"; did you mean "tensorrt-llm"/,
    );
    const servers = (problem().servers as Record<string, unknown>[]).map((s, i) =>
      i === 1 ? { ...s, runtime: 'vlm' } : s,
    );
    expect(() => parseProblem(problem({}, servers))).toThrow(/^\$\.servers\[1\]\.runtime: unknown runtime "vlm"/);
  });

  it('metamorphic: more runtime overhead is never better, and memory binds', async () => {
    // One MoE layer (8 experts) on three servers of 2 GB: 5, then 3, then 2 experts fit per server.
    const small = (o: number): Record<string, unknown> => ({
      ...problem({ runtime: runtimeWithOverhead('vllm', o) }),
      model: { id: 'mixtral-8x7b', layers: 1 },
      servers: (problem().servers as Record<string, unknown>[]).map((s) => ({
        ...s,
        device: { ...(s.device as Record<string, unknown>), memoryBytes: 2e9 },
      })),
    });
    await expectOverheadNeverHelps(small, [0, 0.4e9, 0.8e9]);
  });
});
