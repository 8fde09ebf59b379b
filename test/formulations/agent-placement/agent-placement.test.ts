/**
 * agent-placement: bad input (cycles named, unknown models with a hint, JSON paths, CLI exit 2),
 * the critical path against hand sums, parameter sharing, the exact method against brute force on
 * instances larger than the contract suite's, and the three examples (optimal, never worse than a
 * peer, the mix of device and edge the scenario is about).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProblem, resolveDevice, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { interactionSeconds } from '../../../src/formulations/agent-placement/cost.ts';
import { evaluate } from '../../../src/formulations/agent-placement/evaluate.ts';
import { agentPlacementFormulation as F } from '../../../src/formulations/agent-placement/index.ts';
import type { Decision, Problem } from '../../../src/formulations/agent-placement/schema.ts';
import { suite } from '../../../src/bench/suites/agent-placement.ts';
import generator from '../../contract/generators/agent-placement.ts';

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;
const example = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../problems/agent-placement/${file}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

const link = { uplinkBitsPerSecond: 50e6, downlinkBitsPerSecond: 100e6, latencySeconds: 0.004 };
function raw(overrides: Record<string, unknown> = {}, modules?: unknown[]): Record<string, unknown> {
  return {
    kind: 'agent-placement',
    tasks: [
      {
        id: 't',
        modules: modules ?? [
          { id: 'see', model: 'qwen2.5-0.5b', inputTokens: 300, outputTokens: 20, sourceBytes: 200000 },
          { id: 'hear', model: 'qwen2.5-0.5b', inputTokens: 100, outputTokens: 10 },
          { id: 'think', model: 'llama-3.2-1b', inputTokens: 400, outputTokens: 30, inputs: ['see', 'hear'] },
          {
            id: 'align',
            model: 'llama-3.2-1b',
            lora: { rank: 8 },
            inputTokens: 200,
            outputTokens: 20,
            inputs: ['think'],
          },
        ],
      },
    ],
    servers: [{ id: 'e', device: 'l4', memoryBytes: 12e9 }],
    users: [{ id: 'u', device: 'snapdragon-8-gen-3', memoryBytes: 8e9, links: [{ server: 'e', link }] }],
    ...overrides,
  };
}

function errorOf(input: unknown): InputError {
  try {
    parseProblem(input);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

const place = (p: Problem, at: string[][]): Decision => ({
  placements: p.users.map((u, i) => ({
    user: u.id,
    modules: p.tasks[u.task].modules.map((m, k) => ({ module: m.id, at: at[i][k] })),
  })),
});

describe('agent-placement bad input', () => {
  it('names the cycle of a DAG that has one, at the JSON path of the inputs that close it', () => {
    const e = errorOf(
      raw({}, [
        { id: 'a', model: 'qwen2.5-0.5b', inputTokens: 10, outputTokens: 1, inputs: ['c'] },
        { id: 'b', model: 'qwen2.5-0.5b', inputTokens: 10, outputTokens: 1, inputs: ['a'] },
        { id: 'c', model: 'qwen2.5-0.5b', inputTokens: 10, outputTokens: 1, inputs: ['b'] },
      ]),
    );
    expect(e.path).toMatch(/^\$\.tasks\[0\]\.modules\[\d\]\.inputs$/);
    expect(e.rule).toMatch(/cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
  });

  it('rejects an unknown module model with a close-match hint, an unknown input, a reserved server id', () => {
    const typo = raw({}, [{ id: 'a', model: 'llama-3.1-8', inputTokens: 10, outputTokens: 1 }]);
    const e = errorOf(typo);
    expect(e.path).toBe('$.tasks[0].modules[0].model');
    expect(e.rule).toMatch(/unknown model "llama-3.1-8"; did you mean .*"llama-3.1-8b"/);
    const input = errorOf(
      raw({}, [{ id: 'a', model: 'qwen2.5-0.5b', inputTokens: 10, outputTokens: 1, inputs: ['b'] }]),
    );
    expect(input.path).toBe('$.tasks[0].modules[0].inputs[0]');
    const reserved = errorOf(raw({ servers: [{ id: 'device', device: 'l4' }] }));
    expect(reserved.path).toBe('$.servers[0].id');
    expect(errorOf(raw({ objective: 'fastest' })).path).toBe('$.objective');
  });

  it('the CLI solves the example and exits 2 with one line on a cycle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-'));
    const bad = join(dir, 'cycle.json');
    writeFileSync(
      bad,
      JSON.stringify(
        raw({}, [
          { id: 'a', model: 'qwen2.5-0.5b', inputTokens: 10, outputTokens: 1, inputs: ['b'] },
          { id: 'b', model: 'qwen2.5-0.5b', inputTokens: 10, outputTokens: 1, inputs: ['a'] },
        ]),
      ),
    );
    const failed = spawnSync('node', [BIN, 'solve', bad], { encoding: 'utf8' });
    expect(failed.status).toBe(2);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toMatch(/\$\.tasks\[0\]\.modules\[\d\]\.inputs.*cycle/);
    expect(failed.stderr).not.toMatch(/ at .*\.ts:\d+/);
    const good = new URL('../../../problems/agent-placement/assistant-3-modules.json', import.meta.url).pathname;
    const run = spawnSync('node', [BIN, 'solve', good, '--json'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as { termination: string }).termination).toBe('optimal');
  });
});

describe('agent-placement infeasibility explained', () => {
  const why = async (input: unknown): Promise<string> => {
    const report = await solve(parseProblem(input), { backend: 'exact' });
    expect(report.termination).toBe('infeasible');
    return report.explanation ?? '';
  };
  it('names a module with nowhere to run, an SLO no placement meets, servers too small together', async () => {
    const tiny = {
      servers: [{ id: 'e', device: 'l4', memoryBytes: 1e9 }],
      users: [{ id: 'u', device: 'snapdragon-8-gen-3', memoryBytes: 1e9, links: [{ server: 'e', link }] }],
    };
    expect(await why(raw(tiny))).toMatch(
      /^user u: module think \(.* GB with its KV cache, anywhere\) fits no location/,
    );
    const slo = raw({
      users: [
        {
          id: 'u',
          device: 'snapdragon-8-gen-3',
          memoryBytes: 8e9,
          links: [{ server: 'e', link }],
          latencySloSeconds: 1e-3,
        },
      ],
    });
    expect(await why(slo)).toMatch(/^user u: the fastest placement takes .* s, its SLO is 0\.001 s$/);
    const small = { id: 'v', device: 'snapdragon-8-gen-3', memoryBytes: 1e9, links: [{ server: 'e', link }] };
    const crowded = raw({
      servers: [{ id: 'e', device: 'l4', memoryBytes: 4e9 }],
      users: [small, { ...small, id: 'w' }],
      parameterSharing: false,
    });
    expect(await why(crowded)).toMatch(/^every user has placements of its own, but no choice of them fits the servers/);
  });
});

describe('agent-placement cost model', () => {
  it('all on the device: the interaction is the longer branch of the diamond plus the rest, no bytes moved', () => {
    const p = F.parse(raw()) as Problem;
    const t = p.users[0].computeSeconds.map((row) => row[0] as number);
    const e = evaluate(p, place(p, [['device', 'device', 'device', 'device']]));
    expect(e.feasible).toBe(true);
    expect(e.objective).toBeCloseTo(Math.max(t[0], t[1]) + t[2] + t[3], 12);
    expect(e.breakdown.networkBitsPerSecond).toBe(0);
  });

  it('perception at the edge pays the raw bytes on the uplink and the answer on the downlink', () => {
    const p = F.parse(raw()) as Problem;
    const c = p.users[0].computeSeconds;
    const e = evaluate(p, place(p, [['e', 'device', 'device', 'device']]));
    const up = (200000 * 8) / 50e6 + 0.004; // raw frame to the server
    const back = (20 * 4 * 8) / 100e6 + 0.004; // perception's 20 token ids back down
    const see = up + (c[0][1] as number) + back;
    const expected = Math.max(see, c[1][0] as number) + (c[2][0] as number) + (c[3][0] as number);
    expect(e.objective).toBeCloseTo(expected, 12);
    expect(interactionSeconds(p, 0, [1, 0, 0, 0])).toBeCloseTo(expected, 12);
  });

  it('a LoRA module shares its base on a server: memory counts the base once; without sharing twice', () => {
    const both: string[][] = [['device', 'device', 'e', 'e']];
    const shared = F.parse(raw()) as Problem;
    const e1 = evaluate(shared, place(shared, both)).breakdown.servers[0].memoryBytes;
    const unshared = F.parse(raw({ parameterSharing: false })) as Problem;
    const e2 = evaluate(unshared, place(unshared, both)).breakdown.servers[0].memoryBytes;
    const base = shared.blocks.find((b) => b.id.startsWith('llama-3.2-1b'))?.bytes as number;
    expect(e2 - e1).toBeCloseTo(base, 0);
  });

  it('flags memory, load and SLO breaches with their amounts', () => {
    const p = F.parse(
      raw({
        servers: [{ id: 'e', device: 'l4', memoryBytes: 3e9, maxUtilisation: 0.01 }],
        users: [
          {
            id: 'u',
            device: 'snapdragon-8-gen-3',
            memoryBytes: 8e9,
            links: [{ server: 'e', link }],
            interactionsPerSecond: 50,
            latencySloSeconds: 0.01,
          },
        ],
      }),
    ) as Problem;
    const e = evaluate(p, place(p, [['e', 'e', 'e', 'e']]));
    const names = e.violations.map((v) => v.constraint).sort();
    expect(names).toEqual(['server[e].memory', 'server[e].utilisation', 'user[u].slo']);
    expect(e.violations.every((v) => (v.excess ?? 0) > 0)).toBe(true);
  });
});

describe('agent-placement exact method', () => {
  it('equals brute force on 2–3 users sharing two servers', async () => {
    let checked = 0;
    for (let seed = 1; seed <= 40 && checked < 4; seed++) {
      const r = generator.tiny(seed) as { users: unknown[]; servers: unknown[]; tasks: { modules: unknown[] }[] };
      if (r.users.length < 2 || r.servers.length < 2) continue;
      const truth = generator.bruteForce(r);
      const report = await solve(parseProblem(r), { backend: 'exact', timeLimitSeconds: 20 });
      if (truth.status === 'infeasible') expect(report.termination).toBe('infeasible');
      else {
        expect(report.termination).toBe('optimal');
        expect(report.solution?.objective).toBeCloseTo(truth.objective, 9);
      }
      checked++;
    }
    expect(checked).toBe(4);
  });

  it('proves each example optimal, never worse than a peer; more edge memory never hurts', async () => {
    for (const file of ['assistant-3-modules.json', 'two-agents-10-users.json', 'two-agents-network.json']) {
      const r = example(file);
      const parsed = parseProblem(r);
      const report = await solve(parsed, { backend: 'exact', timeLimitSeconds: 30 });
      expect(report.termination, file).toBe('optimal');
      const best = report.solution?.objective as number;
      const p = parsed.problem as Problem;
      for (const peer of F.baselines) {
        const d = peer.run(p);
        if (!d) continue;
        const e = evaluate(p, d);
        if (e.feasible) expect(best, `${file} vs ${peer.name}`).toBeLessThanOrEqual(e.objective * (1 + 1e-9));
      }
      // A budget above the device's memory is bad input (cost/runtime-budget.ts): the device grows with it.
      const roomy = {
        ...r,
        servers: (r.servers as { device: string; memoryBytes: number }[]).map((s) => ({
          ...s,
          device: {
            id: s.device,
            memoryBytes: Math.max(resolveDevice(s.device, '$').memoryBytes, s.memoryBytes + 8e9),
          },
          memoryBytes: s.memoryBytes + 8e9,
        })),
      };
      const relaxed = await solve(parseProblem(roomy), { backend: 'exact', timeLimitSeconds: 30 });
      expect(relaxed.solution?.objective as number).toBeLessThanOrEqual(best * (1 + 1e-9));
    }
  });

  it('the assistant example: perception on some phones, grounding and alignment at the edge', async () => {
    const report = await solve(parseProblem(example('assistant-3-modules.json')), { backend: 'exact' });
    const decision = report.solution?.decision as Decision;
    const at = decision.placements.flatMap((p) =>
      p.modules.map((m) => `${m.module}@${m.at === 'device' ? 'device' : 'edge'}`),
    );
    expect(at).toContain('perception@device');
    expect(at).toContain('perception@edge');
    expect(at.filter((x) => x.startsWith('grounding')).every((x) => x.endsWith('edge'))).toBe(true);
  });

  it('30 contending users: the search hands over to the candidate MILP; HiGHS on compile agrees', async () => {
    const series = suite.scaling().find((x) => x.parameter === 'users (mean latency)');
    const problem = series?.points.find((pt) => pt.size === 30)?.problem;
    const exact = await solve(parseProblem(problem), { backend: 'exact', timeLimitSeconds: 60 });
    const highs = await solve(parseProblem(problem), { backend: 'highs', timeLimitSeconds: 60 });
    expect(exact.termination).toBe('optimal');
    expect(highs.termination).toBe('optimal');
    expect(exact.solution?.objective).toBeCloseTo(highs.solution?.objective as number, 6);
    expect(JSON.stringify(exact.details)).toMatch(/candidate-selection MILP/);
  });
});
