/** Test doubles for the API: scripted backends and a tiny family with an exact method. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Backend, BackendName, Formulation, MilpResult, Model } from '../../src/api.ts';
import { InputError, ModelBuilder } from '../../src/api.ts';
import { inputErrorFromZod } from '../../src/errors.ts';

export const example = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../problems/milp/${name}.json`, import.meta.url), 'utf8'));

/** A backend whose answer the test scripts; it records the models it was given. */
export function scripted(
  name: BackendName,
  respond: (model: Model) => MilpResult,
): Backend & { readonly calls: Model[] } {
  const calls: Model[] = [];
  return {
    name,
    calls,
    capabilities: {
      integers: true,
      freeVariables: true,
      timeLimit: true,
      mipGap: true,
      nodeLimit: false,
      reportsBound: true,
      warmStart: false,
      trustedInfeasibility: true,
      license: 'MIT',
    },
    async solve(model) {
      calls.push(model);
      return respond(model);
    },
  };
}

export const failing = (name: BackendName, message = 'scripted failure'): Backend & { readonly calls: Model[] } =>
  scripted(name, () => ({ backend: name, termination: 'error', solution: null, message, timeSeconds: 0 }));

/**
 * "pick": choose an integer k in 0..n as close as possible to a target (objective |k − target|).
 * Its exact method's behaviour is scripted by `mode`, to exercise every path of the API.
 */
export interface Pick {
  readonly n: number;
  readonly target: number;
  readonly mode: 'good' | 'bad' | 'not-applicable' | 'via-milp' | 'throws' | 'stuck';
}
export interface PickDecision {
  readonly k: number;
}

const pickSchema = z.strictObject({
  kind: z.literal('pick'),
  n: z.number().int().min(0),
  target: z.number(),
  mode: z.enum(['good', 'bad', 'not-applicable', 'via-milp', 'throws', 'stuck']),
});

function pickModel(p: Pick): Model {
  const b = new ModelBuilder('pick', 'min');
  const k = b.addVariable('k', { type: 'integer', lower: 0, upper: p.n });
  const t = b.addVariable('t', { lower: 0 });
  b.greaterEqual(
    'above',
    [
      { variable: t, coefficient: 1 },
      { variable: k, coefficient: -1 },
    ],
    -p.target,
  );
  b.greaterEqual(
    'below',
    [
      { variable: t, coefficient: 1 },
      { variable: k, coefficient: 1 },
    ],
    p.target,
  );
  b.addObjective(t, 1);
  return b.build();
}

export const pickFormulation: Formulation<Pick, PickDecision> = {
  kind: 'pick',
  title: 'pick the integer nearest a target',
  sense: 'min',
  inputSchema: pickSchema,
  parse(raw) {
    const r = pickSchema.safeParse(raw, { reportInput: true });
    if (!r.success) throw inputErrorFromZod(r.error);
    if (r.data.target > 1e9) throw new InputError('$.target', 'must be at most 1e9');
    return r.data;
  },
  decisionSchema: z.strictObject({ k: z.number() }),
  compile(p) {
    return { model: pickModel(p), decode: (values) => ({ k: values[0] }) };
  },
  exact: {
    notApplicable: (p) => (p.mode === 'not-applicable' ? 'the scripted instance says so' : null),
    async solve(p, context) {
      if (p.mode === 'throws') throw new Error('exact blew up');
      if (p.mode === 'bad') return { termination: 'optimal', decision: { k: p.n + 5 }, bound: 0 };
      if (p.mode === 'stuck') return { termination: 'time_limit', decision: null, message: 'ran out of time' };
      if (p.mode === 'via-milp') {
        const r = await context.solveMilp(pickModel(p));
        if (r.solution === null) return { termination: r.termination, decision: null, message: r.message };
        return {
          termination: r.termination,
          decision: { k: r.solution.values[0] },
          bound: r.solution.objective,
          details: { backend: r.backend },
        };
      }
      const k = Math.min(p.n, Math.max(0, Math.round(p.target)));
      return { termination: 'optimal', decision: { k }, bound: Math.abs(k - p.target), details: { rounded: true } };
    },
  },
  evaluate(p, d) {
    const ok = Number.isInteger(d.k) && d.k >= 0 && d.k <= p.n;
    return {
      feasible: ok,
      objective: Math.abs(d.k - p.target),
      violations: ok ? [] : [{ constraint: 'k-range', message: `k = ${d.k} is not an integer in 0..${p.n}` }],
      breakdown: { k: d.k },
    };
  },
  baselines: [
    { name: 'zero', description: 'always k = 0', run: () => ({ k: 0 }) },
    {
      name: 'refuses',
      description: 'never answers',
      run: () => null,
      whyNoDecision: (p) => `it only answers when n > ${p.n}`,
    },
    {
      name: 'crashes',
      description: 'throws',
      run: () => {
        throw new Error('baseline bug');
      },
    },
  ],
  explainInfeasible: (p) => `no integer in 0..${p.n}`,
  describe: (_p, d) => `k = ${d.k}`,
};
