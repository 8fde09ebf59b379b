import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { coverBound, decisionOfPlacement, maxFlowOfPlacement } from '../../../src/formulations/fleet-serving/cost.ts';
import { evaluateFleet } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { importHelix } from '../../../src/formulations/fleet-serving/import.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import { compileFleet } from '../../../src/formulations/fleet-serving/milp.ts';
import type { FleetDecision } from '../../../src/formulations/fleet-serving/schema.ts';
import { runCli } from '../../support/cli.ts';
import { fleetExample, fleetInputError, readFleetExample } from '../../support/fleet-examples.ts';

const helix10 = readFleetExample('helix-10-llama30b-quality.json');

/** Two fast nodes in a chain, one slow node that can hold the whole model; all linked. */
const small = {
  kind: 'fleet-serving',
  layers: 4,
  nodes: [
    { name: 'a', throughputByLayers: { '1': 100, '2': 60 } },
    { name: 'b', throughputByLayers: { '1': 100, '2': 50 } },
    { name: 'c', throughputByLayers: { '4': 30 } },
  ],
  defaultLink: { tokensPerSecond: 1000 },
};

describe('fleet-serving input', () => {
  it('names the JSON path and the rule for each bad input of the issue', () => {
    expect(fleetInputError({ ...small, nodes: [{ name: 'a', throughputByLayers: {} }] }).path).toBe(
      '$.nodes[0].throughputByLayers',
    );
    const above = fleetInputError({
      ...small,
      nodes: [{ name: 'a', throughputByLayers: { '1': 5, '3': 4 }, maxLayers: 2 }],
    });
    expect(above.path).toBe('$.nodes[0].throughputByLayers.3');
    expect(above.rule).toMatch(/above maxLayers/);
    expect(fleetInputError({ ...small, links: [{ from: 'a', to: 'zz', tokensPerSecond: 1 }] }).path).toBe('$.links[0].to');
    expect(fleetInputError({ ...small, links: [{ from: 'a', to: 'b', tokensPerSecond: -1 }] }).path).toBe(
      '$.links[0].tokensPerSecond',
    );
    expect(fleetInputError({ ...small, layers: 0 }).path).toBe('$.layers');
    const noPath = fleetInputError({
      ...small,
      defaultLink: undefined,
      links: [
        { from: 'source', to: 'a' },
        { from: 'b', to: 'sink' },
      ],
    });
    expect(noPath.rule).toMatch(/no path of links/);
  });

  it('turns bit/s into tokens/s with the activation bytes per token', () => {
    const p = parseFleet({ ...small, activationBytesPerToken: 8192, defaultLink: { bitsPerSecond: 8192 * 8 * 10 } });
    expect(p.links[0].capacity).toBeCloseTo(10, 9);
  });

  it('computes a device node from the cost model, memory (weights + KV of the batch) bounding k', () => {
    const base = { kind: 'fleet-serving', model: 'llama-2-13b', nodes: [{ name: 'o', device: 'jetson-orin-nx-16gb' }] };
    const few = parseFleet({ ...base, workload: { batch: 1, promptTokens: 256, outputTokens: 64 } }).nodes[0];
    const many = parseFleet({ ...base, workload: { batch: 32, promptTokens: 2048, outputTokens: 512 } }).nodes[0];
    expect(few.maxLayers).toBeGreaterThan(many.maxLayers);
    expect(few.throughput[1]).toBeGreaterThan(few.throughput[few.maxLayers]);
  });
});

describe('fleet-serving evaluate', () => {
  const p = parseFleet(small);
  const chain: FleetDecision = {
    placement: [
      { node: 'a', firstLayer: 1, lastLayer: 2 },
      { node: 'b', firstLayer: 3, lastLayer: 4 },
      { node: 'c', firstLayer: 1, lastLayer: 4 },
    ],
  };

  it('recomputes the placement’s max flow independently and checks a routing', () => {
    const e = evaluateFleet(p, chain);
    expect(e.feasible).toBe(true);
    expect(e.objective).toBeCloseTo(80, 9);
    const d = decisionOfPlacement(p, { start: [0, 2, 0], k: [2, 2, 4] });
    expect(evaluateFleet(p, d).objective).toBeCloseTo(80, 9);
    expect(d.pipelines?.map((x) => x.tokensPerSecond).sort()).toEqual([30, 50]);
  });

  it('rejects a routing over a non-adjacent link, over capacity, or unbalanced', () => {
    const bad: FleetDecision = {
      placement: chain.placement,
      routing: [
        { from: 'source', to: 'a', tokensPerSecond: 70 },
        { from: 'a', to: 'b', tokensPerSecond: 70 },
        { from: 'b', to: 'sink', tokensPerSecond: 60 },
        { from: 'source', to: 'c', tokensPerSecond: 30 },
        { from: 'c', to: 'b', tokensPerSecond: 0 },
      ],
    };
    const messages = evaluateFleet(p, bad).violations.map((v) => v.constraint);
    expect(messages).toContain('a.throughput');
    expect(messages).toContain('b.conservation');
    expect(messages.some((m) => m.startsWith('routing[4]'))).toBe(true);
    expect(messages).toContain('c.conservation');
  });

  it('refuses a placement beyond memory or without a table entry, and zero flow', () => {
    const e = evaluateFleet(p, { placement: [{ node: 'a', firstLayer: 1, lastLayer: 3 }] });
    expect(e.feasible).toBe(false);
    expect(e.violations.map((v) => v.constraint)).toContain('a.memory');
    expect(e.violations.map((v) => v.constraint)).toContain('flow');
  });
});

describe('fleet-serving methods', () => {
  it('proves the 10-node Helix instance optimal at 286.587 tokens/s (Gurobi: 3803 s)', async () => {
    const r = await solve(helix10, { backend: 'exact' });
    expect(r.termination).toBe('optimal');
    expect(r.bounds.primal).toBeCloseTo(286.5874097546421, 6);
    expect(r.bounds.dual).toBeLessThan(286.5874097546421 * (1 + 1e-6));
  });

  it('the cover bound is never below the max flow of any placement (random placements)', () => {
    const p = parseFleet(helix10);
    const b = coverBound(p);
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 300; trial++) {
      const k = p.nodes.map((n) => 1 + Math.floor(rand() * n.maxLayers));
      const start = k.map((kk) => Math.floor(rand() * (p.layers - kk + 1)));
      expect(maxFlowOfPlacement(p, { start, k }).value).toBeLessThanOrEqual(b * (1 + 1e-9));
    }
  });

  it.each(['strong', 'helix'])(
    '%s MILP encodes a decision to a point the model accepts, and decodes it back',
    (form) => {
      const p = parseFleet({ ...small, milpFormulation: form });
      const c = compileFleet(p);
      const d = decisionOfPlacement(p, { start: [0, 2, 0], k: [2, 2, 4] });
      const x = c.encode?.(d);
      expect(x).not.toBeNull();
      const values = x as number[];
      for (const row of c.model.constraints) {
        const v = row.terms.reduce((s, t) => s + t.coefficient * values[t.variable], 0);
        expect(v).toBeGreaterThanOrEqual(row.lower - 1e-6);
        expect(v).toBeLessThanOrEqual(row.upper + 1e-6);
      }
      expect(evaluateFleet(p, c.decode(values)).objective).toBeCloseTo(80, 9);
    },
  );

  it('HiGHS on the strong model and on Helix’s model agree with the exact method', async () => {
    const exact = await solve(small, { backend: 'exact' });
    const strong = await solve(small, { backend: 'highs' });
    const helix = await solve({ ...small, milpFormulation: 'helix' }, { backend: 'highs' });
    expect(exact.bounds.primal).toBeCloseTo(80, 6);
    expect(strong.bounds.primal).toBeCloseTo(80, 6);
    expect(helix.bounds.primal).toBeCloseTo(80, 6);
  });

  it('whole-model replicas: only nodes holding every layer serve', async () => {
    const r = await solve({ ...small, replicas: 'whole-model' }, { backend: 'exact' });
    expect(r.bounds.primal).toBeCloseTo(30, 6);
  });
});

describe('fleet-serving CLI', () => {
  it('imports a Helix instance that solves like the bundled file', async () => {
    const out = await runCli(['import', 'helix', 'datasets/helix/helix-10-llama30b-quality.json']);
    expect(out.code).toBe(0);
    const raw = JSON.parse(out.stdout);
    expect(raw.nodes).toHaveLength(10);
    expect(raw).toEqual(helix10);
  });

  it('an import names the JSON path of a bad instance', () => {
    expect(() => importHelix({ numLayers: 2, nodes: {}, links: [] })).toThrow(/nodes/);
    expect(() =>
      importHelix({
        numLayers: 2,
        nodes: { a: { throughputByLayers: { 1: 1 }, maxLayers: 1 } },
        links: [{ from: 'a', to: 'q', capacityTokPerS: 1 }],
      }),
    ).toThrow(/\$\.links\[0\]\.to/);
  });

  it('no placement serves: infeasible (exit 1) with the reason in domain words', async () => {
    const dir = await import('node:fs').then((fs) => fs.mkdtempSync('/tmp/fleet-'));
    const file = `${dir}/p.json`;
    const raw = { ...small, replicas: 'whole-model', nodes: small.nodes.slice(0, 2) };
    (await import('node:fs')).writeFileSync(file, JSON.stringify(raw));
    const out = await runCli(['solve', file]);
    expect(out.code).toBe(1);
    expect(out.stdout + out.stderr).toMatch(/no node can hold all 4 layers/);
  });
});

describe('fleet-serving bench and reproduction', () => {
  it('every bench instance and scaling point parses (the three Helix files bundled)', async () => {
    const { suite } = await import('../../../src/bench/suites/fleet-serving.ts');
    const names = suite.instances().map((i) => i.name);
    for (const target of [
      'helix-10-llama30b-quality',
      'helix-24-llama70b-single-cluster',
      'helix-42-llama70b-high-heterogeneity',
    ]) {
      expect(names).toContain(target);
    }
    for (const i of suite.instances()) expect(() => parseFleet(i.problem)).not.toThrow();
    for (const s of suite.scaling())
      for (const pt of s.points) expect(parseFleet(pt.problem).nodes).toHaveLength(pt.size);
  });

  it('`reproduce helix` is registered', async () => {
    const { reproductionNames } = await import('../../../src/bench/reproduce.ts');
    expect(reproductionNames()).toContain('helix');
  });

  it('an unknown import format is a usage error (exit 2)', async () => {
    const out = await runCli(['import', 'petals', 'x.json']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/unknown import format/);
  });

  it('the three-site example: the slow inter-site link binds the routed flow', async () => {
    const p = fleetExample('three-site-edge-llama-2-13b');
    const d = decisionOfPlacement(p, { start: p.nodes.map(() => 0), k: p.nodes.map(() => 0) });
    expect(d.placement).toHaveLength(0);
    const interSite = p.links.find((l) => p.nodes[l.from].name === 'mec-3090-0' && p.nodes[l.to].name === 'room-a100');
    // 50 Mbit/s over 5120 × 2 bytes per token.
    expect(interSite?.capacity).toBeCloseTo(50e6 / (8 * 5120 * 2), 6);
  });
});
