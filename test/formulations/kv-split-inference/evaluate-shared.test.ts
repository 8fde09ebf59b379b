/**
 * The pieces evaluate's two paths share (tierLoad in evaluate-shared.ts) and the one row roofline of
 * the cost model (rowRooflineSeconds): hand-computed figures, and agreement with the search's own
 * account of the same server (serverStateOf, the cloud's rowSecondsOf), which is written
 * independently row by row with participation thresholds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kvTables, rowRooflineSeconds, serverStateOf } from '../../../src/formulations/kv-split-inference/cost.ts';
import { tierLoad } from '../../../src/formulations/kv-split-inference/evaluate-shared.ts';
import { cloudTables, rowSecondsOf } from '../../../src/formulations/kv-split-inference/three-tier.ts';
import { close, F, smallInstance } from './helpers.ts';
import { tinyThreeTier } from './three-tier-helpers.ts';

const twoUsers = F.parse({
  kind: 'kv-split-inference',
  model: 'gpt2-small',
  variants: [{ name: 'a', lora: { rank: 8, targets: ['q', 'v'] } }],
  server: { device: { id: 'rtx-3090', memoryBytes: 24e9 } },
  users: [
    { device: 'phone', link: '5g-user-experienced', promptTokens: 100, outputTokens: 50, variant: 'a' },
    { device: 'phone', link: '5g-user-experienced', promptTokens: 400, outputTokens: 20 },
  ],
});

describe('rowRooflineSeconds', () => {
  it('is the larger of compute and memory time plus the per-call overheads', () => {
    const row = kvTables(twoUsers).rows[0];
    const rates = { computeFlopsPerSecond: 1e12, bandwidthBytesPerSecond: 1e9, perCallOverheadSeconds: 1e-5 };
    // Layer 1 also does the embedding lookup: two kernel calls.
    expect(row.calls).toBe(2);
    expect(rowRooflineSeconds(row, 1e9, 2e6, rates)).toBeCloseTo(2e-3 + 2e-5, 15);
    expect(rowRooflineSeconds(row, 5e9, 2e6, rates)).toBeCloseTo(5e-3 + 2e-5, 15);
    expect(rowRooflineSeconds(row, 0, 0, rates)).toBeCloseTo(2e-5, 15);
  });
});

describe('tierLoad (evaluate)', () => {
  it.each([
    ['memory-bound', 1],
    ['compute-bound', 1e-7],
  ])('loads each row once, the adapter above its lowest user, KV per layer, one buffer (%s)', (_, slowdown) => {
    const base = kvTables(twoUsers);
    const tables = { ...base, computeFlopsPerSecond: base.computeFlopsPerSecond * slowdown };
    const L = tables.layers;
    // user 0 (variant a) at cut 2 runs layers 3..12 and the head; user 1 at cut 6 runs 7..12 and the head.
    const load = tierLoad(
      twoUsers,
      tables,
      [
        { u: 0, from: 3, to: L, head: true },
        { u: 1, from: 7, to: L, head: true },
      ],
      tables,
    );
    expect(load.layers).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(load.head).toBe(true);
    expect(load.users).toBe(2);
    const loaded = tables.rows.filter((r) => r.kind === 'head' || r.index >= 3);
    expect(load.weightBytes).toBeCloseTo(
      loaded.reduce((s, r) => s + r.residentBytes, 0),
      0,
    );
    expect(load.adapterLayers).toEqual([10]);
    expect(load.adapterBytes).toBeCloseTo(10 * tables.rows[0].adapterBytes[0], 0);
    expect(load.kvBytes).toBe(tables.users[0][2].serverKvBytes + tables.users[1][6].serverKvBytes);
    expect(load.workspaceBytes).toBe(Math.max(tables.workspaceBytes[0], tables.workspaceBytes[1]));
    expect(load.workspaceBytes).toBe(tables.workspaceBytes[1]);
    // Step time by hand: layers 3..6 carry user 0 only, 7..12 both, the head both (no adapter there).
    let step = 0;
    for (const row of loaded) {
      const users = row.kind === 'head' || row.index >= 7 ? [0, 1] : [0];
      let flops = 0;
      let traffic = row.readBytes;
      for (const u of users) {
        flops += row.userFlops[u] + (u === 0 && row.kind === 'decoder' ? row.adapterFlopsPerToken[0] : 0);
        traffic += row.userTrafficBytes[u];
      }
      if (row.kind === 'decoder') traffic += row.adapterBytes[0];
      step += rowRooflineSeconds(row, flops, traffic, tables);
    }
    expect(close(load.stepSeconds, step, 1e-12)).toBe(true);
  });

  it('is empty when nobody runs anything on the tier', () => {
    const tables = kvTables(twoUsers);
    const load = tierLoad(twoUsers, tables, [{ u: 0, from: 13, to: 12, head: false }], tables);
    expect(load).toEqual({
      layers: [],
      head: false,
      stepSeconds: 0,
      weightBytes: 0,
      adapterBytes: 0,
      adapterLayers: [0],
      kvBytes: 0,
      workspaceBytes: 0,
      users: 0,
    });
  });

  it("agrees with the search's server state on every two-tier cut vector", () => {
    fc.assert(
      fc.property(
        smallInstance(),
        fc.array(fc.integer({ min: -1, max: 12 }), { minLength: 3, maxLength: 3 }),
        (raw, draw) => {
          const problem = F.parse(raw);
          // Every other draw on a compute-starved server, so that FLOPs (with adapter FLOPs) bind the roofline.
          const base = kvTables(problem);
          const tables = draw[0] % 2 === 0 ? base : { ...base, computeFlopsPerSecond: 1e6 };
          const L = tables.layers;
          const cuts = problem.users.map((_, u) => (draw[u] < 0 ? null : draw[u]));
          const ranges = cuts.flatMap((c, u) => (c !== null && c < L ? [{ u, from: c + 1, to: L, head: true }] : []));
          const load = tierLoad(problem, tables, ranges, tables);
          const state = serverStateOf(problem, tables, cuts);
          expect(close(load.stepSeconds, state.stepSeconds, 1e-12)).toBe(true);
          expect(close(load.weightBytes, state.weightBytes, 1e-12)).toBe(true);
          expect(close(load.adapterBytes, state.adapterBytes, 1e-12)).toBe(true);
          expect(close(load.kvBytes, state.kvBytes, 1e-12)).toBe(true);
          expect(load.workspaceBytes).toBe(state.workspaceBytes);
          expect(load.users).toBe(state.batchUsers);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it("agrees with the cloud's row times of three-tier.ts for the cloud tier", () => {
    for (let seed = 0; seed < 12; seed++) {
      const problem = F.parse(tinyThreeTier(seed));
      const tables = kvTables(problem);
      const cloud = cloudTables(problem);
      const L = tables.layers;
      const cloudCuts = problem.users.map((_, u) => (seed + 5 * u) % (L + 1));
      const load = tierLoad(
        problem,
        tables,
        cloudCuts.map((c2, u) => ({ u, from: c2 + 1, to: L, head: c2 < L })),
        cloud.rates,
      );
      let step = 0;
      for (const row of tables.rows) {
        const users = problem.users.flatMap((_, u) => (cloudCuts[u] < row.threshold ? [u] : []));
        if (users.length > 0) step += rowSecondsOf(row, cloud.rates, users);
      }
      expect(close(load.stepSeconds, step, 1e-12)).toBe(true);
    }
  });
});

describe("a served user's own limits (both evaluate paths)", () => {
  // A phone below its privacy floor, short of memory with streaming on or off, and over its SLO.
  const raw = (streaming: boolean, cloud: boolean): Record<string, unknown> => ({
    kind: 'kv-split-inference',
    model: 'gpt2-small',
    server: { device: { id: 'rtx-3090', memoryBytes: 24e9 } },
    ...(cloud ? { cloud: { device: 'a100-80gb', backhaul: 'edge-cloud' } } : {}),
    users: [
      {
        name: 'phone-1',
        device: { id: 'phone', memoryBytes: 0.03e9 },
        link: '5g-user-experienced',
        promptTokens: 200,
        outputTokens: 100,
        minDeviceLayers: 4,
        latencySloSeconds: 0.0005,
      },
    ],
    deviceWeightStreaming: streaming,
  });

  it.each([true, false])('are reported alike with and without a cloud tier (streaming %s)', (streaming) => {
    const twoTier = F.evaluate(F.parse(raw(streaming, false)), { cuts: [2] });
    const threeTier = F.evaluate(F.parse(raw(streaming, true)), { cuts: [2], cloudCuts: [12] });
    const own = (ev: typeof twoTier) =>
      ev.violations.filter((v) => /privacy-floor|device-memory|latency-slo/.test(v.constraint));
    expect(own(twoTier).map((v) => v.constraint)).toEqual([
      'users[0].privacy-floor',
      'users[0].device-memory',
      'users[0].latency-slo',
    ]);
    expect(own(threeTier).map((v) => v.message)).toEqual(own(twoTier).map((v) => v.message));
    const memory = own(twoTier)[1].message;
    expect(memory).toMatch(/^phone-1 needs \S+ MB on its device for 2 layers/);
    expect(memory).toContain(streaming ? 'KV cache plus one streamed layer' : 'streaming is off');
    expect(own(twoTier)[0].message).toBe('phone-1 keeps 2 layers on its device, its privacy floor is 4');
  });
});
