/**
 * fleet-serving honours an optional runtime on its device nodes (issue 15 item 2): each GPU of a
 * node's tensor-parallel group keeps the runtime's share minus its fixed overhead, so a node holds
 * fewer layers when the KV cache of its batch binds, and each layer call costs the runtime's host
 * time. Table nodes (measured throughput) are taken as measured.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/index.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

const fleet = (extra: Record<string, unknown> = {}, nodes?: Record<string, unknown>[]): Record<string, unknown> => ({
  kind: 'fleet-serving',
  model: 'llama-2-7b',
  workload: { batch: 16, promptTokens: 3072, outputTokens: 1024 },
  nodes: nodes ?? [
    { name: 'gpu3090', device: 'rtx-3090', count: 2 },
    { name: 'orin', device: 'jetson-agx-orin-64gb' },
  ],
  defaultLink: { link: 'edge-lan' },
  ...extra,
});

describe('fleet-serving: runtime on device nodes', () => {
  it('a runtime holds fewer layers per node; a per-node runtime overrides the default', () => {
    const bare = parseFleet(fleet());
    const vllm = parseFleet(fleet({ runtime: 'vllm' }));
    bare.nodes.forEach((n, i) => expect(vllm.nodes[i].maxLayers).toBeLessThanOrEqual(n.maxLayers));
    expect(vllm.nodes[0].maxLayers).toBeLessThan(bare.nodes[0].maxLayers);
    const nodes = [
      { name: 'gpu3090', device: 'rtx-3090', runtime: { id: 'vllm', gpuOverheadBytes: 10e9 } },
      { name: 'orin', device: 'jetson-agx-orin-64gb' },
    ];
    const p = parseFleet(fleet({ runtime: 'vllm' }, nodes));
    expect(p.nodes[0].maxLayers).toBeLessThan(vllm.nodes[0].maxLayers);
    expect(p.nodes[1].maxLayers).toBe(vllm.nodes[2].maxLayers);
  });

  it('a tensor-parallel group pays the overhead once per GPU', () => {
    const vllm = loadCatalog().runtimes.get('vllm')!;
    const runtime = { id: 'vllm', gpuOverheadBytes: 5e9 };
    // Two 3090s: 2 × (24 GB × 0.9 − 5 GB) = 33.2 GB for weights and KV (≈ 1.5 GB per layer at this batch);
    // one overhead for the pair would leave 5 GB more, three more layers.
    const usable = 2 * (24e9 * vllm.memoryUtilization - 5e9);
    const node = (extra: Record<string, unknown>): Record<string, unknown>[] => [
      { name: 'pair', device: 'rtx-3090', gpus: 2, ...extra },
    ];
    const pair = parseFleet(fleet({ runtime }, node({}))).nodes[0];
    expect(pair.maxLayers).toBe(parseFleet(fleet({}, node({ memoryBytes: usable }))).nodes[0].maxLayers);
    expect(pair.maxLayers).toBeLessThan(parseFleet(fleet({}, node({ memoryBytes: usable + 5e9 }))).nodes[0].maxLayers);
  });

  it('unknown runtime: one line with the JSON path and the close ids', () => {
    expect(() => parseFleet(fleet({ runtime: 'vlm' }))).toThrow(
      /^\$\.runtime: unknown runtime "vlm"; did you mean "vllm"/,
    );
    const nodes = [{ name: 'gpu3090', device: 'rtx-3090', runtime: 'tensorrt' }];
    expect(() => parseFleet(fleet({}, nodes))).toThrow(
      /^\$\.nodes\[0\]\.runtime: unknown runtime "tensorrt"; did you mean "tensorrt-llm"/,
    );
  });

  it('metamorphic: more runtime overhead never serves more tokens/s, and memory binds', async () => {
    await expectOverheadNeverHelps((o) => fleet({ runtime: runtimeWithOverhead('vllm', o) }), [0, 2e9, 10e9], 'max');
  });
});
