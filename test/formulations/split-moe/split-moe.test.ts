/**
 * split-moe: the catalog sizes, bad input (JSON paths, CLI exit 2 in one line), evaluate's
 * refusals, the replica batch limit (the roofline knee) forcing replicas, a 4-layer Mixtral
 * instance solved to certified optimality and never worse than any peer — including
 * moe-placement's own certified optimum with the cut fixed — and the metamorphic truths on it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import type { MoePlacementDecision } from '../../../src/formulations/moe-placement/schema.ts';
import { asMoePlacement } from '../../../src/formulations/split-moe/baselines.ts';
import { decisionValue, warmStart } from '../../../src/formulations/split-moe/heuristic.ts';
import {
  callBytes,
  callSeconds,
  classVisits,
  maxCut,
  replicaTokenLimit,
  serverCallSeconds as serverCall,
} from '../../../src/formulations/split-moe/cost.ts';
import { splitMoeFormulation as F } from '../../../src/formulations/split-moe/index.ts';
import type { SplitMoeDecision, SplitMoeProblem } from '../../../src/formulations/split-moe/schema.ts';
import { mulberry32 } from '../../../src/util/random.ts';

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;

/** Four Mixtral layers, two edge servers that cannot hold two copies of everything, three classes. */
function mixtral4(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'split-moe',
    model: { id: 'mixtral-8x7b', layers: 4 },
    servers: [
      { name: 'a100', device: 'a100-80gb', expertMemoryBytes: 7.5e9 },
      { name: 'l40s', device: 'l40s', expertMemoryBytes: 12e9 },
    ],
    serverLink: 'edge-lan',
    classes: [
      {
        name: 'phones',
        users: 120,
        device: 'snapdragon-8-gen-3',
        link: '5g-urllc',
        server: 1,
        popularity: { generator: 'lognormal', sigma: 0.7, seed: 1 },
      },
      {
        name: 'robots',
        users: 12,
        device: 'jetson-agx-orin-32gb',
        link: '6g-user-experienced',
        server: 0,
        popularity: { generator: 'zipf', exponent: 1.1, seed: 2 },
      },
      {
        name: 'laptops',
        users: 6,
        device: 'apple-m1-max',
        memoryBytes: 6e9,
        link: '6g-user-experienced',
        server: 0,
        popularity: { matrix: [[0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]] },
      },
    ],
    objective: 'mean',
    ...overrides,
  };
}

function errorOf(raw: unknown): InputError {
  try {
    F.parse(raw);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

type Raw = Record<string, unknown> & { classes: Record<string, unknown>[]; servers: Record<string, unknown>[] };
const edit = (f: (r: Raw) => void): Raw => {
  const r = structuredClone(mixtral4()) as Raw;
  f(r);
  return r;
};

describe('split-moe input', () => {
  it(
    'reads Mixtral-8x7B from the catalog: 32 MoE layers of 8 experts (352 MB each), the rest dense ' + 'on the device',
    () => {
      const p = F.parse({ ...mixtral4(), model: 'mixtral-8x7b' }) as SplitMoeProblem;
      expect(p.layers).toBe(32);
      expect(p.experts).toBe(8);
      expect(p.topK).toBe(2);
      expect(p.expertBytes).toBe(3 * 4096 * 14336 * 2);
      // 46.7 B parameters, 45.1 B of them routed experts: ≈ 3.2 GB of dense weights in bf16.
      expect(p.denseBytes).toBeGreaterThan(2.8e9);
      expect(p.denseBytes).toBeLessThan(3.6e9);
      expect(p.activationBytesPerToken).toBe(8192);
    },
  );

  it('refuses bad input with the JSON path and the rule', () => {
    const notOne = errorOf(
      edit((r) => (r.classes[2].popularity = { matrix: [[0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.0]] })),
    );
    expect(notOne.path).toBe('$.classes[2].popularity.matrix[0]');
    expect(notOne.rule).toMatch(/sum to 0\.95, not 1/);
    const unknown = errorOf(edit((r) => (r.classes[2].popularity = { matrix: [{ '0': 0.5, '9': 0.5 }] })));
    expect(unknown.path).toBe('$.classes[2].popularity.matrix[0]["9"]');
    expect(unknown.rule).toMatch(/unknown expert index "9".*0\.\.7/);
    expect(errorOf(edit((r) => (r.classes[2].popularity = { matrix: [[1, 0, 0]] }))).path).toBe(
      '$.classes[2].popularity.matrix[0]',
    );
    expect(errorOf(edit((r) => (r.classes[2].popularity = { matrix: [[1.5, -0.5, 0, 0, 0, 0, 0, 0]] }))).path).toMatch(
      /^\$\.classes\[2\]\.popularity/,
    );
    expect(
      errorOf(
        edit(
          (r) =>
            (r.classes[2].popularity = {
              matrix: [
                [1, 0, 0, 0, 0, 0, 0, 0],
                [1, 0, 0, 0, 0, 0, 0, 0],
              ],
            }),
        ),
      ).rule,
    ).toMatch(/one row .* or one per MoE layer \(4\)/);
    expect(errorOf(edit((r) => (r.classes[0].server = 2))).path).toBe('$.classes[0].server');
    expect(errorOf(edit((r) => (r.classes[0].minDeviceLayers = 5))).path).toBe('$.classes[0].minDeviceLayers');
    expect(errorOf(edit((r) => (r.classes[0].maxDroppedShare = 1.5))).path).toBe('$.classes[0].maxDroppedShare');
    expect(errorOf(edit((r) => delete r.serverLink)).path).toBe('$.serverLink');
    const pair = (servers: number[]) => edit((r) => (r.serverLinks = [{ servers, link: 'edge-cloud' }]));
    expect(errorOf(pair([0, 2])).path).toBe('$.serverLinks[0].servers[1]');
    expect(errorOf(pair([1, 1])).rule).toMatch(/two different servers/);
    expect(errorOf(edit((r) => (r.model = 'llama-3-8b'))).rule).toMatch(/no mixture-of-experts/);
    expect(errorOf(edit((r) => (r.model = { id: 'deepseek-v3', layers: 3 }))).rule).toMatch(/no MoE layers/);
    expect(errorOf(edit((r) => (r.servers[0].expertMemoryBytes = 1e12))).path).toBe('$.servers[0].expertMemoryBytes');
    expect(errorOf(edit((r) => (r.replicaTokenLimit = -3))).path).toBe('$.replicaTokenLimit');
    expect(errorOf(edit((r) => (r.objective = 'fastest'))).path).toBe('$.objective');
  });

  it('the CLI exits 2 with one line on bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'split-moe-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify(edit((r) => (r.classes[1].popularity = { matrix: [[0.5, 0.6, 0, 0, 0, 0, 0, 0]] }))),
    );
    const run = spawnSync('node', [BIN, 'solve', bad], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/\$\.classes\[1\]\.popularity\.matrix\[0\].*sum to 1\.1/);
    expect(run.stderr).not.toMatch(/ at .*\.ts:\d+/);
  });
});

/** Every remote call of every class to a holder with the least index, all experts on every server that fits. */
function everywhere(p: SplitMoeProblem, cuts: number[]): SplitMoeDecision {
  const placement = Array.from({ length: p.layers }, () => Array.from({ length: p.experts }, () => [0]));
  return {
    cuts,
    placement,
    routing: p.classes.map((c, u) =>
      placement.map((row, l) =>
        row.map((_, e) => (l < cuts[u] || c.popularity[l][e] === 0 ? [] : [{ server: 0, share: 1 }])),
      ),
    ),
  };
}

describe('split-moe evaluate', () => {
  const p = F.parse(
    mixtral4({ servers: [{ device: 'a100-80gb' }, { device: 'l40s', expertMemoryBytes: 5e9 }] }),
  ) as SplitMoeProblem;
  const cuts = p.classes.map((_, u) => Math.min(1, maxCut(p, u)));
  it('accepts a decision that keeps every rule and sums the latency by hand', () => {
    const d = everywhere(p, cuts);
    const e = F.evaluate(p, d);
    expect(e.violations).toEqual([]);
    const b = e.breakdown as {
      classes: {
        latencySeconds: number;
        denseSeconds: number;
        deviceExpertSeconds: number;
        linkSeconds: number;
        expertCallSeconds: number;
      }[];
    };
    for (const c of b.classes)
      expect(c.latencySeconds).toBeCloseTo(
        c.denseSeconds + c.deviceExpertSeconds + c.linkSeconds + c.expertCallSeconds,
        15,
      );
  });
  it(
    'refuses calls to a server without the expert, calls on device layers, drops beyond the budget, ' + 'full memory',
    () => {
      const d = everywhere(p, cuts);
      const toNonHolder = {
        ...d,
        routing: d.routing.map((c, u) =>
          u === 0 ? c.map((row, l) => row.map((r, e) => (l === 3 && e === 0 ? [{ server: 1, share: 1 }] : r))) : c,
        ),
      };
      expect(F.evaluate(p, toNonHolder).violations.map((v) => v.constraint)).toContain(
        'class[0].layer[3].expert[0].holder',
      );
      const onDevice = {
        ...d,
        routing: d.routing.map((c, u) =>
          u === 0 ? c.map((row, l) => (l === 0 ? row.map(() => [{ server: 0, share: 1 }]) : row)) : c,
        ),
      };
      expect(F.evaluate(p, onDevice).violations.map((v) => v.constraint)).toContain('class[0].layer[0].local');
      const dropped = {
        ...d,
        routing: d.routing.map((c, u) => (u === 1 ? c.map((row, l) => (l === 3 ? row.map(() => []) : row)) : c)),
      };
      expect(F.evaluate(p, dropped).violations.map((v) => v.constraint)).toContain('class[1].dropped');
      const full = { ...d, placement: d.placement.map((row) => row.map(() => [0, 1])) };
      const v = F.evaluate(p, full).violations.find((x) => x.constraint === 'server[1].memory');
      expect(v?.excess).toBeCloseTo(32 * p.expertBytes - 5e9, 0);
    },
  );
});

describe('split-moe solved', () => {
  it(
    'the replica batch limit forces replicas of the popular experts, and dropping it never makes ' +
      'the optimum worse',
    async () => {
      const raw = mixtral4({
        classes: [
          {
            name: 'crowd',
            users: 400,
            device: 'snapdragon-8-gen-3',
            link: '5g-urllc',
            server: 0,
            popularity: { matrix: [[0.4, 0.3, 0.1, 0.1, 0.05, 0.05, 0, 0]] },
          },
        ],
        servers: [
          { device: 'a100-80gb', expertMemoryBytes: 14e9 },
          { device: 'a100-80gb', expertMemoryBytes: 14e9 },
        ],
        replicaTokenLimit: 200,
      });
      const limited = await solve(raw, { backend: 'highs', timeLimitSeconds: 60 });
      expect(limited.termination).toBe('optimal');
      const d = limited.solution?.decision as SplitMoeDecision;
      const p = F.parse(raw) as SplitMoeProblem;
      // Expert 0 gets 400 × 2 × 0.4 = 320 calls per step on every remote layer: one replica serves 200.
      expect(classVisits(p, 0, 3, 0)).toBeCloseTo(320, 9);
      expect(d.placement[3][0].length).toBe(2);
      expect(replicaTokenLimit(p, 0)).toBe(200);
      const free = await solve({ ...raw, replicaTokenLimit: 'none' }, { backend: 'highs', timeLimitSeconds: 60 });
      expect(free.termination).toBe('optimal');
      expect(free.solution?.objective as number).toBeLessThanOrEqual(
        (limited.solution?.objective as number) * (1 + 1e-9),
      );
    },
  );

  it(
    'a 4-layer Mixtral: certified optimal, never worse than a peer, nor than moe-placement’s own ' +
      'optimum with the cut fixed',
    async () => {
      const raw = mixtral4();
      const report = await solve(raw, { backend: 'highs', timeLimitSeconds: 60 });
      expect(report.termination).toBe('optimal');
      const best = report.solution?.objective as number;
      const p = F.parse(raw) as SplitMoeProblem;
      let peers = 0;
      for (const peer of F.baselines) {
        const d = peer.run(p);
        if (d === null) continue;
        const e = F.evaluate(p, d);
        if (!e.feasible) continue;
        peers += 1;
        expect(best, peer.name).toBeLessThanOrEqual(e.objective * (1 + 1e-9));
      }
      expect(peers).toBe(3); // device-only: the phones cannot hold all four layers' experts

      // moe-placement solved to its certified optimum on the same servers, cuts at the floor,
      // its shares for every class.
      const cuts = p.classes.map((c) => c.minDeviceLayers);
      const { moe, first } = asMoePlacement(p, cuts);
      const moeRaw = {
        kind: 'moe-placement',
        moe: {
          layers: moe.layers,
          experts: moe.experts,
          topK: moe.topK,
          expertBytes: moe.expertBytes,
          expertFlopsPerToken: moe.expertFlopsPerToken,
          activationBytesPerToken: moe.activationBytesPerToken,
        },
        popularity: { matrix: moe.popularity },
        batchTokens: moe.batchTokens,
        servers: moe.servers.map((s) => ({
          device: s.device.id,
          expertMemoryBytes: s.expertMemoryBytes,
          link: {
            uplinkBitsPerSecond: s.link?.uplinkBitsPerSecond,
            downlinkBitsPerSecond: s.link?.downlinkBitsPerSecond,
            latencySeconds: s.link?.latencySeconds,
          },
        })),
      };
      const moeReport = await solve(moeRaw, { backend: 'exact', timeLimitSeconds: 60 });
      expect(moeReport.termination).toBe('optimal');
      const mp = (moeReport.solution?.decision as MoePlacementDecision).placement;
      const placement = Array.from({ length: p.layers }, (_, l) =>
        Array.from({ length: p.experts }, (_, e) => (l < first ? [] : mp[l - first][e].map((r) => r.server))),
      );
      const routing = p.classes.map((c, u) =>
        placement.map((row, l) =>
          row.map((_, e) => (l < cuts[u] || c.popularity[l][e] === 0 ? [] : mp[l - first][e].map((r) => ({ ...r })))),
        ),
      );
      const e = F.evaluate(p, { cuts, placement, routing });
      // Within the batch limits here, so split-moe's feasible set contains it: it cannot be better.
      expect(e.violations).toEqual([]);
      expect(best).toBeLessThan(e.objective);
    },
    120_000,
  );

  it('more edge memory, faster uplinks and a faster device never make the optimum worse', async () => {
    const base = mixtral4({ objective: 'max' });
    const value = async (raw: unknown): Promise<number> => {
      const r = await solve(raw, { backend: 'highs', timeLimitSeconds: 60 });
      expect(r.termination).toBe('optimal');
      return r.solution?.objective as number;
    };
    const v0 = await value(base);
    const more = edit(() => undefined);
    Object.assign(more, { objective: 'max' });
    (more.servers[1] as { expertMemoryBytes: number }).expertMemoryBytes = 16e9;
    expect(await value(more)).toBeLessThanOrEqual(v0 * (1 + 1e-9));
    const faster = structuredClone(base) as Raw;
    faster.classes[0].link = { uplinkBitsPerSecond: 20e9, downlinkBitsPerSecond: 40e9, latencySeconds: 1e-3 };
    expect(await value(faster)).toBeLessThanOrEqual(v0 * (1 + 1e-9));
    const quick = structuredClone(base) as Raw;
    quick.classes[0].device = { id: 'snapdragon-8-gen-3', memoryBandwidthBytesPerSecond: 2e11 };
    expect(await value(quick)).toBeLessThanOrEqual(v0 * (1 + 1e-9));
  }, 120_000);
});

describe('split-moe server-to-server links', () => {
  it('a pair link overrides serverLink in both directions; without serverLink every pair needs one', () => {
    const slow = { uplinkBitsPerSecond: 1e7, downlinkBitsPerSecond: 1e7, latencySeconds: 0.02 };
    const p = F.parse(mixtral4({ serverLinks: [{ servers: [1, 0], link: slow }] })) as SplitMoeProblem;
    const bits = 8 * p.activationBytesPerToken;
    const hop = (2 * bits) / 1e7 + 0.04;
    // phones reach the A100 (server 0) from the L40S over the slow pair link; robots the other way.
    expect(callSeconds(p, 0, 0) - callSeconds(p, 0, 1)).toBeCloseTo(hop + serverCall(p, 0) - serverCall(p, 1), 12);
    expect(callSeconds(p, 1, 1) - callSeconds(p, 1, 0)).toBeCloseTo(hop + serverCall(p, 1) - serverCall(p, 0), 12);
    const raw = mixtral4({ serverLinks: [{ servers: [0, 1], link: 'edge-lan' }] });
    delete raw.serverLink;
    expect((F.parse(raw) as SplitMoeProblem).serverLinks[0][1]?.id).toBe('edge-lan');
  });
});

describe('split-moe warm start', () => {
  it('values decisions as evaluate does, and finds a feasible start no worse than any peer', () => {
    for (const objective of ['max', 'mean', 'network'] as const) {
      const raw = mixtral4({ objective });
      (raw.classes as Record<string, unknown>[])[2].maxDroppedShare = 0.05;
      const p = F.parse(raw) as SplitMoeProblem;
      const start = warmStart(p, Infinity);
      expect(start, objective).not.toBeNull();
      const e = F.evaluate(p, start as SplitMoeDecision);
      expect(e.violations, objective).toEqual([]);
      expect(decisionValue(p, start as SplitMoeDecision).objective).toBeCloseTo(e.objective, 12);
      for (const peer of F.baselines) {
        const d = peer.run(p);
        if (d === null) continue;
        const pe = F.evaluate(p, d);
        expect(decisionValue(p, d).feasible, `${objective} ${peer.name}`).toBe(pe.feasible);
        expect(decisionValue(p, d).objective).toBeCloseTo(pe.objective, 9);
        if (pe.feasible) expect(e.objective).toBeLessThanOrEqual(pe.objective * (1 + 1e-12));
      }
    }
  });
});

/**
 * The replica batch limit against an enumeration: one class (so each expert's calls are split
 * independently), every cut and placement; routing fills the cheapest holder up to its limit, then
 * the next (water-filling, optimal for one class's linear cost per expert); scored by evaluate.
 */
function kneeBruteForce(p: SplitMoeProblem): number {
  const L = p.layers;
  const E = p.experts;
  const S = p.servers.length;
  let best = Infinity;
  for (let cut = 0; cut <= L; cut++)
    for (let mask = 0; mask < 2 ** (L * E * S); mask++) {
      const placement = Array.from({ length: L }, (_, l) =>
        Array.from({ length: E }, (_, e) => [...Array(S).keys()].filter((s) => (mask >> ((l * E + e) * S + s)) & 1)),
      );
      const routing = [
        placement.map((row, l) =>
          row.map((holders, e) => {
            if (l < cut || p.classes[0].popularity[l][e] === 0) return [];
            const visits = classVisits(p, 0, l, e);
            const price = (s: number): number =>
              p.objective === 'network' ? callBytes(p, 0, s) + 1e-9 * callSeconds(p, 0, s) : callSeconds(p, 0, s);
            const order = [...holders].sort((a, b) => price(a) - price(b));
            const routes: { server: number; share: number }[] = [];
            let left = 1;
            for (const s of order) {
              const share = Math.min(left, replicaTokenLimit(p, s) / visits);
              if (share > 0) routes.push({ server: s, share });
              left -= share;
            }
            return routes;
          }),
        ),
      ];
      const e = F.evaluate(p, { cuts: [cut], placement, routing });
      if (e.feasible && e.objective < best) best = e.objective;
    }
  return best;
}

describe('split-moe replica batch limit = enumeration', () => {
  it('HiGHS matches water-filling over every cut and placement on 8 seeded tiny instances', async () => {
    let feasible = 0;
    let split = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const random = mulberry32(seed);
      const experts = 2 + (seed % 2);
      const raw = {
        kind: 'split-moe',
        moe: {
          layers: 1,
          experts,
          topK: 1,
          expertBytes: 1e9,
          expertFlopsPerToken: 2e9,
          activationBytesPerToken: 8192,
          denseBytes: 1e9,
          denseFlopsPerToken: 2e9,
        },
        servers: [
          { device: 'a100-80gb', expertMemoryBytes: (1 + Math.floor(random() * experts)) * 1e9 },
          { device: 'rtx-3090', expertMemoryBytes: (1 + Math.floor(random() * experts)) * 1e9 },
        ],
        serverLink: { uplinkBitsPerSecond: 1e9, downlinkBitsPerSecond: 1e9, latencySeconds: 1e-3 },
        classes: [
          {
            users: 100,
            device: { id: 'jetson-orin-nano-8gb', memoryBytes: 64e9 },
            memoryBytes: (1 + (random() < 0.5 ? experts : 0)) * 1e9 + 0.5e9,
            link: { uplinkBitsPerSecond: 1e8, downlinkBitsPerSecond: 1e8, latencySeconds: 1e-3 },
            server: 0,
            popularity: { matrix: [Array.from({ length: experts }, (_, e) => (e === 0 ? 0.7 : 0.3 / (experts - 1)))] },
          },
        ],
        objective: seed % 2 === 0 ? 'mean' : 'network',
        replicaTokenLimit: 40 + Math.floor(random() * 40),
      };
      const p = F.parse(raw) as SplitMoeProblem;
      const truth = kneeBruteForce(p);
      const report = await solve(raw, { backend: 'highs', timeLimitSeconds: 30 });
      if (truth === Infinity) {
        expect(report.solution, `seed ${seed}`).toBeNull();
        continue;
      }
      feasible += 1;
      const d = report.solution?.decision as SplitMoeDecision;
      if (d.routing[0].some((row) => row.some((routes) => routes.length > 1))) split += 1;
      expect(report.termination, `seed ${seed}`).toBe('optimal');
      expect(report.solution?.objective as number).toBeCloseTo(truth, 9);
    }
    expect(feasible).toBeGreaterThanOrEqual(4);
    // The limit binds: some optimum splits an expert's calls over two replicas.
    expect(split).toBeGreaterThan(0);
  });
});
