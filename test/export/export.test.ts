/**
 * Plans out (issue 18): every pipeline-placement example, solved, exports to every target with partitions that sum to
 * L and follow the plan's stage order; llama.cpp's own layer assignment rule, replayed here, puts exactly the planned
 * layers on each device; plans a target cannot express are refused with exit 2 and one line.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EXPORT_TARGETS,
  exportPlan,
  routingTable,
  InputError,
  parseProblem,
  pipelinePlan,
  exportPipelinePlan,
  solve,
} from '../../src/api.ts';
import type { ParsedProblem, SolveReport } from '../../src/api.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/context.ts';
import { exportFleetPlan } from '../../src/export/fleet.ts';

const DIR = new URL('../../problems/pipeline-placement/', import.meta.url);
const EXAMPLES = readdirSync(DIR).filter((f) => f.endsWith('.json'));

/** llama.cpp's layer split: layer i (0-based) goes to the first device whose cumulative share exceeds i / ngl. */
function llamaCppLayers(split: number[], layers: number, ngl: number): number[] {
  const total = split.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const s of split) {
    sum += s;
    cumulative.push(sum / total);
  }
  const counts = split.map(() => 0);
  for (let i = 0; i < layers; i++) {
    const x = i / Math.min(ngl, layers + 1);
    const device = cumulative.findIndex((c) => c > x);
    counts[device === -1 ? split.length - 1 : device]++;
  }
  return counts;
}

describe('every pipeline-placement example exports to every target', () => {
  const solved = new Map<string, { problem: ParsedProblem; report: SolveReport }>();
  beforeAll(async () => {
    for (const file of EXAMPLES) {
      const problem = parseProblem(JSON.parse(readFileSync(new URL(file, DIR), 'utf8')));
      solved.set(file, { problem, report: await solve(problem, { backend: 'auto' }) });
    }
  }, 120_000);

  for (const file of EXAMPLES) {
    it(file, () => {
      const { problem, report } = solved.get(file) as { problem: ParsedProblem; report: SolveReport };
      expect(report.solution).not.toBeNull();
      const stages = (
        report.solution?.decision as { stages: { server: string; firstLayer: number; lastLayer: number }[] }
      ).stages;
      const planned = stages.map((s) => s.lastLayer - s.firstLayer + 1);
      const L = (problem.problem as { model: { layers: number } }).model.layers;
      for (const target of EXPORT_TARGETS) {
        const out = exportPlan(problem, JSON.parse(JSON.stringify(report)), target);
        expect(out.partition, target).toEqual(planned);
        expect(
          out.partition.reduce((a, b) => a + b, 0),
          target,
        ).toBe(L);
        expect(
          out.plan?.stages.map((s) => s.server),
          target,
        ).toEqual(stages.map((s) => s.server));
      }
      const vllm = exportPlan(problem, report, 'vllm').text;
      expect(vllm).toContain(`VLLM_PP_LAYER_PARTITION=${planned.join(',')}`);
      expect(vllm).toContain(`--pipeline-parallel-size ${planned.length}`);
      const cpp = exportPlan(problem, report, 'llama.cpp').text;
      const split = (/--tensor-split (\S+)/.exec(cpp)?.[1] ?? '').split(',').map(Number);
      const ngl = Number(/-ngl (\d+)/.exec(cpp)?.[1]);
      expect(llamaCppLayers(split, L, ngl)).toEqual(planned);
      const parts = JSON.parse(/PARTS = (\[.*\])/.exec(exportPlan(problem, report, 'deepspeed').text)?.[1] ?? '[]');
      expect(parts[0]).toBe(0);
      expect(parts.at(-1)).toBe(L + 2); // embedding + L blocks + head
      const json = JSON.parse(exportPlan(problem, report, 'json').text);
      expect(json.partition).toEqual(planned);
    });
  }
});

describe('what a target cannot express', () => {
  const plan = (counts: number[]) => {
    let first = 1;
    const stages = counts.map((c, k) => {
      const s = { server: `s${k}`, firstLayer: first, lastLayer: first + c - 1 };
      first += c;
      return s;
    });
    const devices = new Map(stages.map((s) => [s.server, 'gpu']));
    return pipelinePlan('m', first - 1, 'inference-latency', stages, devices);
  };

  it('a plan that revisits a server is refused with the stages named', () => {
    const devices = new Map([
      ['a', 'gpu'],
      ['b', 'gpu'],
    ]);
    const stages = [
      { server: 'a', firstLayer: 1, lastLayer: 2 },
      { server: 'b', firstLayer: 3, lastLayer: 4 },
      { server: 'a', firstLayer: 5, lastLayer: 6 },
    ];
    expect(() => pipelinePlan('m', 6, 'inference-latency', stages, devices)).toThrow(/server a holds stages 1 and 3/);
    expect(() => pipelinePlan('m', 6, 'inference-latency', stages.slice(0, 2), devices)).toThrow(/1\.\.4, not 1\.\.6/);
  });

  it('Megatron: even middle stages use first/last flags, uneven ones the layout flag with a note', () => {
    const even = exportPipelinePlan(plan([3, 5, 5, 2]), 'megatron');
    expect(even.text).toContain('--decoder-first-pipeline-num-layers 3 --decoder-last-pipeline-num-layers 2');
    const uneven = exportPipelinePlan(plan([3, 4, 6, 2]), 'megatron');
    expect(uneven.text).toContain('--pipeline-model-parallel-layout "Ettt|tttt|tttttt|ttL"');
    expect(uneven.notes.join(' ')).toMatch(/cannot express this plan/);
  });

  it('CLI: an infeasible or server-repeating solution exits 2 with one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'export-'));
    const problemFile = join(DIR.pathname, 'edgeshard-llama-2-7b.json');
    const problem = JSON.parse(readFileSync(problemFile, 'utf8')) as { servers: { name: string }[] };
    const [a, b] = problem.servers.map((s) => s.name);
    writeFileSync(
      join(dir, 'repeat.json'),
      JSON.stringify({
        stages: [
          { server: a, firstLayer: 1, lastLayer: 10 },
          { server: b, firstLayer: 11, lastLayer: 20 },
          { server: a, firstLayer: 21, lastLayer: 32 },
        ],
      }),
    );
    const err: string[] = [];
    const io: CliIo = { stdout: () => {}, stderr: (t) => err.push(t), cwd: dir, env: {} };
    const code = await main(['export', problemFile, 'repeat.json', '--to', 'vllm'], io);
    expect(code).toBe(2);
    expect(err.join('').trim().split('\n')).toHaveLength(1);
    expect(err.join('')).toMatch(/edgeplan: \$/);
    const unknown: string[] = [];
    const code2 = await main(['export', problemFile, 'repeat.json', '--to', 'tgi'], {
      ...io,
      stderr: (t) => unknown.push(t),
    });
    expect(code2).toBe(2);
    expect(unknown.join('')).toMatch(/must be one of vllm, sglang, llama.cpp/);
    expect(InputError).toBeDefined();
  });
});

describe('fleet-serving: a routing table', () => {
  const decision = {
    placement: [
      { node: 'a', firstLayer: 1, lastLayer: 12 },
      { node: 'b', firstLayer: 13, lastLayer: 40 },
      { node: 'c', firstLayer: 13, lastLayer: 40 },
    ],
    routing: [
      { from: 'source', to: 'a', tokensPerSecond: 600 },
      { from: 'a', to: 'b', tokensPerSecond: 450 },
      { from: 'a', to: 'c', tokensPerSecond: 150 },
      { from: 'b', to: 'sink', tokensPerSecond: 450 },
      { from: 'c', to: 'sink', tokensPerSecond: 150 },
    ],
    pipelines: [
      { nodes: ['a', 'b'], tokensPerSecond: 450 },
      { nodes: ['a', 'c'], tokensPerSecond: 150 },
    ],
  };

  it('gives each node its next hops with weights that sum to 1 and reproduce the flow', () => {
    const table = routingTable(decision);
    expect(table.totalTokensPerSecond).toBe(600);
    const a = table.entries.find((e) => e.node === 'a');
    expect(a?.next.map((h) => [h.to, h.weight])).toEqual([
      ['b', 0.75],
      ['c', 0.25],
    ]);
    for (const e of table.entries) expect(e.next.reduce((s, h) => s + h.weight, 0)).toBeCloseTo(1, 12);
    expect(JSON.parse(exportFleetPlan(decision, 'json').text).routing.entries).toHaveLength(4);
  });

  it('a serving system that runs one pipeline is refused, naming the pipelines to deploy', () => {
    expect(() => exportFleetPlan(decision, 'vllm')).toThrow(/cannot express.*a → b \(450\.0 tokens\/s\)/);
    expect(() => routingTable({ placement: decision.placement })).toThrow(/no routing/);
  });
});
