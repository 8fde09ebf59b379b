/**
 * split-moe honours an optional runtime (issue 15 item 2): its memory share and fixed overhead
 * leave less memory on every edge server and device (problem default, per-server and per-class
 * overrides), and its per-layer host time becomes each layer call's overhead.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/index.ts';
import { splitMoeFormulation as F } from '../../../src/formulations/split-moe/index.ts';
import type { SplitMoeProblem } from '../../../src/formulations/split-moe/schema.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

/** Two Mixtral layers; two servers whose memory (no explicit expert budget) binds the replicas. */
const problem = (extra: Record<string, unknown> = {}, servers?: Record<string, unknown>[]) => ({
  kind: 'split-moe',
  model: { id: 'mixtral-8x7b', layers: 2 },
  servers: servers ?? [
    { name: 'a100', device: { id: 'a100-80gb', memoryBytes: 6e9 } },
    { name: 'l40s', device: { id: 'l40s', memoryBytes: 6e9 } },
  ],
  serverLink: 'edge-lan',
  classes: [
    {
      name: 'phones',
      users: 60,
      device: 'snapdragon-8-gen-3',
      link: '5g-urllc',
      server: 1,
      popularity: { generator: 'zipf', exponent: 1.1, seed: 3 },
    },
    {
      name: 'robots',
      users: 8,
      device: 'jetson-agx-orin-32gb',
      link: '6g-user-experienced',
      server: 0,
      popularity: { generator: 'lognormal', sigma: 0.7, seed: 4 },
    },
  ],
  objective: 'mean',
  ...extra,
});

const parse = (raw: unknown): SplitMoeProblem => F.parse(raw) as SplitMoeProblem;

describe('split-moe: runtime', () => {
  it('absent: the devices as given; given: share × memory − overhead and the host time per call', () => {
    const plain = parse(problem());
    expect(plain.servers.map((s) => s.expertMemoryBytes)).toEqual([6e9, 6e9]);
    const vllm = loadCatalog().runtimes.get('vllm')!;
    const p = parse(problem({ runtime: 'vllm' }));
    expect(p.servers[0].expertMemoryBytes).toBeCloseTo(6e9 * vllm.memoryUtilization - vllm.gpuOverheadBytes, -2);
    expect(p.servers[0].device.perCallOverheadSeconds).toBe(vllm.perLayerOverheadSeconds);
    expect(p.classes[0].device.memoryBytes).toBeLessThan(plain.classes[0].device.memoryBytes);
  });

  it('per-server and per-class runtimes override the default; unknown ids are one line with the path', () => {
    const servers = [
      { name: 'a100', device: { id: 'a100-80gb', memoryBytes: 6e9 }, runtime: 'llama.cpp' },
      { name: 'l40s', device: { id: 'l40s', memoryBytes: 6e9 } },
    ];
    const p = parse(problem({ runtime: 'vllm' }, servers));
    const cat = loadCatalog().runtimes;
    expect(p.servers[0].device.perCallOverheadSeconds).toBe(cat.get('llama.cpp')!.perLayerOverheadSeconds);
    expect(p.servers[1].device.perCallOverheadSeconds).toBe(cat.get('vllm')!.perLayerOverheadSeconds);
    expect(() => parse(problem({ runtime: 'tensorrt' }))).toThrow(/^\$\.runtime: unknown runtime "tensorrt"/);
    const bad = problem();
    (bad.classes[1] as Record<string, unknown>).runtime = 'vlm';
    expect(() => parse(bad)).toThrow(/^\$\.classes\[1\]\.runtime: unknown runtime "vlm"/);
  });

  it('an expert budget above what the runtime leaves is bad input at its path', () => {
    const servers = [
      { name: 'a100', device: { id: 'a100-80gb', memoryBytes: 6e9 }, expertMemoryBytes: 5.9e9 },
      { name: 'l40s', device: { id: 'l40s', memoryBytes: 6e9 } },
    ];
    expect(() => parse(problem({ runtime: 'vllm' }, servers))).toThrow(
      /^\$\.servers\[0\]\.expertMemoryBytes: .* exceeds the memory runtime "vllm" leaves/,
    );
  });

  it('metamorphic: more runtime overhead is never better, and memory binds', async () => {
    const optima = await expectOverheadNeverHelps(
      (o) => problem({ runtime: runtimeWithOverhead('vllm', o) }),
      [0, 1.5e9, 3e9],
    );
    expect(optima.length).toBe(3);
  }, 120_000);
});
