/** The drawings of split-moe and agent-placement read evaluate's breakdown faithfully. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawDecision, parseProblem } from '../../src/api.ts';
import type { AgentBreakdown } from '../../src/formulations/agent-placement/evaluate.ts';
import type { Problem } from '../../src/formulations/agent-placement/schema.ts';
import { criticalPath } from '../../src/viz/families/agent-placement.ts';
import { ROOT } from '../support/cli.ts';
import { quickDecision } from './support.ts';

const load = (path: string) => parseProblem(JSON.parse(readFileSync(join(ROOT, path), 'utf8')));

describe('agent-placement: the critical path', () => {
  for (const example of ['assistant-3-modules', 'two-agents-10-users']) {
    it(`${example}: each user's path tiles [0, latency] with modules of the user's task, in order`, async () => {
      const parsed = load(`problems/agent-placement/${example}.json`);
      const problem = parsed.problem as Problem;
      const decision = await quickDecision(parsed);
      const b = parsed.formulation.evaluate(problem, decision).breakdown as AgentBreakdown;
      b.users.forEach((u, i) => {
        const spans = criticalPath(problem, i, u);
        expect(spans.length).toBeGreaterThan(0);
        expect(spans[0].start).toBe(0);
        for (let j = 1; j < spans.length; j++) expect(spans[j].start).toBeCloseTo(spans[j - 1].end, 12);
        expect(spans[spans.length - 1].end).toBeCloseTo(u.latencySeconds, 12);
        const names = problem.tasks[problem.users[i].task].modules.map((m) => m.id);
        const onPath = spans.filter((s) => s.group !== 'transfer');
        // Every module bar is one of the task's modules, at the location evaluate reports for it.
        for (const s of onPath) {
          expect(names).toContain(s.group);
          expect(s.label).toBe(u.modules.find((m) => m.module === s.group)?.at);
        }
        // The path ends with a final module (or its result's trip back).
        const last = problem.tasks[problem.users[i].task].modules.find((m) => m.id === onPath[onPath.length - 1].group);
        expect(last?.final).toBe(true);
      });
    });
  }
});

describe('split-moe: the per-class table and the cut follow the decision', () => {
  it('mixtral-3-classes-2-servers', async () => {
    const parsed = load('problems/split-moe/mixtral-3-classes-2-servers.json');
    const decision = (await quickDecision(parsed)) as { cuts: number[] };
    const figures = await drawDecision(parsed, decision);
    expect(figures.map((f) => f.title)).toContain('Expert memory per server (GB) against its limit');
    const table = figures.find((f) => f.kind === 'table' && f.title === 'Per class');
    expect(table?.kind).toBe('table');
    if (table?.kind !== 'table') return;
    expect(table.rows.map((r) => Number(r[2]))).toEqual(decision.cuts);
    expect(table.rows.map((r) => r[0])).toEqual(['phones', 'robots', 'laptops']);
  });
});
