/**
 * agent-placement honours an optional runtime (issue 15 item 2): its memory share and fixed
 * overhead leave less memory on every server and user device (problem default, per-server and
 * per-user overrides), and its per-layer host time becomes each layer call's overhead.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/index.ts';
import { parseProblem } from '../../../src/formulations/agent-placement/schema.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

type Raw = Record<string, unknown> & {
  servers: Record<string, unknown>[];
  users: Record<string, unknown>[];
};

const FILE = new URL('../../../problems/agent-placement/assistant-3-modules.json', import.meta.url);

/** The bundled example with each memory budget moved into the device (so a runtime's overhead comes off it). */
function example(extra: Record<string, unknown> = {}): Raw {
  const raw = JSON.parse(readFileSync(FILE, 'utf8')) as Raw;
  const inDevice = (x: Record<string, unknown>): Record<string, unknown> => {
    const { memoryBytes, device, ...rest } = x;
    return { ...rest, device: { id: device, memoryBytes } };
  };
  return { ...raw, servers: raw.servers.map(inDevice), users: raw.users.map(inDevice), ...extra };
}

describe('agent-placement: runtime', () => {
  it('absent: the devices as given; given: share × memory − overhead and the host time per call', () => {
    const plain = parseProblem(example());
    const vllm = loadCatalog().runtimes.get('vllm')!;
    const p = parseProblem(example({ runtime: 'vllm' }));
    expect(plain.servers[0].memoryBytes).toBe(20e9);
    expect(p.servers[0].memoryBytes).toBeCloseTo(20e9 * vllm.memoryUtilization - vllm.gpuOverheadBytes, -2);
    expect(p.servers[0].device.perCallOverheadSeconds).toBe(vllm.perLayerOverheadSeconds);
  });

  it('overrides win; unknown ids and budgets above what the runtime leaves are bad input at their path', () => {
    const raw = example({ runtime: 'vllm' });
    raw.servers[1].runtime = 'llama.cpp';
    const p = parseProblem(raw);
    expect(p.servers[1].device.perCallOverheadSeconds).toBe(
      loadCatalog().runtimes.get('llama.cpp')!.perLayerOverheadSeconds,
    );
    expect(() => parseProblem(example({ runtime: 'tensorrt' }))).toThrow(/^\$\.runtime: unknown runtime "tensorrt"/);
    const bad = example({ runtime: 'vllm' });
    bad.users[0].memoryBytes = 3.99e9;
    expect(() => parseProblem(bad)).toThrow(
      /^\$\.users\[0\]\.memoryBytes: .* exceeds the memory runtime "vllm" leaves/,
    );
  });

  it('metamorphic: more runtime overhead is never better, and memory binds', async () => {
    await expectOverheadNeverHelps((o) => example({ runtime: runtimeWithOverhead('llama.cpp', o) }), [0, 1e9, 3e9]);
  }, 120_000);
});
