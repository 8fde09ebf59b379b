/**
 * split-finetune honours an optional runtime (issue 15 item 2) on the server and on every client:
 * the runtime's share and fixed overhead leave each device less memory for weights, adapters,
 * optimizer state and activations, and its host time per layer call enters the roofline.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/index.ts';
import { parseSplitFinetune } from '../../../src/formulations/split-finetune/schema.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

const file = new URL('../../../problems/split-finetune/gpt2-medium-3-clients.json', import.meta.url);
const base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & {
  server: Record<string, unknown>;
  clients: Record<string, unknown>[];
};

describe('split-finetune: runtime', () => {
  it('absent: the devices as given; given: share and overhead off each device, its host time per call', () => {
    const bare = parseSplitFinetune(base);
    expect(bare.server.memoryBytes).toBe(24e9);
    const pt = loadCatalog().runtimes.get('pytorch-training')!;
    const p = parseSplitFinetune({ ...base, runtime: 'pytorch-training' });
    expect(p.server.memoryBytes).toBeCloseTo(24e9 * pt.memoryUtilization - pt.gpuOverheadBytes, -2);
    expect(p.server.perCallOverheadSeconds).toBe(pt.perLayerOverheadSeconds);
    // The Jetson is a unified-memory device: the smaller overhead.
    const orin = bare.clients[0].device.memoryBytes;
    expect(p.clients[0].device.memoryBytes).toBeCloseTo(orin * pt.memoryUtilization - pt.unifiedOverheadBytes, -2);
  });

  it('server and client runtimes override the default', () => {
    const clients = base.clients.map((c, i) =>
      i === 1 ? { ...c, runtime: { id: 'pytorch-training', unifiedOverheadBytes: 5e9 } } : c,
    );
    const p = parseSplitFinetune({
      ...base,
      clients,
      runtime: 'pytorch-training',
      server: { ...base.server, runtime: 'transformers' },
    });
    expect(p.server.perCallOverheadSeconds).toBe(loadCatalog().runtimes.get('transformers')!.perLayerOverheadSeconds);
    expect(p.clients[1].device.memoryBytes).toBeCloseTo(16e9 - 5e9, -2);
  });

  it('unknown runtime: one line with the JSON path and the close ids', () => {
    expect(() => parseSplitFinetune({ ...base, runtime: 'pytorch' })).toThrow(
      /^\$\.runtime: unknown runtime "pytorch"; did you mean "pytorch-training"/,
    );
    expect(() => parseSplitFinetune({ ...base, server: { ...base.server, runtime: 'vlm' } })).toThrow(
      /^\$\.server\.runtime: unknown runtime "vlm"/,
    );
    const clients = base.clients.map((c, i) => (i === 2 ? { ...c, runtime: 'lama.cpp' } : c));
    expect(() => parseSplitFinetune({ ...base, clients })).toThrow(
      /^\$\.clients\[2\]\.runtime: unknown runtime "lama.cpp"/,
    );
  });

  it('metamorphic: more server overhead is never better, and memory binds (layers move to the clients)', async () => {
    await expectOverheadNeverHelps(
      (o) => ({ ...base, server: { ...base.server, runtime: runtimeWithOverhead('pytorch-training', o) } }),
      [0, 8e9, 12e9, 20e9],
    );
  });
});
