/**
 * fleet-serving variants (issue 16): the latency SLO on every routed path and the minimum-cost
 * fleet. The MILP's optimum equals an independent brute force on tiny instances of both variants in
 * the contract suite (test/contract/generators/fleet-serving.ts, seeds above 16); here: bad input,
 * evaluate's own checks, the variant MILP and peers, metamorphic relations and the CLI.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check, parseProblem, solve } from '../../../src/api.ts';
import { evaluateFleet } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import type { FleetDecision } from '../../../src/formulations/fleet-serving/schema.ts';
import { sloChainPlacement } from '../../../src/formulations/fleet-serving/variant-peers.ts';
import { rentKnapsack, rentLowerBound } from '../../../src/formulations/fleet-serving/rent-bound.ts';
import { fleetServingGenerator } from '../../contract/generators/fleet-serving.ts';
import { sloRouting } from '../../../src/formulations/fleet-serving/variants.ts';
import { runCli } from '../../support/cli.ts';
import { bothPaths, fleetInputError, fleetOptimum, readFleetExample } from '../../support/fleet-examples.ts';

/**
 * a → b is a two-stage pipeline (50 tokens/s, 20 ms compute + a 50 ms link), c alone holds the
 * model (30 tokens/s, 20 ms): under an SLO of 100 ms both serve (80), under 80 ms only c (30).
 */
const sloFleet = {
  kind: 'fleet-serving',
  layers: 4,
  nodes: [
    { name: 'a', throughputByLayers: { '1': 100, '2': 60 }, secondsPerLayer: 0.005 },
    { name: 'b', throughputByLayers: { '1': 100, '2': 50 }, secondsPerLayer: 0.005 },
    { name: 'c', throughputByLayers: { '4': 30 }, latencyByLayers: { '4': 0.02 } },
  ],
  defaultLink: { tokensPerSecond: 1000, latencySeconds: 0.05 },
  latencySloSeconds: 0.1,
};

/** The same fleet with rents: a + b (3 per hour) serve 50 tokens/s, c (0.5) serves 30. */
const costFleet = {
  kind: 'fleet-serving',
  layers: 4,
  nodes: [
    { name: 'a', throughputByLayers: { '1': 100, '2': 60 }, costPerHour: 2 },
    { name: 'b', throughputByLayers: { '1': 100, '2': 50 }, costPerHour: 1 },
    { name: 'c', throughputByLayers: { '4': 30 }, costPerHour: 0.5 },
  ],
  defaultLink: { tokensPerSecond: 1000 },
  targetTokensPerSecond: 40,
};

describe('fleet-serving variants: bad input', () => {
  it('names the JSON path and the rule (SLO ≤ 0, target without costs, negative cost, missing latency)', () => {
    expect(fleetInputError({ ...sloFleet, latencySloSeconds: 0 }).path).toBe('$.latencySloSeconds');
    expect(fleetInputError({ ...sloFleet, latencySloSeconds: -1 }).path).toBe('$.latencySloSeconds');
    const noCost = fleetInputError({ ...costFleet, nodes: [{ name: 'a', throughputByLayers: { '4': 5 } }] });
    expect(noCost.path).toBe('$.nodes[0].costPerHour');
    expect(noCost.rule).toMatch(/targetTokensPerSecond/);
    const negative = fleetInputError({
      ...costFleet,
      nodes: [{ name: 'a', throughputByLayers: { '4': 5 }, costPerHour: -1 }],
    });
    expect(negative.path).toBe('$.nodes[0].costPerHour');
    const noLatency = fleetInputError({ ...sloFleet, nodes: [{ name: 'a', throughputByLayers: { '4': 5 } }] });
    expect(noLatency.path).toBe('$.nodes[0].latencyByLayers');
    const gap = fleetInputError({
      ...sloFleet,
      nodes: [{ name: 'a', throughputByLayers: { '2': 5, '4': 5 }, latencyByLayers: { '4': 0.01 } }],
    });
    expect(gap.rule).toMatch(/k = 2/);
    expect(fleetInputError({ ...sloFleet, milpFormulation: 'helix' }).path).toBe('$.milpFormulation');
    expect(fleetInputError({ ...costFleet, targetTokensPerSecond: 0 }).path).toBe('$.targetTokensPerSecond');
  });

  it('the CLI prints one line and exits 2', async () => {
    const dir = mkdtempSync('/tmp/fleet-variants-');
    writeFileSync(
      `${dir}/p.json`,
      JSON.stringify({ ...costFleet, nodes: [{ name: 'a', throughputByLayers: { '4': 5 } }] }),
    );
    const out = await runCli(['solve', `${dir}/p.json`]);
    expect(out.code).toBe(2);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/\$\.nodes\[0\]\.costPerHour/);
    expect(out.stderr).not.toMatch(/ at .*\.ts/);
  });

  it('device nodes get decode-step latencies and assumed reference prices, marked as assumed', () => {
    const p = parseFleet({
      kind: 'fleet-serving',
      model: 'llama-2-7b',
      nodes: [
        { name: 't4', device: 't4' },
        { name: 'l4', device: 'l4', costPerHour: 0.9 },
      ],
      targetTokensPerSecond: 10,
    });
    const t4 = p.nodes[0];
    expect(t4.costPerHour).toBe(0.35);
    expect(t4.priceAssumed).toBe(true);
    expect(p.nodes[1].priceAssumed).toBe(false);
    // One decode step of the batch (8 sequences) through k layers yields 8 tokens: latency = 8 / T(k).
    expect(t4.latencySeconds?.[3]).toBeCloseTo(8 / t4.throughput[3], 12);
    const d: FleetDecision = { placement: [{ node: 't4', firstLayer: 1, lastLayer: 32 }] };
    if (t4.maxLayers < 32) return;
    const e = evaluateFleet(p, d);
    expect((e.breakdown as { assumedPrices?: string[] }).assumedPrices).toEqual(['t4']);
  });
});

describe('fleet-serving variants: evaluate', () => {
  const p = parseFleet({ ...sloFleet, latencySloSeconds: 0.08 });
  const chain = bothPaths;

  it('catches a support path over the SLO and names it, with the excess', () => {
    // a → b: 10 ms + 50 ms + 10 ms = 70 ms, within 80 ms; at 60 ms it is 10 ms over.
    expect(evaluateFleet(p, chain).violations).toEqual([]);
    const tight = evaluateFleet(parseFleet({ ...sloFleet, latencySloSeconds: 0.06 }), chain);
    expect(tight.feasible).toBe(false);
    const over = tight.violations.find((x) => x.constraint === 'latency-slo');
    expect(over?.message).toMatch(/source → a → b → sink takes 0\.07\d* s per token, above the SLO of 0\.06 s/);
    expect(over?.excess).toBeCloseTo(0.01, 9);
  });

  it('accepts the same placement when the slow path carries no flow, refuses a decision without routing', () => {
    const tight = parseFleet({ ...sloFleet, latencySloSeconds: 0.06 });
    const onlyC: FleetDecision = {
      placement: chain.placement,
      routing: [
        { from: 'source', to: 'c', tokensPerSecond: 30 },
        { from: 'c', to: 'sink', tokensPerSecond: 30 },
        { from: 'a', to: 'b', tokensPerSecond: 0 },
      ],
    };
    const e = evaluateFleet(tight, onlyC);
    expect(e.violations).toEqual([]);
    expect(e.objective).toBe(30);
    expect((e.breakdown as { worstPathLatencySeconds?: number }).worstPathLatencySeconds).toBeCloseTo(0.02, 12);
    const bare = evaluateFleet(tight, { placement: chain.placement });
    expect(bare.violations.map((v) => v.constraint)).toContain('latency-slo');
  });

  it('min-cost: the objective is the rent of the placed nodes; a target miss is a violation', () => {
    const q = parseFleet(costFleet);
    const ab: FleetDecision = {
      placement: [
        { node: 'a', firstLayer: 1, lastLayer: 2 },
        { node: 'b', firstLayer: 3, lastLayer: 4 },
      ],
    };
    const e = evaluateFleet(q, ab);
    expect(e.feasible).toBe(true);
    expect(e.objective).toBe(3);
    const onlyC = evaluateFleet(q, { placement: [{ node: 'c', firstLayer: 1, lastLayer: 4 }] });
    expect(onlyC.feasible).toBe(false);
    const miss = onlyC.violations.find((v) => v.constraint === 'target');
    expect(miss?.excess).toBe(10);
    expect(miss?.message).toMatch(/30 tokens\/s, below the target of 40/);
  });
});

describe('fleet-serving variants: methods', () => {
  it('the SLO binds: 80 tokens/s at 100 ms, 30 below the 70 ms of the a → b pipeline', async () => {
    expect(await fleetOptimum(sloFleet)).toEqual({ termination: 'optimal', objective: 80 });
    expect(await fleetOptimum({ ...sloFleet, latencySloSeconds: 0.065 })).toEqual({ termination: 'optimal', objective: 30 });
  });

  it('metamorphic: a looser SLO never serves less, a lower target never costs more', async () => {
    const slos = [0.015, 0.03, 0.065, 0.075];
    const served: number[] = [];
    for (const s of slos) served.push((await fleetOptimum({ ...sloFleet, latencySloSeconds: s })).objective ?? 0);
    for (let r = 1; r < served.length; r++) expect(served[r]).toBeGreaterThanOrEqual(served[r - 1]);
    expect(served[0]).toBe(0); // below c's 20 ms nothing serves
    const targets = [60, 45, 30, 10];
    const rents: number[] = [];
    for (const t of targets)
      rents.push((await fleetOptimum({ ...costFleet, targetTokensPerSecond: t })).objective ?? Infinity);
    for (let r = 1; r < rents.length; r++) expect(rents[r]).toBeLessThanOrEqual(rents[r - 1]);
    expect(rents).toEqual([3.5, 3, 0.5, 0.5]);
  });

  it('infeasible variants are explained in domain words (exit 1)', async () => {
    const dir = mkdtempSync('/tmp/fleet-variants-');
    writeFileSync(`${dir}/target.json`, JSON.stringify({ ...costFleet, targetTokensPerSecond: 500 }));
    const target = await runCli(['solve', `${dir}/target.json`]);
    expect(target.code).toBe(1);
    expect(target.stdout + target.stderr).toMatch(/whole fleet cannot serve the target of 500 tokens\/s/);
    writeFileSync(`${dir}/slo.json`, JSON.stringify({ ...sloFleet, latencySloSeconds: 0.01 }));
    const slo = await runCli(['solve', `${dir}/slo.json`]);
    expect(slo.code).toBe(1);
    expect(slo.stdout + slo.stderr).toMatch(/no request path meets the latency SLO of 0\.01 s per token/);
  });

  it('peers route within the SLO: the SLO-aware routing drops the slow path, the SLO chain meets it', () => {
    const p = parseFleet({ ...sloFleet, latencySloSeconds: 0.065 });
    const d = sloRouting(p, { start: [0, 2, 0], k: [2, 2, 4] });
    expect(d).not.toBeNull();
    const e = evaluateFleet(p, d as FleetDecision);
    expect(e.feasible).toBe(true);
    expect(e.objective).toBe(30);
    const chain = sloChainPlacement(p);
    expect(chain?.k).toEqual([0, 0, 4]);
  });
});

describe('fleet-serving variants: examples', () => {
  it('edge-cloud SLO example: the optimum without SLO breaks the 55 ms SLO; the SLO chain meets it', async () => {
    const raw = readFleetExample('edge-cloud-llama-3.2-1b-latency-slo.json');
    const p = parseFleet(raw);
    expect(p.latencySloSeconds).toBe(0.055);
    // The optimum without the SLO (21 568 tokens/s, docs): three cloud nodes on layers 2–15.
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
    const { decisionOfPlacement, placementOfDecision } =
      await import('../../../src/formulations/fleet-serving/cost.ts');
    const pl = placementOfDecision(p, plain);
    const routed = decisionOfPlacement(p, pl as NonNullable<typeof pl>);
    const e = evaluateFleet(p, routed);
    expect(e.objective).toBeCloseTo(21568.3254, 3);
    const v = e.violations.find((x) => x.constraint === 'latency-slo');
    expect(v?.excess).toBeGreaterThan(0.005);
    // The single best pipeline within the SLO is a valid decision (a lower bound on the optimum).
    const peer = sloChainPlacement(p);
    expect(peer).not.toBeNull();
    const d = sloRouting(p, peer as NonNullable<typeof peer>);
    const checked = evaluateFleet(p, d as FleetDecision);
    expect(checked.violations).toEqual([]);
    expect(checked.objective).toBeGreaterThan(0);
  });

  it('min-cost example: the whole-node knapsack bound is 7.17 (one A100, eight T4, one L4), the LP 6.61', () => {
    const p = parseFleet(readFleetExample('melange-mix-llama-2-13b-min-cost.json'));
    const k = rentKnapsack(p);
    expect(k.bound).toBeCloseTo(7.17, 9);
    const names = (k.chosen ?? []).map((i) => p.nodes[i].name.replace(/-\d+$/, ''));
    expect(names.sort()).toEqual(['a100', 'l4', ...Array(8).fill('t4')]);
    // A target beyond what the whole fleet's layer work allows is infeasible by the bound alone.
    expect(rentKnapsack({ ...p, targetTokensPerSecond: 5000 }).bound).toBe(Infinity);
  });

  it('the knapsack bound never exceeds the brute-force rent (the contract generator’s target seeds)', () => {
    let checked = 0;
    for (let seed = 17; seed <= 34; seed++) {
      const raw = fleetServingGenerator.tiny(seed) as { targetTokensPerSecond?: number };
      if (raw.targetTokensPerSecond === undefined) continue;
      const truth = fleetServingGenerator.bruteForce(raw);
      const bound = rentLowerBound(parseFleet(raw));
      if (truth.status === 'optimal') {
        expect(bound, `seed ${seed}`).toBeLessThanOrEqual(truth.objective * (1 + 1e-9));
        checked++;
      } else if (Number.isFinite(bound)) expect(bound).toBeGreaterThanOrEqual(0);
    }
    expect(checked).toBeGreaterThan(3);
  });

  it('the min-cost example parses with its prices and its target', () => {
    const p = parseFleet(readFleetExample('melange-mix-llama-2-13b-min-cost.json'));
    expect(p.targetTokensPerSecond).toBe(1000);
    expect(p.nodes.map((n) => n.costPerHour)).toEqual([
      3.67,
      3.67,
      0.7,
      0.7,
      0.7,
      0.7,
      0.7,
      0.7,
      ...Array(8).fill(0.35),
    ]);
    expect(p.nodes.every((n) => n.priceAssumed === false)).toBe(true);
  });

  it('check accepts what solve returns on a variant (solve and check agree)', async () => {
    const report = await solve(parseProblem(costFleet), { timeLimitSeconds: 20 });
    expect(report.termination).toBe('optimal');
    const verdict = check(costFleet, {
      kind: report.kind,
      method: report.method,
      termination: report.termination,
      solution: report.solution,
    });
    expect(verdict.ok).toBe(true);
  });
});
