/**
 * Plans out for parallel-placement (TP × PP × DP): every example, solved, exports to each target or is refused with
 * the documented reason, and refused exactly when the plan has what the target cannot express (different TP degrees
 * per stage for vLLM/SGLang/Megatron; any TP or DP > 1 for llama.cpp/DeepSpeed). Exported partitions sum to L and
 * follow the plan's order; the TP size and the GPU order match the plan; a mixed-TP plan exits 2 through the CLI.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { check, EXPORT_TARGETS, exportPlan, InputError, parseProblem, solve } from '../../src/api.ts';
import type { ParsedProblem, SolveReport } from '../../src/api.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/context.ts';
import { exportParallelPlan } from '../../src/export/index.ts';
import type { ParallelBreakdown } from '../../src/formulations/parallel-placement/evaluate.ts';
import type { ParallelDecision, ParallelProblem } from '../../src/formulations/parallel-placement/schema.ts';

const DIR = new URL('../../problems/parallel-placement/', import.meta.url);
const EXAMPLES = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const load = (file: string) => parseProblem(JSON.parse(readFileSync(new URL(file, DIR), 'utf8')));

/** The documented refusal for `target`, or null when the plan's TP/DP layout is expressible there. */
function expectedRefusal(target: string, tp: number[], dp: number[], evenSplit = true): RegExp | null {
  const uniformTp = tp.every((t) => t === tp[0]);
  const uniformDp = dp.every((d) => d === dp[0]);
  if (target === 'json') return null;
  if (target === 'llama.cpp' || target === 'deepspeed') {
    return tp.every((t) => t === 1) && dp.every((d) => d === 1) ? null : /has no tensor parallelism/;
  }
  if (!uniformTp) return /runs one tensor-parallel size for every stage/;
  if (!uniformDp) return /replicates whole pipelines/;
  if (target === 'megatron' && !evenSplit) return /Megatron-LM splits it evenly/;
  return null;
}

/** GPU index of each server: its position among its host's servers in the problem. */
function gpuIndices(problem: ParsedProblem): Map<string, number> {
  const p = problem.problem as ParallelProblem;
  const seen = new Map<string, number>();
  const out = new Map<string, number>();
  for (const s of p.servers) {
    const k = seen.get(s.host) ?? 0;
    out.set(s.name, k);
    seen.set(s.host, k + 1);
  }
  return out;
}

describe('every parallel-placement example exports or is refused with the documented reason', () => {
  const solved = new Map<string, { problem: ParsedProblem; report: SolveReport }>();
  beforeAll(async () => {
    for (const file of EXAMPLES) {
      const problem = load(file);
      solved.set(file, { problem, report: await solve(problem, { timeLimitSeconds: 10 }) });
    }
  }, 120_000);

  for (const file of EXAMPLES) {
    it(file, () => {
      const { problem, report } = solved.get(file) as { problem: ParsedProblem; report: SolveReport };
      expect(report.solution).not.toBeNull();
      const stages = (report.solution?.decision as ParallelDecision).stages;
      const planned = stages.map((s) => s.lastLayer - s.firstLayer + 1);
      const tp = stages.map((s) => s.groups[0].servers.length);
      const dp = stages.map((s) => s.groups.length);
      const L = (problem.problem as ParallelProblem).model.layers;
      const evenSplit = stages.every((s) => s.groups.every((g) => g.samples === s.groups[0].samples));
      const solution = JSON.parse(JSON.stringify(report)) as unknown;
      for (const target of EXPORT_TARGETS) {
        const refusal = expectedRefusal(target, tp, dp, evenSplit);
        if (refusal !== null) {
          expect(() => exportPlan(problem, solution, target), target).toThrow(InputError);
          expect(() => exportPlan(problem, solution, target), target).toThrow(refusal);
          continue;
        }
        const out = exportPlan(problem, solution, target);
        expect(out.partition, target).toEqual(planned);
        expect(
          out.partition.reduce((a, b) => a + b, 0),
          target,
        ).toBe(L);
      }
      const json = JSON.parse(exportPlan(problem, solution, 'json').text);
      expect(json.partition).toEqual(planned);
      expect(json.tensorParallel).toEqual(tp);
      expect(json.dataParallel).toEqual(dp);
      expect(json.stages.map((s: { groups: { servers: string[] }[] }) => s.groups.map((g) => g.servers))).toEqual(
        stages.map((s) => s.groups.map((g) => g.servers)),
      );
      if (expectedRefusal('vllm', tp, dp) !== null) return;
      const vllm = exportPlan(problem, solution, 'vllm').text;
      expect(vllm).toContain(`VLLM_PP_LAYER_PARTITION=${planned.join(',')}`);
      expect(vllm).toContain(`--pipeline-parallel-size ${planned.length} --tensor-parallel-size ${tp[0]}`);
      // One serve command per DP replica; replica r's GPUs are group r of every stage, in stage order.
      expect(vllm.match(/^(?:CUDA_VISIBLE_DEVICES=\S+ )?vllm serve /gm)).toHaveLength(dp[0]);
      const gpu = gpuIndices(problem);
      const hosts = new Map((problem.problem as ParallelProblem).servers.map((s) => [s.name, s.host]));
      const visible = [...vllm.matchAll(/CUDA_VISIBLE_DEVICES=(\S+)/g)].map((m) => m[1]);
      const expected = Array.from({ length: dp[0] }, (_, r) => {
        const order: string[] = [];
        const perHost = new Map<string, number[]>();
        for (const s of stages) {
          for (const server of s.groups[r].servers) {
            const h = hosts.get(server) as string;
            if (!perHost.has(h)) order.push(h);
            perHost.set(h, [...(perHost.get(h) ?? []), gpu.get(server) as number]);
          }
        }
        return order.map((h) => (perHost.get(h) as number[]).join(','));
      }).flat();
      expect(visible).toEqual(expected);
      const sglang = exportPlan(problem, solution, 'sglang').text;
      expect(sglang).toContain(`SGLANG_PP_LAYER_PARTITION=${planned.join(',')}`);
      expect(sglang).toContain(`--pp-size ${planned.length} --tp-size ${tp[0]}`);
    });
  }

  it('the examples cover a mixed-TP plan, a TP > 1 plan and a DP > 1 plan', () => {
    const shapes = [...solved.values()].map(({ report }) => (report.solution?.decision as ParallelDecision).stages);
    expect(shapes.some((st) => new Set(st.map((s) => s.groups[0].servers.length)).size > 1)).toBe(true);
    expect(shapes.some((st) => st.every((s) => s.groups[0].servers.length > 1))).toBe(true);
    expect(shapes.some((st) => st.some((s) => s.groups.length > 1))).toBe(true);
  });
});

describe('what the serving systems cannot express', () => {
  const edge = 'edge-two-jetson-hosts-rtx.json';
  const mixed = {
    stages: [
      { firstLayer: 1, lastLayer: 5, groups: [{ servers: ['jetson-a0', 'jetson-a1'] }] },
      { firstLayer: 6, lastLayer: 40, groups: [{ servers: ['rtx'] }] },
    ],
  };

  it('CLI: a feasible plan whose stages use TP 2 and TP 1 is refused for vllm with exit 2 and one line', async () => {
    const problem = load(edge);
    expect(check(problem, mixed).feasible).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'export-pp-'));
    writeFileSync(join(dir, 'mixed.json'), JSON.stringify(mixed));
    const err: string[] = [];
    const out: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd: dir, env: {} };
    const code = await main(['export', join(DIR.pathname, edge), 'mixed.json', '--to', 'vllm'], io);
    expect(code).toBe(2);
    expect(out.join('')).toBe('');
    expect(err.join('').trim().split('\n')).toHaveLength(1);
    expect(err.join('')).toMatch(/stages\[1\]\.groups: stage 2 uses TP 1 and stage 1 TP 2 .*one tensor-parallel size/);
    // The same plan exports to json, with its layout in full.
    const quiet = { ...io, stderr: () => {} };
    const ok = await main(['export', join(DIR.pathname, edge), 'mixed.json', '--to', 'json'], quiet);
    expect(ok).toBe(0);
    expect(JSON.parse(out.join('')).tensorParallel).toEqual([2, 1]);
  });

  /** A checked layout, edited: the exporter's own refusals, independent of what the solver finds. */
  function breakdownOf(file: string, decision: unknown): { p: ParallelProblem; b: ParallelBreakdown } {
    const problem = load(file);
    const report = check(problem, decision);
    expect(report.feasible).toBe(true);
    return { p: problem.problem as ParallelProblem, b: report.evaluation.breakdown as ParallelBreakdown };
  }

  it('stages with different DP degrees are refused; a host revisited after another is refused', () => {
    const { p, b } = breakdownOf('vllm-6824-two-gpus-30-50gb.json', {
      stages: [
        { firstLayer: 1, lastLayer: 23, groups: [{ servers: ['gpu0'] }] },
        { firstLayer: 24, lastLayer: 64, groups: [{ servers: ['gpu1'] }] },
      ],
    });
    const [s1, s2] = b.stages;
    const uneven = { ...b, stages: [{ ...s1, dataParallel: 2, groups: [s1.groups[0], s2.groups[0]] }, s2] };
    expect(() => exportParallelPlan(p, uneven, 'vllm')).toThrow(/stage 2 has 1 data-parallel group.*replicates/);
    const away = { ...s2, groups: [{ ...s2.groups[0], host: 'elsewhere' }] };
    const revisit = { ...b, stages: [s1, away, { ...s1, stage: 3 }] };
    expect(() => exportParallelPlan(p, revisit, 'vllm')).toThrow(/host box holds stage 3 .*consecutive pipeline ranks/);
    expect(() => exportParallelPlan(p, b, 'vllm', new Map([['gpu0', '10.0.0.1']]))).toThrow(/not a host/);
  });

  it('one host: llama.cpp uses its local GPUs in stage order; Megatron lists ranks TP-first, then DP, then PP', () => {
    const { p, b } = breakdownOf('vllm-6824-two-gpus-30-50gb.json', {
      stages: [
        { firstLayer: 1, lastLayer: 41, groups: [{ servers: ['gpu1'] }] },
        { firstLayer: 42, lastLayer: 64, groups: [{ servers: ['gpu0'] }] },
      ],
    });
    const cpp = exportParallelPlan(p, b, 'llama.cpp');
    expect(cpp.text).toContain('--device CUDA0,CUDA1 --tensor-split 41,24');
    expect(cpp.text).not.toContain('rpc');
    const vllm = exportParallelPlan(p, b, 'vllm', new Map([['box', '10.0.0.7']]));
    expect(vllm.text).toContain('CUDA_VISIBLE_DEVICES=1,0 vllm serve');
    expect(vllm.text).toContain('# on 10.0.0.7');
    const meg = exportParallelPlan(p, b, 'megatron').text;
    expect(meg).toContain('--tensor-model-parallel-size 1 --decoder-first-pipeline-num-layers 41');
    expect(meg).toContain('#   gpu1 gpu0');
  });
});
