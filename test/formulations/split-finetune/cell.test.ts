/**
 * The shared radio cell in split-finetune (issue 15 item 5): the cell's resource blocks are the
 * subchannels, a client's n / N share covers both carriers; the example solves exactly and the
 * MILP agrees; more cell bandwidth never worse; the old subchannel model is unchanged without a
 * cell; bad input names the JSON path.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProblem, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { splitFinetuneFormulation as F } from '../../../src/formulations/split-finetune/index.ts';
import { decisionCost, splitContext } from '../../../src/formulations/split-finetune/cost.ts';
import { tinyDevice, tinyModel } from './helpers.ts';

type Raw = Record<string, unknown>;

const EXAMPLE = new URL('../../../problems/split-finetune/llama-2-7b-10-clients-shared-cell.json', import.meta.url)
  .pathname;

function tinyCell(resourceBlockHz: number, objective = 'total-time'): Raw {
  return {
    kind: 'split-finetune',
    model: tinyModel,
    lora: { rank: 4, targets: ['q', 'v'] },
    batchSize: 4,
    sequenceLength: 32,
    samplesPerClient: 16,
    epochs: 2,
    server: { device: tinyDevice('server', 5e11, 20e6, 300, 0) },
    cell: { resourceBlocks: 5, resourceBlockHz, latencySeconds: 0.002 },
    clients: [
      { name: 'near', device: tinyDevice('a', 4e9, 2e6), radio: { uplinkSnrDb: 20, downlinkSnrDb: 25 } },
      { name: 'far', device: tinyDevice('b', 1e9, 4e6), radio: { uplinkSnrDb: 0, downlinkSnrDb: 5 } },
    ],
    objective,
  };
}

describe('split-finetune with a shared cell', () => {
  it('a client with n of N blocks gets n/N of both carriers at Shannon rate', () => {
    const problem = F.parse(tinyCell(1e6));
    const ctx = splitContext(problem);
    const near = decisionCost(ctx, 0, { cut: 2, frozenLayers: 0, subchannels: 2 });
    // 2 of 5 blocks of 1 MHz at 20 dB up (log2(101)), 25 dB down.
    expect(near.uplinkBitsPerSecond).toBeCloseTo(2e6 * Math.log2(1 + 100), 3);
    expect(near.downlinkBitsPerSecond).toBeCloseTo(2e6 * Math.log2(1 + 10 ** 2.5), 3);
    const wider = decisionCost(ctx, 0, { cut: 2, frozenLayers: 0, subchannels: 4 });
    expect(wider.gradientDownlinkSeconds).toBeLessThan(near.gradientDownlinkSeconds);
  });

  it('more cell bandwidth is never worse; exact and HiGHS agree', async () => {
    let prev = Infinity;
    for (const hz of [0.05e6, 0.2e6, 1e6]) {
      const raw = tinyCell(hz);
      const exact = await solve(parseProblem(raw), { backend: 'exact' });
      const highs = await solve(parseProblem(raw), { backend: 'highs' });
      expect(exact.termination).toBe('optimal');
      expect(highs.termination).toBe('optimal');
      const v = exact.solution?.evaluation.objective ?? NaN;
      expect(Math.abs(v - (highs.solution?.evaluation.objective ?? NaN))).toBeLessThanOrEqual(2e-6 * v);
      expect(v).toBeLessThanOrEqual(prev * (1 + 1e-6));
      prev = v;
    }
  }, 60_000);

  it('the 10-client example solves exactly and beats every peer', async () => {
    const raw = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Raw;
    const report = await solve(parseProblem(raw), { backend: 'exact' });
    expect(report.termination).toBe('optimal');
    const problem = F.parse(raw);
    const optimum = report.solution?.evaluation.objective ?? NaN;
    for (const peer of F.baselines) {
      const d = peer.run(problem);
      if (d !== null) expect(optimum).toBeLessThanOrEqual(F.evaluate(problem, d).objective * (1 + 1e-6));
    }
    const used = (report.solution?.decision as { clients: { subchannels: number }[] }).clients.reduce(
      (s, c) => s + c.subchannels,
      0,
    );
    expect(used).toBeLessThanOrEqual(24);
  }, 60_000);

  it('fixed resource blocks are kept by the solver and checked by evaluate', async () => {
    const raw = tinyCell(0.2e6);
    const clients = raw.clients as Raw[];
    const pinned = {
      ...raw,
      clients: [{ ...clients[0], radio: { ...(clients[0].radio as Raw), resourceBlocks: 1 } }, clients[1]],
    };
    const report = await solve(parseProblem(pinned), { backend: 'exact' });
    expect(report.termination).toBe('optimal');
    expect((report.solution?.decision as { clients: { subchannels: number }[] }).clients[0].subchannels).toBe(1);
    const problem = F.parse(pinned);
    const bad = F.evaluate(problem, {
      clients: [
        { cut: 1, frozenLayers: 0, subchannels: 2 },
        { cut: 1, frozenLayers: 0, subchannels: 3 },
      ],
    });
    expect(bad.violations.some((v) => /fixed at 1/.test(v.message))).toBe(true);
  }, 60_000);

  it('bad input: one line with the JSON path and the rule', () => {
    const raw = tinyCell(1e6);
    const clients = raw.clients as Raw[];
    const cases: [Raw, RegExp][] = [
      [{ ...raw, cell: { bandwidthHz: 5e6, allocation: 'continuous' } }, /\$\.cell\.resourceBlocks.*whole subchannels/],
      [{ ...raw, subchannels: 7 }, /\$\.subchannels.*5 resource blocks/],
      [{ ...raw, subchannelRateFraction: 0.5 }, /\$\.subchannelRateFraction/],
      [
        { ...raw, clients: [{ ...clients[0], radio: { uplinkSnr: -4, downlinkSnr: 3 } }, clients[1]] },
        /\$\.clients\[0\]\.radio\.uplinkSnr.*dB/,
      ],
      [
        {
          ...raw,
          clients: [{ ...clients[0], radio: { uplinkSnr: 4, downlinkSnr: 3, resourceBlocks: 9 } }, clients[1]],
        },
        /\$\.clients\[0\]\.radio\.resourceBlocks.*exceed the cell's 5/,
      ],
      [
        { ...raw, clients: [clients[0], { ...clients[1], radio: undefined, link: '5g-user-experienced' }] },
        /\$\.clients\[1\]\.radio.*every client/,
      ],
    ];
    for (const [bad, rule] of cases) {
      let error: unknown = null;
      try {
        F.parse(JSON.parse(JSON.stringify(bad)));
      } catch (e) {
        error = e;
      }
      expect(error, String(rule)).toBeInstanceOf(InputError);
      expect((error as Error).message).toMatch(rule);
    }
  });

  it('without a cell the subchannel model is unchanged (the dedicated-link twin)', async () => {
    const twin = new URL('../../../problems/split-finetune/llama-2-7b-10-clients-5g.json', import.meta.url).pathname;
    const problem = F.parse(JSON.parse(readFileSync(twin, 'utf8')));
    expect(problem.cell).toBeNull();
    const ctx = splitContext(problem);
    const c = decisionCost(ctx, 0, { cut: 16, frozenLayers: 16, subchannels: 3 });
    // 3 of 24 subchannels of the client's 50 Mbit/s link; the downlink stays the link's own.
    expect(c.uplinkBitsPerSecond).toBeCloseTo((3 / 24) * 50e6, 3);
    expect(c.downlinkBitsPerSecond).toBe(problem.clients[0].link.downlinkBitsPerSecond);
  });
});
