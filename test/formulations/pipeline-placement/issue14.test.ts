/** Issue 14, items 7–13 (pipeline-placement), each pinned with the numbers of its description. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check, solve } from '../../../src/api.ts';
import { pipelinePlacementFormulation as F } from '../../../src/formulations/pipeline-placement/index.ts';
import type { PipelineDecision } from '../../../src/formulations/pipeline-placement/schema.ts';
import { breakdownOf, close, trainingInstance } from './helpers.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const load = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`${root}problems/pipeline-placement/${name}.json`, 'utf8')) as Record<string, unknown>;
const peer = (name: string) => F.baselines.find((b) => b.name === name)!;

describe('item 9: hop size is decided per sender, so an unused server changes nothing', () => {
  it("an idle phone without a profile leaves EdgeShard's hops at 65,536 B and the plan at 61.16 ms", async () => {
    const raw = load('edgeshard-llama-2-7b');
    const withPhone = structuredClone(raw);
    (withPhone.servers as unknown[]).push({ name: 'phone', device: 'phone' });
    const base = await solve(raw, { backend: 'exact' });
    const more = await solve(withPhone, { backend: 'exact' });
    expect(base.solution!.objective).toBeCloseTo(0.06116179789, 10);
    expect(more.solution!.objective).toBeCloseTo(0.06116179789, 10);
    const decision = base.solution!.decision as PipelineDecision;
    // The same placement costs the same with and without the phone in the pool.
    expect(check(withPhone, decision).objective).toBe(check(raw, decision).objective);
    const b = breakdownOf(more.solution!.evaluation);
    expect(b.stages.slice(0, -1).map((s) => s.hopBytes)).toEqual([65536, 65536]);
  });
});

describe('item 8: profiles and precisions are explicit and reported', () => {
  it('auto does not switch an fp16 Llama-2-7B to the FP32 profile: one RTX 3090 holds it (13.54 GB)', async () => {
    const raw = {
      kind: 'pipeline-placement',
      model: 'llama-2-7b',
      mode: { kind: 'inference-latency', promptTokens: 32, outputTokens: 96 },
      servers: [{ name: 'rtx', device: 'rtx-3090' }],
    };
    const r = await solve(raw, { backend: 'exact' });
    expect(r.termination).toBe('optimal');
    const s = breakdownOf(r.solution!.evaluation).stages[0];
    expect([s.profile, s.precision]).toEqual([null, 'fp16']);
    expect(s.memoryBytes / 1e9).toBeCloseTo(13.54, 2);
    expect(r.summary).toMatch(/catalog profile llama-2-7b@rtx-3090 is fp32, the model is fp16: roofline used/);
  });

  it("a named FP32 profile next to an fp16 roofline server is reported as mixed precision; each hop in its sender's format", async () => {
    const raw = {
      kind: 'pipeline-placement',
      model: 'llama-2-7b',
      mode: { kind: 'inference-latency', promptTokens: 32, outputTokens: 96 },
      servers: [
        { name: 'rtx', device: 'rtx-3090', memoryBytes: 6e9 },
        { name: 'orin-nx', device: 'jetson-orin-nx-16gb', profile: 'llama-2-7b@jetson-orin-nx-16gb' },
      ],
      links: { default: 'edge-lan' },
      stages: 2,
    };
    const p = F.parse(raw);
    expect(p.servers.map((s) => s.precision)).toEqual(['fp16', 'fp32']);
    for (const order of [
      ['rtx', 'orin-nx'],
      ['orin-nx', 'rtx'],
    ]) {
      const d: PipelineDecision = {
        stages: [
          { server: order[0], firstLayer: 1, lastLayer: 12 },
          { server: order[1], firstLayer: 13, lastLayer: 32 },
        ],
      };
      const b = breakdownOf(check(raw, d).evaluation);
      expect(b.mixedPrecision).toEqual(order[0] === 'rtx' ? ['fp16', 'fp32'] : ['fp32', 'fp16']);
      // fp16 roofline: 4096 values × 2 B; the Orin's FP32 profile measured 65,536 B.
      expect(b.stages[0].hopBytes).toBe(order[0] === 'rtx' ? 8192 : 65536);
    }
  });
});

describe('item 10: the training label says what the number is', () => {
  it('1000 iterations: the label names the total, and objective = iterations × iteration time', async () => {
    const raw = load('gpt2-medium-training-8-servers');
    const r = await solve(raw, { backend: 'exact' });
    expect(r.objectiveLabel).toBe('total training time: 1000 iterations × iteration time (s)');
    const b = breakdownOf(r.solution!.evaluation);
    expect(close(r.solution!.objective, 1000 * b.iterationSeconds, 1e-12)).toBe(true);
    expect(F.objectiveLabel!(F.parse({ ...raw, mode: { ...(raw.mode as object), iterations: 1 } }))).toBe(
      'training iteration time (s)',
    );
  });
});

describe('item 7: infeasibility explanations per server, at its own precision', () => {
  const mode = { kind: 'inference-latency', promptTokens: 32, outputTokens: 96 };
  it('Orin NX with the FP32 profile + RTX 3090 limited to 6 GB at fp16: 30 of 32 layers', async () => {
    const raw = {
      kind: 'pipeline-placement',
      model: 'llama-2-7b',
      mode,
      servers: [
        { name: 'orin-nx', device: 'jetson-orin-nx-16gb', profile: 'llama-2-7b@jetson-orin-nx-16gb' },
        { name: 'rtx', device: 'rtx-3090', memoryBytes: 6e9 },
      ],
      links: { default: 'edge-lan' },
      source: 'orin-nx',
    };
    const r = await solve(raw, { backend: 'exact' });
    expect(r.termination).toBe('infeasible');
    expect(r.explanation).toBe(
      'the source and the roomiest other server hold at most 30 of the 32 layers (orin-nx ≤ 16 (profile llama-2-7b@jetson-orin-nx-16gb, fp32), rtx ≤ 14 (roofline, fp16)); the stage limit is 2',
    );
    expect(r.explanation).not.toMatch(/activations/);
  });

  it('one server: the whole model against that server, no talk of links; one allowed stage reads as one server', async () => {
    const one = {
      kind: 'pipeline-placement',
      model: 'llama-2-7b',
      mode,
      servers: [{ name: 'rtx', device: 'rtx-3090', memoryBytes: 6e9 }],
    };
    expect(F.explainInfeasible!(F.parse(one))).toBe(
      'the whole model needs 13.54 GB on the only server rtx (roofline, fp16), which has 6.00 GB',
    );
    const two = {
      ...one,
      servers: [
        { name: 'a', device: 'rtx-3090', memoryBytes: 6e9 },
        { name: 'b', device: 'rtx-3090', memoryBytes: 6e9 },
      ],
      links: { default: 'edge-lan' },
      maxStages: 1,
    };
    expect(F.explainInfeasible!(F.parse(two))).toMatch(/^the roomiest server holds at most 14 of the 32 layers/);
  });
});

describe('item 13: GLPK solves the formulation (no perfect-balance bound on the bottleneck column)', () => {
  it('small training instances: GLPK returns no infeasible point and agrees with the exact method', async () => {
    const samples = fc.sample(trainingInstance(3, 4), { numRuns: 30, seed: 131 });
    for (const raw of samples) {
      const ex = await solve(raw, { backend: 'exact' });
      const g = await solve(raw, { backend: 'glpk', mipGap: 1e-9 });
      expect(
        g.attempts.some((a) => a.termination === 'error'),
        JSON.stringify(g.attempts),
      ).toBe(false);
      if (ex.termination === 'infeasible') expect(g.termination).toBe('infeasible');
      else expect(close(g.solution!.objective, ex.solution!.objective, 1e-6)).toBe(true);
    }
    const model = F.compile!(F.parse(samples.find((r) => (r.mode as { kind: string }).kind === 'training')!)).model;
    const T = model.variables.find((v) => v.name === 'T');
    if (T) expect(T.lower).toBe(0);
  }, 60_000);
});

describe('item 12: identical servers are interchangeable in the MILP', () => {
  const orins = (n: number, layers: number) => ({
    kind: 'pipeline-placement',
    model: { id: 'llama-2-13b', layers },
    mode: { kind: 'training', microBatches: 8, sequenceLength: 512, accounting: 'mixed-16' },
    servers: Array.from({ length: n }, (_, i) => ({ name: `orin${i}`, device: 'jetson-agx-orin-64gb' })),
    links: { default: 'edge-lan' },
  });
  it('8 identical Orins get ordering rows (7 pairs × 2); a source or a different link breaks the class', () => {
    const rows = (raw: unknown): number =>
      F.compile!(F.parse(raw)).model.constraints.filter((c) => c.name.startsWith('sym_')).length;
    expect(rows(orins(8, 10))).toBe(14);
    expect(rows({ ...orins(8, 10), source: 'orin0' })).toBe(12);
    expect(rows({ ...orins(8, 10), serverOrder: 'listed' })).toBe(0);
  });
  it('with the rows, HiGHS still finds the exact optimum (5 identical Orins, 8 layers)', async () => {
    const raw = orins(5, 8);
    const ex = await solve(raw, { backend: 'exact' });
    const h = await solve(raw, { backend: 'highs', mipGap: 1e-9, timeLimitSeconds: 60 });
    expect(h.termination).toBe('optimal');
    expect(close(h.solution!.objective, ex.solution!.objective, 1e-6)).toBe(true);
  }, 60_000);
});

describe('item 11: peers as published', () => {
  it("PipeDream's max includes the transfer: on a listed chain it equals the exact bottleneck optimum", async () => {
    const samples = fc.sample(trainingInstance(4, 6), { numRuns: 20, seed: 111 });
    for (const raw of samples) {
      // Throughput objective on a listed order without a return: PipeDream's A(j, m) recursion exactly.
      const listed = { ...raw, serverOrder: 'listed', mode: { kind: 'inference-throughput', promptTokens: 64 } };
      delete (listed as { source?: string }).source;
      const ex = await solve(listed, { backend: 'exact' });
      const d = peer('pipedream-dp').run(F.parse(listed));
      if (ex.termination === 'infeasible') continue;
      expect(close(check(listed, d!).objective, ex.solution!.objective, 1e-9)).toBe(true);
    }
  });

  it('DeepSpeed "parameters" counts trainable parameters: LoRA balances adapters (6 layers each), frozen layers weigh 0', () => {
    const base = load('gpt2-medium-training-8-servers');
    const lora = {
      ...base,
      stages: 4,
      serverOrder: 'listed',
      mode: { ...(base.mode as object), trained: 'lora', lora: { rank: 8, targets: ['q', 'v'] } },
    };
    const d = peer('deepspeed-parameters').run(F.parse(lora))!;
    expect(d.stages.map((s) => s.lastLayer - s.firstLayer + 1)).toEqual([6, 6, 6, 6]);
    // Full training: the embedding (and the tied head) count, so the first and last stages hold fewer layers.
    const full = peer('deepspeed-parameters').run(F.parse({ ...base, stages: 4, serverOrder: 'listed' }))!;
    expect(full.stages[0].lastLayer).toBeLessThan(6);
    // 20 frozen layers weigh nothing: the trainable 4 (and the head) decide the split.
    const frozen = peer('deepspeed-parameters').run(
      F.parse({ ...base, stages: 2, mode: { ...(base.mode as object), frozenPrefixLayers: 20 } }),
    )!;
    expect(frozen.stages[0].lastLayer).toBeGreaterThanOrEqual(20);
  });

  it('the speed-proportional peer is named for what it is (no Metis search claimed)', () => {
    const names = F.baselines.map((b) => b.name);
    expect(names).toContain('speed-proportional');
    expect(names).not.toContain('metis-proportional');
  });
});

describe('interface: warnings, names, tolerance', () => {
  it('memory of 48 bytes and a 50 bit/s link earn warnings with their JSON paths (not refusals)', () => {
    const raw = {
      kind: 'pipeline-placement',
      model: 'gpt2-small',
      mode: { kind: 'inference-latency', promptTokens: 16 },
      servers: [
        { name: 'a', device: 'rtx-3090', memoryBytes: 48 },
        { name: 'b', device: 'rtx-3090' },
      ],
      links: { pairs: [{ from: 'a', to: 'b', bitsPerSecond: 50 }] },
    };
    const paths = F.warnings!(F.parse(raw)).map((w) => w.path);
    expect(paths).toEqual(['$.servers[0].memoryBytes', '$.links.pairs[0].bitsPerSecond']);
  });

  it('"__proto__" and "constructor" are ordinary server names', async () => {
    const raw = {
      kind: 'pipeline-placement',
      model: { id: 'llama-2-7b', layers: 4 },
      mode: { kind: 'inference-latency', promptTokens: 16 },
      servers: [
        { name: '__proto__', device: 'rtx-3090' },
        { name: 'constructor', device: 'rtx-3090' },
      ],
      links: { pairs: [{ from: '__proto__', to: 'constructor', bitsPerSecond: 1e9 }] },
      source: '__proto__',
    };
    const r = await solve(raw, { backend: 'exact' });
    expect(r.termination).toBe('optimal');
    expect((r.solution!.decision as PipelineDecision).stages[0].server).toBe('__proto__');
  });

  it("a stage exactly at its server's memory (within the relative tolerance) is feasible for exact and check alike", async () => {
    const raw = load('edgeshard-memory-trap');
    const d: PipelineDecision = {
      stages: [
        { server: 'source', firstLayer: 1, lastLayer: 1 },
        { server: 'slow', firstLayer: 2, lastLayer: 2 },
        { server: 'fast', firstLayer: 3, lastLayer: 4 },
      ],
    };
    const need = breakdownOf(check(raw, d).evaluation).stages[2].memoryBytes;
    (raw.servers as { memoryBytes: number }[])[1].memoryBytes = need * (1 - 0.5e-6);
    expect(check(raw, d).feasible).toBe(true);
    const r = await solve(raw, { backend: 'exact' });
    expect(r.solution!.objective).toBeCloseTo(0.0155, 9);
  });
});
