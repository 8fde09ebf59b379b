/**
 * model-caching honours an optional runtime (issue 15 item 2). Servers only store models; a model
 * is served on the user's device, so that is where the runtime applies: its share and overhead
 * leave less device memory for the weights (below the model's size they stream from storage),
 * and its per-layer and per-step host times add to the on-device inference time.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProblem } from '../../../src/formulations/model-caching/schema.ts';
import { expectOverheadNeverHelps, runtimeWithOverhead } from '../runtime-sweep.ts';

const file = new URL('../../../problems/model-caching/fine-tune-family-latency.json', import.meta.url);
const base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { users: Record<string, unknown>[] };
/** The same problem with a bound no model misses: every latency is reported. */
const loose = { ...base, users: base.users.map((u) => ({ ...u, latencyBoundSeconds: 1000 })) };

describe('model-caching: runtime on the user devices', () => {
  it('absent: latencies unchanged; a runtime adds its host times to the on-device inference', () => {
    const bare = parseProblem(loose);
    const slow = parseProblem({ ...loose, runtime: { id: 'transformers' } });
    const t0 = bare.latencySeconds[0][0][0];
    const t1 = slow.latencySeconds[0][0][0];
    expect(t0).not.toBeNull();
    expect(t1).not.toBeNull();
    // transformers: 0.75 ms per layer call and 3 ms per token over 64 tokens.
    expect(t1!).toBeGreaterThan(t0! + 64 * 0.003);
  });

  it('a per-user runtime overrides the problem default', () => {
    const users = loose.users.map((u, i) => (i === 0 ? { ...u, runtime: 'transformers' } : u));
    const p = parseProblem({ ...loose, runtime: 'llama.cpp', users });
    const q = parseProblem({ ...loose, runtime: 'llama.cpp' });
    expect(p.latencySeconds[0][0][0]!).toBeGreaterThan(q.latencySeconds[0][0][0]!);
    expect(p.latencySeconds[1][0][0]).toBe(q.latencySeconds[1][0][0]);
  });

  it('unknown runtime: one line with the JSON path and the close ids', () => {
    expect(() => parseProblem({ ...base, runtime: 'llamacpp' })).toThrow(
      /^\$\.runtime: unknown runtime "llamacpp"; did you mean "llama.cpp"/,
    );
    const users = base.users.map((u, i) => (i === 2 ? { ...u, runtime: 'vlm' } : u));
    expect(() => parseProblem({ ...base, users })).toThrow(/^\$\.users\[2\]\.runtime: unknown runtime "vlm"/);
  });

  it('metamorphic: more runtime overhead is never better, and memory binds (weights stream from storage)', async () => {
    // Orin 64 GB × 0.9 = 57.6 GB: Llama-2-7B's 13.5 GB fits until the overhead passes ~44 GB.
    await expectOverheadNeverHelps((o) => ({ ...base, runtime: runtimeWithOverhead('vllm', o) }), [0, 20e9, 50e9]);
  });
});
