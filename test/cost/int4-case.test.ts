/**
 * Issue 15's int4 Llama-3-8B case through `solve`: 30 phones on a 10 Mbit/s uplink, 4096-token
 * prompts and 2048 generated tokens, the model stored in int4 (AWQ/GPTQ). The KV cache and the
 * smashed data stay 16-bit: the server's KV for all 30 users is 24.16 GB (6.04 GB when one dtype
 * drove everything) and a phone's prompt upload at a cut takes 26.85 s (6.71 s before).
 */
import { describe, expect, it } from 'vitest';
import { solve } from '../../src/api.ts';
import { parseKvProblem } from '../../src/formulations/kv-split-inference/schema.ts';
import { kvTables, serverStateOf } from '../../src/formulations/kv-split-inference/cost.ts';
import { uplinkSeconds } from '../../src/cost/link.ts';
import { activationBytesPerToken } from '../../src/cost/model.ts';

const users = Array.from({ length: 30 }, (_, i) => ({
  name: `phone-${i}`,
  device: 'phone',
  link: 'edge-cloud',
  promptTokens: 4096,
  outputTokens: 2048,
}));
const problem = {
  kind: 'kv-split-inference',
  model: { id: 'llama-3-8b', weightDtype: 'int4' },
  server: { device: 'a100-80gb' },
  users,
  objective: 'max',
};

describe('int4 Llama-3-8B, 30 phones (issue 15)', () => {
  it('keeps KV and smashed data in 16 bits by default', () => {
    const p = parseKvProblem(problem);
    const t = kvTables(p);
    const state = serverStateOf(p, t, users.map(() => 0));
    expect(state.kvBytes).toBe(24_159_191_040);
    const upload = uplinkSeconds(p.users[0].link, 4096 * activationBytesPerToken(p.model));
    expect(upload).toBeCloseTo(26.8456, 3);
  });

  it('solves to a certified optimum whose server KV is 16-bit', async () => {
    const report = await solve(problem, { timeLimitSeconds: 60 });
    expect(report.termination).toBe('optimal');
    const p = parseKvProblem(problem);
    const cuts = (report.solution?.decision as { cuts: number[] }).cuts;
    const state = serverStateOf(p, kvTables(p), cuts);
    const served = cuts.filter((c) => c < p.model.layers);
    // every server-side layer of every served user holds 2 × 8 × 128 × 2 B per token
    const expected = cuts.reduce((s, c) => s + (p.model.layers - c) * 6144 * 4096, 0);
    expect(served.length).toBeGreaterThan(0);
    expect(state.kvBytes).toBe(expected);
  });
});
