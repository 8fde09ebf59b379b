/** Issue 14 items 1–6 (kv-split-inference), each pinned with the numbers of the description. */
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { serverWorkspaceBytes } from '../../../src/formulations/kv-split-inference/cost.ts';
import { evaluateKv } from '../../../src/formulations/kv-split-inference/evaluate.ts';
import {
  explainKvInfeasible,
  kvObjectiveLabel,
  kvWarnings,
} from '../../../src/formulations/kv-split-inference/index.ts';
import { kvDecisionSchema, kvSplitInputSchema } from '../../../src/formulations/kv-split-inference/schema.ts';
import { F, close, noMilp } from './helpers.ts';

/** Two AGX Orins each running GPT-2 small alone; the server has less memory than the head alone. */
const twoOrins = {
  kind: 'kv-split-inference',
  model: 'gpt2-small',
  server: { device: { id: 'rtx-3090', memoryBytes: 50e6 } },
  users: [0, 1].map((i) => ({
    name: `orin-${i}`,
    device: 'jetson-agx-orin-32gb',
    link: '5g-user-experienced',
    promptTokens: 512,
    outputTokens: 128,
  })),
};

describe('item 1: a user at cut L uses no server (the head runs on its device)', () => {
  it('evaluate: two device-only users load nothing on the server, not even the head or the work buffers', () => {
    const problem = F.parse(twoOrins);
    const ev = evaluateKv(problem, { cuts: [12, 12] });
    expect(ev.violations).toEqual([]);
    const b = ev.breakdown;
    expect(b.serverHead).toBe(false);
    expect(b.serverMemory.totalBytes).toBe(0);
    expect(b.serverMemory.workspaceBytes).toBe(0);
    expect(b.serverBatchUsers).toBe(0);
    expect(b.serverStepSeconds).toBe(0);
    // ≈ 2.5 ms per token on the Orin, device time only.
    expect(ev.objective).toBeGreaterThan(0.002);
    expect(ev.objective).toBeLessThan(0.003);
    expect(ev.objective).toBe(b.users[0].deviceSeconds);
  });

  it('the exact method and HiGHS call it feasible and agree; admission serves both', async () => {
    const exact = await solve(twoOrins, { backend: 'exact' });
    expect(exact.termination).toBe('optimal');
    expect(exact.solution?.decision).toEqual({ cuts: [12, 12] });
    const highs = await solve(twoOrins, { backend: 'highs' });
    expect(highs.termination).toBe('optimal');
    expect(close(highs.solution?.objective ?? NaN, exact.solution?.objective ?? NaN, 1e-6)).toBe(true);
    const admitted = await solve({ ...twoOrins, admission: true }, { backend: 'highs' });
    expect(admitted.termination).toBe('optimal');
    expect(admitted.solution?.decision).toEqual({ cuts: [12, 12] });
    expect(close(admitted.solution?.objective ?? NaN, exact.solution?.objective ?? NaN, 1e-6)).toBe(true);
  }, 60_000);

  it('the describe line says the server is unused and the users run the head themselves', () => {
    const problem = F.parse(twoOrins);
    const text = F.describe?.(problem, { cuts: [12, 12] }, F.evaluate(problem, { cuts: [12, 12] })) ?? '';
    expect(text).toMatch(/2 × all on device \(head included\)/);
    expect(text).toMatch(/server .*: unused/);
  });
});

describe('item 2: the max objective charges no server time to device-only users', () => {
  // One Orin runs everything locally, a phone uses the server: W = max(device-only, server user).
  const mixed = {
    ...twoOrins,
    server: { device: 'rtx-3090' },
    users: [
      twoOrins.users[0],
      { name: 'phone', device: 'phone', link: '5g-user-experienced', promptTokens: 512, outputTokens: 128 },
    ],
  };
  for (const backend of ['highs', 'glpk'] as const) {
    it(`${backend}: device-only users and admission give the exact optimum (no objective mismatch)`, async () => {
      for (const raw of [twoOrins, { ...twoOrins, admission: true }, mixed, { ...mixed, admission: true }]) {
        const exactReport = await solve({ ...raw, admission: false }, { backend: 'exact' });
        const report = await solve(raw, { backend });
        expect(report.solution, `${backend} ${JSON.stringify(raw.users.map((u) => u.device))}`).not.toBeNull();
        expect(report.termination).not.toBe('error');
        expect(close(report.solution?.objective ?? NaN, exactReport.solution?.objective ?? NaN, 1e-6)).toBe(true);
      }
    }, 60_000);
  }
});

describe('item 3: the server work buffers follow the users it serves', () => {
  const raw = {
    kind: 'kv-split-inference',
    model: 'llama-2-7b',
    server: { device: 'a100-80gb' },
    admission: true,
    users: [
      { name: 'short', device: 'phone', link: '5g-user-experienced', promptTokens: 256, outputTokens: 64 },
      { name: 'long-local', device: 'apple-m1-max', link: 'edge-lan', promptTokens: 3900, outputTokens: 64 },
      { name: 'long-unserved', device: 'phone', link: '5g-user-experienced', promptTokens: 3000, outputTokens: 64 },
    ],
  };
  it('a device-only or unserved user with a long prompt does not size them', () => {
    const problem = F.parse(raw);
    const b = evaluateKv(problem, { cuts: [0, 32, null] }).breakdown;
    expect(b.serverMemory.workspaceBytes).toBe(serverWorkspaceBytes(problem, 256));
    const served = evaluateKv(problem, { cuts: [0, 32, 0] }).breakdown;
    expect(served.serverMemory.workspaceBytes).toBe(serverWorkspaceBytes(problem, 3000));
    expect(served.serverMemory.workspaceBytes).toBeGreaterThan(b.serverMemory.workspaceBytes);
  });
});

describe('item 4: infeasibility is explained by the constraint that binds', () => {
  // The hospital case: Llama-3-8B, 30 phones on 5G at 50 Mbit/s, a 5 s time-to-first-token limit,
  // 4096-token prompts. Any split uploads 4096 hidden states (4096 × 4096 × 2 B ≈ 33.6 MB): 5.4 s.
  const hospital = {
    kind: 'kv-split-inference',
    model: 'llama-3-8b',
    server: { device: { id: 'a100-80gb', memoryBytes: 40e9 } },
    users: Array.from({ length: 30 }, (_, i) => ({
      name: `phone-${i + 1}`,
      device: 'phone',
      link: { id: '5g-user-experienced', uplinkBitsPerSecond: 50e6, downlinkBitsPerSecond: 50e6 },
      promptTokens: 4096,
      outputTokens: 4096,
      ttftSloSeconds: 5,
    })),
  };
  it('names the TTFT limit (not server memory) and the 5.4 s upload behind it', async () => {
    const problem = F.parse(hospital);
    const result = await F.exact?.solve(problem, { mipGap: 1e-9, solveMilp: noMilp });
    expect(result?.termination).toBe('infeasible');
    const text = explainKvInfeasible(problem);
    expect(text).toMatch(
      /^the time-to-first-token limits bind: they leave 30 users no cut above 0 \(everything on the server\)/,
    );
    expect(text).toMatch(/hidden states alone takes 537\d\.\d\d ms at 50 Mbit\/s/);
    expect(text).toMatch(/the server then needs .* GB .* has 40\.00 GB/);
    expect(text).toMatch(/without the time-to-first-token limits a feasible split exists/);
    expect(text).not.toMatch(/even with every user running as many layers/);
  });
});

describe('item 5: admission reports latency and penalty apart and names who is not served', () => {
  // Six 1 GB phones (streaming off) and a 16 GB server: only some of the 2000-token users fit.
  const tight = {
    kind: 'kv-split-inference',
    model: 'llama-2-7b',
    server: { device: { id: 'rtx-3090', memoryBytes: 16e9 } },
    users: Array.from({ length: 6 }, (_, i) => ({
      name: `phone-${i + 1}`,
      device: { id: 'phone', memoryBytes: 1e9 },
      link: '5g-user-experienced',
      promptTokens: 1500,
      outputTokens: 500,
    })),
    deviceWeightStreaming: false,
    admission: true,
  };
  it('breakdown, describe and the objective label', async () => {
    const problem = F.parse(tight);
    const report = await solve(tight, { backend: 'highs', mipGap: 1e-9 });
    const decision = kvDecisionSchema.parse(report.solution?.decision);
    const ev = evaluateKv(problem, decision);
    const b = ev.breakdown;
    const dropped = decision.cuts.flatMap((c, u) => (c === null ? [`phone-${u + 1}`] : []));
    expect(dropped.length).toBeGreaterThan(0);
    expect(b.unservedUsers).toEqual(dropped);
    expect(b.penaltySeconds).toBe(dropped.length * b.unservedPenaltySeconds);
    expect(close(ev.objective, b.latencyObjectiveSeconds + b.penaltySeconds)).toBe(true);
    expect(b.latencyObjectiveSeconds).toBeLessThan(1);
    const text = F.describe?.(problem, decision, F.evaluate(problem, decision)) ?? '';
    expect(text).toContain(`not served (admission): ${dropped.join(', ')}`);
    expect(text).toMatch(/penalty \d+ × \d+ s = \d+ s in the objective/);
    expect(kvObjectiveLabel(problem)).toBe(
      `worst served user’s per-token decode latency (s) + ${b.unservedPenaltySeconds} s penalty per unserved user (admission)`,
    );
    expect(kvObjectiveLabel(F.parse({ ...tight, admission: false }))).toBe(
      'worst served user’s per-token decode latency (s)',
    );
  }, 60_000);
});

describe('item 6: description, $schema and field descriptions', () => {
  it('accepts description and $schema like every other kind', () => {
    expect(() =>
      F.parse({ ...twoOrins, description: 'two Orins', $schema: 'https://example.org/kv.json' }),
    ).not.toThrow();
  });
  it('describes its fields (≈ as many as the other families)', () => {
    const descriptions = JSON.stringify(kvSplitInputSchema.toJSONSchema?.() ?? {}).match(/"description":/g) ?? [];
    expect(descriptions.length).toBeGreaterThanOrEqual(20);
  });
});

describe('input warnings (units off by orders of magnitude)', () => {
  it('an uplink of 50 bit/s and a server of 48 bytes earn warnings with their JSON paths, not a refusal', () => {
    const raw = {
      ...twoOrins,
      server: { device: { id: 'rtx-3090', memoryBytes: 48 } },
      users: [
        { ...twoOrins.users[0], link: { id: '5g-user-experienced', uplinkBitsPerSecond: 50 } },
        twoOrins.users[1],
      ],
    };
    const paths = kvWarnings(F.parse(raw)).map((w) => w.path);
    expect(paths).toContain('$.server.device.memoryBytes');
    expect(paths).toContain('$.users[0].link.uplinkBitsPerSecond');
    expect(kvWarnings(F.parse(twoOrins))).toEqual([]);
  });
});

describe('one feasibility tolerance for solve and check', () => {
  it('a server at exactly the need less 1e-7 relative is feasible for evaluate and the exact method alike', async () => {
    const raw = { ...twoOrins, server: { device: 'rtx-3090' } };
    const need = evaluateKv(F.parse(raw), { cuts: [0, 0] }).breakdown.serverMemory.totalBytes;
    // Only cut 0 for both users: a TTFT limit below any split's.
    const tightRaw = { ...raw, server: { device: { id: 'rtx-3090', memoryBytes: need * (1 - 1e-7) } } };
    const problem = F.parse(tightRaw);
    expect(evaluateKv(problem, { cuts: [0, 0] }).feasible).toBe(true);
    const over = F.parse({ ...raw, server: { device: { id: 'rtx-3090', memoryBytes: need * (1 - 1e-5) } } });
    expect(evaluateKv(over, { cuts: [0, 0] }).feasible).toBe(false);
    const result = await F.exact?.solve(problem, { mipGap: 1e-9, solveMilp: noMilp });
    expect(result?.termination).toBe('optimal');
  });
});
