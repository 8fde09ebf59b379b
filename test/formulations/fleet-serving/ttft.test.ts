/**
 * fleet-serving: the time-to-first-token SLO (`ttftSloSeconds`) beside the per-token one. Every path
 * of the routing's support: link latencies + the prompt's activations over each link + the prefill
 * of each node ≤ the SLO. The MILP's optimum equals an independent brute force on the contract
 * generator's TTFT seeds (test/contract/generators/fleet-serving.ts); here: bad input, the device
 * prefill times, evaluate's own pass, the bound binding, monotonicity, infeasibility in words, peers
 * and the bundled example.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProblem, solve } from '../../../src/api.ts';
import { decisionOfPlacement, placementOfDecision } from '../../../src/formulations/fleet-serving/cost.ts';
import { evaluateFleet, type FleetBreakdown } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import type { FleetDecision } from '../../../src/formulations/fleet-serving/schema.ts';
import { sloChainPlacement } from '../../../src/formulations/fleet-serving/variant-peers.ts';
import { sloRouting } from '../../../src/formulations/fleet-serving/variants.ts';
import { runCli } from '../../support/cli.ts';
import { bothPaths, fleetInputError, fleetOptimum, readFleetExample } from '../../support/fleet-examples.ts';

/**
 * a → b is a two-stage pipeline (50 tokens/s; prefill 20 ms each, link 10 ms + a 100-token prompt
 * over 1000 tokens/s = 100 ms: TTFT 150 ms); c alone holds the model (30 tokens/s, prefill 200 ms).
 * Requests enter and leave anywhere (unlimited source and sink links: no transfer time there).
 */
const fleet = {
  kind: 'fleet-serving',
  layers: 4,
  workload: { promptTokens: 100 },
  nodes: [
    { name: 'a', throughputByLayers: { '1': 100, '2': 60 }, prefillByLayers: { '1': 0.01, '2': 0.02 } },
    { name: 'b', throughputByLayers: { '1': 100, '2': 50 }, prefillByLayers: { '1': 0.01, '2': 0.02 } },
    { name: 'c', throughputByLayers: { '4': 30 }, prefillByLayers: { '4': 0.2 } },
  ],
  defaultLink: { tokensPerSecond: 1000, latencySeconds: 0.01 },
  ttftSloSeconds: 0.25,
};

describe('fleet-serving TTFT SLO: input', () => {
  it('names the JSON path and the rule', () => {
    const bare = fleetInputError({ ...fleet, nodes: [{ name: 'a', throughputByLayers: { '4': 5 } }] });
    expect(bare.path).toBe('$.nodes[0].prefillByLayers');
    expect(bare.rule).toMatch(/ttftSloSeconds/);
    const gap = fleetInputError({
      ...fleet,
      nodes: [{ name: 'a', throughputByLayers: { '2': 5, '4': 5 }, prefillByLayers: { '4': 0.1 } }],
    });
    expect(gap.path).toBe('$.nodes[0].prefillByLayers');
    expect(gap.rule).toMatch(/k = 2/);
    expect(fleetInputError({ ...fleet, ttftSloSeconds: 0 }).path).toBe('$.ttftSloSeconds');
    expect(fleetInputError({ ...fleet, milpFormulation: 'helix' }).path).toBe('$.milpFormulation');
    // Without the SLO the prefill table is not needed, and not asked for.
    const { ttftSloSeconds: _unused, ...plain } = fleet;
    void _unused;
    expect(parseFleet({ ...plain, nodes: [{ name: 'a', throughputByLayers: { '4': 5 } }] }).ttftSloSeconds).toBe(
      undefined,
    );
  });

  it('the CLI prints one line and exits 2', async () => {
    const dir = mkdtempSync('/tmp/fleet-ttft-');
    writeFileSync(
      `${dir}/p.json`,
      JSON.stringify({ ...fleet, nodes: [{ name: 'a', throughputByLayers: { '4': 5 } }] }),
    );
    const out = await runCli(['solve', `${dir}/p.json`]);
    expect(out.code).toBe(2);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/\$\.nodes\[0\]\.prefillByLayers/);
    expect(out.stderr).not.toMatch(/ at .*\.ts/);
  });

  it('device nodes: roofline prefill, k layers take k times one; longer prompts, slower GPUs take longer', () => {
    const at = (device: string, promptTokens: number): readonly number[] => {
      const p = parseFleet({
        kind: 'fleet-serving',
        model: 'llama-2-7b',
        workload: { batch: 1, promptTokens, outputTokens: 16 },
        nodes: [{ name: 'n', device }],
        ttftSloSeconds: 1,
      });
      expect(p.promptTokens).toBe(promptTokens);
      return p.nodes[0].prefillSeconds ?? [];
    };
    const l4 = at('l4', 1024);
    expect(l4[1]).toBeGreaterThan(0);
    expect(l4[3]).toBeCloseTo(3 * l4[1], 12);
    // Compute-bound: 1024 tokens × ≥ 2 × 202 M parameters per layer at the L4's ≤ 121 TFLOP/s is ≥ 3.4 ms.
    expect(l4[1]).toBeGreaterThan((1024 * 2 * 202e6) / 121e12);
    expect(at('l4', 2048)[1]).toBeGreaterThan(2 * l4[1] * 0.99);
    expect(at('a100-80gb', 1024)[1]).toBeLessThan(l4[1]);
  });
});

describe('fleet-serving TTFT SLO: evaluate', () => {
  const all = bothPaths;

  it('catches a support path over the TTFT SLO, names it with the excess, and reports the slowest path', () => {
    const ok = evaluateFleet(parseFleet(fleet), all);
    expect(ok.violations).toEqual([]);
    expect((ok.breakdown as FleetBreakdown).worstTtftSeconds).toBeCloseTo(0.2, 12);
    expect((ok.breakdown as FleetBreakdown).worstTtftPath).toEqual(['c']);
    const tight = evaluateFleet(parseFleet({ ...fleet, ttftSloSeconds: 0.18 }), all);
    expect(tight.feasible).toBe(false);
    const miss = tight.violations.find((v) => v.constraint === 'ttft-slo');
    expect(miss?.message).toMatch(/source → c → sink takes 0\.2 s to the first token \(a 100-token prompt\)/);
    expect(miss?.excess).toBeCloseTo(0.02, 9);
  });

  it('counts the prompt over the link: at 500 tokens/s the a → b path takes 250 ms', () => {
    const slow = parseFleet({ ...fleet, defaultLink: { tokensPerSecond: 500, latencySeconds: 0.01 } });
    const e = evaluateFleet(slow, all);
    const miss = e.violations.find((v) => v.constraint === 'ttft-slo');
    expect(miss).toBeUndefined();
    expect((e.breakdown as FleetBreakdown).worstTtftSeconds).toBeCloseTo(0.02 + 0.01 + 0.2 + 0.02, 12);
    const tighter = evaluateFleet(
      parseFleet({ ...fleet, ttftSloSeconds: 0.24, defaultLink: { tokensPerSecond: 500, latencySeconds: 0.01 } }),
      all,
    );
    expect(tighter.violations.find((v) => v.constraint === 'ttft-slo')?.message).toMatch(/source → a → b → sink/);
  });

  it('accepts the placement when the slow path carries no flow; refuses a decision without routing', () => {
    const tight = parseFleet({ ...fleet, ttftSloSeconds: 0.18 });
    const onlyAb: FleetDecision = {
      placement: all.placement,
      routing: [...(all.routing ?? []).slice(0, 3), { from: 'source', to: 'c', tokensPerSecond: 0 }],
    };
    const e = evaluateFleet(tight, onlyAb);
    expect(e.violations).toEqual([]);
    expect(e.objective).toBe(50);
    expect(evaluateFleet(tight, { placement: all.placement }).violations.map((v) => v.constraint)).toContain(
      'ttft-slo',
    );
  });

  it('the two bounds are independent: the per-token SLO does not see the prompt, the TTFT SLO does', () => {
    const both = parseFleet({
      ...fleet,
      ttftSloSeconds: 0.18,
      latencySloSeconds: 0.1,
      nodes: fleet.nodes.map((n) => ({ ...n, secondsPerLayer: 0.005 })),
    });
    const e = evaluateFleet(both, all);
    expect(e.violations.map((v) => v.constraint)).toEqual(['ttft-slo']);
    expect((e.breakdown as FleetBreakdown).worstPathLatencySeconds).toBeCloseTo(0.03, 12);
  });
});

describe('fleet-serving TTFT SLO: methods', () => {
  it('the bound binds: 80 tokens/s at 250 ms, 50 at 180 ms (c prefills in 200), 30 when the link halves', async () => {
    expect(await fleetOptimum(fleet)).toEqual({ termination: 'optimal', objective: 80 });
    expect(await fleetOptimum({ ...fleet, ttftSloSeconds: 0.18 })).toEqual({ termination: 'optimal', objective: 50 });
    const slowLink = { ...fleet, ttftSloSeconds: 0.22, defaultLink: { tokensPerSecond: 500, latencySeconds: 0.01 } };
    expect(await fleetOptimum(slowLink)).toEqual({ termination: 'optimal', objective: 30 });
  });

  it('monotone: a looser TTFT SLO never serves less (every backend)', async () => {
    const slos = [0.1, 0.16, 0.21, 0.3];
    for (const backend of ['exact', 'highs'] as const) {
      const served: number[] = [];
      for (const s of slos) {
        const r = await solve(parseProblem({ ...fleet, ttftSloSeconds: s }), { backend, timeLimitSeconds: 20 });
        served.push(r.solution?.objective ?? 0);
      }
      expect(served, backend).toEqual([0, 50, 80, 80]);
    }
  });

  it('infeasible in domain words (exit 1): which bound binds, the prompt, the fastest chain', async () => {
    const dir = mkdtempSync('/tmp/fleet-ttft-');
    writeFileSync(`${dir}/p.json`, JSON.stringify({ ...fleet, ttftSloSeconds: 0.1 }));
    const out = await runCli(['solve', `${dir}/p.json`]);
    expect(out.code).toBe(1);
    const words = out.stdout + out.stderr;
    expect(words).toMatch(/no request path prefills 100 tokens within the time-to-first-token SLO of 0\.1 s/);
    expect(words).toMatch(/the fastest chain of linked nodes covering layers 1\.\.4 takes 0\.15 s/);
  });

  it('both bounds at once: a → b meets only the TTFT SLO, c only the per-token one — nothing serves', async () => {
    const crossed = {
      ...fleet,
      ttftSloSeconds: 0.18,
      latencySloSeconds: 0.1,
      nodes: [
        { ...fleet.nodes[0], secondsPerLayer: 0.05 },
        { ...fleet.nodes[1], secondsPerLayer: 0.05 },
        { ...fleet.nodes[2], latencyByLayers: { '4': 0.02 } },
      ],
    };
    expect(await fleetOptimum({ ...crossed, ttftSloSeconds: 0.25 })).toEqual({ termination: 'optimal', objective: 30 });
    expect(await fleetOptimum({ ...crossed, latencySloSeconds: 0.25 })).toEqual({ termination: 'optimal', objective: 50 });
    const dir = mkdtempSync('/tmp/fleet-ttft-');
    writeFileSync(`${dir}/p.json`, JSON.stringify(crossed));
    const out = await runCli(['solve', `${dir}/p.json`]);
    expect(out.code).toBe(1);
    expect(out.stdout + out.stderr).toMatch(/meet each SLO alone, but no placement routes a path that meets both/);
  });

  it('peers: the SLO routing drops the slow path, the SLO chain meets both bounds', () => {
    const p = parseFleet({ ...fleet, ttftSloSeconds: 0.18 });
    const d = sloRouting(p, { start: [0, 2, 0], k: [2, 2, 4] });
    const e = evaluateFleet(p, d as FleetDecision);
    expect(e.feasible).toBe(true);
    expect(e.objective).toBe(50);
    expect(sloChainPlacement(p)?.k).toEqual([2, 2, 0]);
    expect(sloChainPlacement(parseFleet({ ...fleet, ttftSloSeconds: 0.1 }))).toBeNull();
  });
});

describe('fleet-serving TTFT SLO: the bundled example', () => {
  it('the optimum without the TTFT SLO breaks 155 ms; the SLO chain peer meets it', () => {
    const p = parseFleet(readFleetExample('edge-cloud-llama-3.2-1b-ttft-slo.json'));
    expect(p.ttftSloSeconds).toBe(0.155);
    expect(p.promptTokens).toBe(1024);
    // The optimum without a bound (21 568 tokens/s, docs): the cloud nodes on layers 2–15.
    const plain: FleetDecision = {
      placement: [
        { node: 'edge-nx-0', firstLayer: 1, lastLayer: 1 },
        { node: 'edge-nx-1', firstLayer: 1, lastLayer: 1 },
        { node: 'edge-orin', firstLayer: 16, lastLayer: 16 },
        { node: 'cloud-a100', firstLayer: 2, lastLayer: 15 },
        { node: 'cloud-l4-0', firstLayer: 2, lastLayer: 15 },
        { node: 'cloud-l4-1', firstLayer: 2, lastLayer: 15 },
      ],
    };
    const pl = placementOfDecision(p, plain);
    const e = evaluateFleet(p, decisionOfPlacement(p, pl as NonNullable<typeof pl>));
    expect(e.objective).toBeCloseTo(21568.3254, 3);
    const miss = e.violations.find((v) => v.constraint === 'ttft-slo');
    expect(miss?.excess).toBeGreaterThan(0.005);
    const peer = sloChainPlacement(p);
    const d = sloRouting(p, peer as NonNullable<typeof peer>);
    const checked = evaluateFleet(p, d as FleetDecision);
    expect(checked.violations).toEqual([]);
    expect((checked.breakdown as FleetBreakdown).worstTtftSeconds).toBeLessThanOrEqual(0.155);
  });
});
