import { describe, expect, it } from 'vitest';
import {
  InputError,
  UsageError,
  check,
  compare,
  evaluate,
  listKinds,
  parseFieldPath,
  parseProblem,
  parseWith,
  schema,
  solve,
  sweep,
  sweepValues,
  type SolveReport,
} from '../../src/api.ts';
import { example, failing, pickFormulation, scripted } from './helpers.ts';

const knapsack = example('knapsack');
/** The knapsack's optimum (items 1, 2, 3, 4, 6), checked by brute force when the file was made. */
const KNAPSACK_OPTIMUM = 309;
const allItems = (value: number): number[] => Array.from({ length: 12 }, () => value);
const optimalValues = [1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0];

async function rejects(promise: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected a rejection');
}

describe('parseProblem', () => {
  it.each([
    [[1, 2], '$', 'must be a JSON object'],
    [{ sense: 'min' }, '$.kind', 'required field is missing'],
    [{ kind: 7 }, '$.kind', 'must be a string'],
    [{ kind: 'mlip' }, '$.kind', 'unknown kind "mlip"; did you mean "milp"?'],
  ])('rejects %j at %s', async (raw, path, rule) => {
    const error = await rejects(() => parseProblem(raw));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).path).toBe(path);
    expect((error as InputError).rule).toContain(rule);
  });

  it('lists the registered kinds, milp among them', () => {
    expect(listKinds()).toContain('milp');
  });
});

describe('solve with MILP backends', () => {
  it('solves the knapsack with auto (highs) and re-checks the decision', async () => {
    const report = await solve(knapsack);
    expect(report).toMatchObject({ kind: 'milp', method: 'highs', termination: 'optimal' });
    expect(report.solution?.objective).toBe(KNAPSACK_OPTIMUM);
    expect(report.solution?.evaluation.feasible).toBe(true);
    expect(report.attempts).toHaveLength(1);
  });

  it('records a decision that fails evaluate as an error and falls back to the next backend', async () => {
    // Every item packed: 595 of weight in a knapsack of 165.
    const liar = scripted('highs', (model) => ({
      backend: 'highs',
      termination: 'optimal',
      solution: { values: allItems(1), objective: 765 },
      timeSeconds: 0.01,
      ...{ model: model.name },
    }));
    const report = await solve(knapsack, { backends: { highs: liar } });
    expect(report.attempts.map((a) => [a.method, a.termination])).toEqual([
      ['highs', 'error'],
      ['glpk', 'optimal'],
    ]);
    expect(report.attempts[0].message).toMatch(
      /^returned a decision that fails evaluate: row capacity: activity 595 exceeds its upper side 165/,
    );
    expect(report.method).toBe('glpk');
    expect(report.solution?.objective).toBe(KNAPSACK_OPTIMUM);
  });

  it("detects an objective that differs from evaluate's; a forced backend gets no fallback", async () => {
    const wrong = scripted('highs', () => ({
      backend: 'highs',
      termination: 'optimal',
      solution: { values: optimalValues, objective: KNAPSACK_OPTIMUM + 1 },
      timeSeconds: 0.01,
    }));
    const forced = await solve(knapsack, { backend: 'highs', backends: { highs: wrong } });
    expect(forced.termination).toBe('error');
    expect(forced.solution).toBeNull();
    expect(forced.attempts).toHaveLength(1);
    expect(forced.attempts[0].message).toBe(
      'objective mismatch: the solver reports 310, evaluate computes a worse 309',
    );
    expect(forced.primalStatus).toBe('rejected');
    expect(forced.claim).toMatchObject({ termination: 'optimal', objective: 310 });
    const auto = await solve(knapsack, { backends: { highs: wrong } });
    expect(auto.method).toBe('glpk');
    expect(auto.attempts[0].message).toMatch(/objective mismatch/);
  });

  it('reports error with every attempt when every backend fails, and no explanation', async () => {
    const report = await solve(knapsack, {
      backends: { highs: failing('highs', 'out of memory'), glpk: failing('glpk'), jslp: failing('jslp') },
    });
    expect(report.termination).toBe('error');
    expect(report.method).toBe('jslp');
    expect(report.attempts.map((a) => a.message)).toEqual(['out of memory', 'scripted failure', 'scripted failure']);
    expect(report.explanation).toBeUndefined();
  });

  it("keeps time_limit and a held solution apart, with the gap from evaluate's objective and the bound", async () => {
    const slow = scripted('highs', () => ({
      backend: 'highs',
      termination: 'time_limit',
      solution: { values: [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1], objective: 253, bound: 320, gap: 0.26 },
      timeSeconds: 2,
    }));
    const report = await solve(knapsack, { backends: { highs: slow }, timeLimitSeconds: 2 });
    expect(report.termination).toBe('time_limit');
    expect(report.solution?.objective).toBe(253);
    expect(report.solution?.bound).toBe(320);
    expect(report.solution?.gap).toBeCloseTo((320 - 253) / 253, 12);
    expect(report.options.timeLimitSeconds).toBe(2);
    expect(report.attempts).toHaveLength(1);
  });

  it('holds the warm start when a backend stops at a limit with no incumbent (solve only, not compare)', async () => {
    // A backend that takes a warm start (so the step runs) but stops at its limit with no incumbent of its own.
    const base = scripted('glpk', () => ({
      backend: 'glpk',
      termination: 'time_limit',
      solution: null,
      timeSeconds: 2,
    }));
    const stuck = { ...base, capabilities: { ...base.capabilities, warmStart: true } };
    const report = await solve(knapsack, { backend: 'glpk', backends: { glpk: stuck }, timeLimitSeconds: 2 });
    expect(report.termination).toBe('time_limit');
    expect(report.solution?.evaluation.feasible).toBe(true);
    // The warm start is the greedy-repair point (Dantzig's greedy: 297).
    expect(report.solution?.objective).toBe(297);
    expect(report.attempts[0].notes.join('; ')).toMatch(/found no incumbent of its own; holding the warm start/);
    // A backend that cannot take one gets no warm start: it would only eat into the time limit.
    const plain = await solve(knapsack, { backend: 'glpk', backends: { glpk: base }, timeLimitSeconds: 2 });
    expect(plain.solution).toBeNull();
    expect(plain.warmStart?.note).toBe('skipped: no method in the plan takes a warm start');
    const table = await compare(knapsack, { backends: { glpk: stuck }, only: ['glpk'] });
    expect(table.rows[0]).toMatchObject({ method: 'glpk', termination: 'time_limit', objective: null });
  });

  it('says that nothing is proven when a limit is reached with no solution', async () => {
    const stuck = scripted('highs', () => ({
      backend: 'highs',
      termination: 'time_limit',
      solution: null,
      timeSeconds: 1,
    }));
    const report = await solve(parseWith(pickFormulation, { kind: 'pick', n: 3, target: 1, mode: 'good' }), {
      backend: 'highs',
      backends: { highs: stuck },
    });
    expect(report.solution).toBeNull();
    expect(report.explanation).toBe(
      'no solution was found within the time limit; infeasibility is not proven; if it is infeasible: no integer in 0..3',
    );
  });

  it('passes the options and the warm start through to a backend that takes one', async () => {
    let seen: unknown;
    const spy = {
      ...scripted('highs', () => ({ backend: 'highs', termination: 'error', solution: null, timeSeconds: 0 })),
      capabilities: { ...failing('highs').capabilities, warmStart: true },
    };
    const recorder = {
      ...spy,
      solve: async (m: Parameters<typeof spy.solve>[0], o?: Parameters<typeof spy.solve>[1]) => (
        (seen = o),
        spy.solve(m)
      ),
    };
    await solve(knapsack, {
      backend: 'highs',
      backends: { highs: recorder },
      timeLimitSeconds: 3,
      mipGap: 0.01,
      nodeLimit: 7,
    });
    // The limit covers the whole run: the backend gets what the warm start and compile left of 3 s.
    expect(seen).toMatchObject({ mipGap: 0.01, nodeLimit: 7 });
    const given = (seen as { timeLimitSeconds: number }).timeLimitSeconds;
    expect(given).toBeLessThanOrEqual(3);
    expect(given).toBeGreaterThan(2);
    expect((seen as { warmStart?: number[] }).warmStart).toHaveLength(12);
  });

  it("stops at a proof of infeasibility (no fallback) and explains it in the model's words", async () => {
    const infeasible = {
      kind: 'milp',
      sense: 'max',
      variables: [
        { name: 'a', type: 'binary' },
        { name: 'b', type: 'binary' },
      ],
      constraints: [{ name: 'three', terms: { a: 1, b: 1 }, lower: 3 }],
      objective: { a: 1 },
    };
    const report = await solve(infeasible);
    expect(report.termination).toBe('infeasible');
    expect(report.solution).toBeNull();
    expect(report.attempts).toHaveLength(1);
    expect(report.explanation).toMatch(
      /row three needs activity ≥ 3, but within the variable bounds it reaches at most 2/,
    );
  });

  it('returns node_limit with an incumbent and its gap from a real backend', async () => {
    const report = await solve(example('gap-20x4'), { backend: 'highs', nodeLimit: 1 });
    expect(report.termination).toBe('node_limit');
    expect(report.solution).not.toBeNull();
    expect(report.solution?.evaluation.feasible).toBe(true);
    expect(report.solution?.gap).toBeGreaterThan(0);
  }, 60_000);

  it.each([
    [{ timeLimitSeconds: -1 }, /timeLimitSeconds must be a positive number/],
    [{ timeLimitSeconds: NaN }, /timeLimitSeconds must be a positive number/],
    [{ mipGap: -0.1 }, /mipGap must be a finite number ≥ 0/],
    [{ nodeLimit: 2.5 }, /nodeLimit must be a positive integer/],
    [{ backend: 'cplex' as 'highs' }, /backend must be one of auto, exact, highs, glpk, jslp/],
  ])('rejects bad options %j', async (options, message) => {
    const error = await rejects(solve(knapsack, options));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(message);
  });
});

describe('solve with an exact method', () => {
  const pick = (mode: string, n = 10, target = 3.4) => parseWith(pickFormulation, { kind: 'pick', n, target, mode });

  it('auto uses the exact method when it applies and reports its details', async () => {
    const report = await solve(pick('good'));
    expect(report).toMatchObject({ method: 'exact', termination: 'optimal', details: { rounded: true } });
    expect(report.solution?.decision).toEqual({ k: 3 });
    expect(report.solution?.objective).toBeCloseTo(0.4);
    expect(report.solution?.gap).toBe(0);
    expect(report.summary).toBe('k = 3');
  });

  it('holds the warm start when the exact method stops at its limit with nothing (solve), not in compare', async () => {
    const report = await solve(pick('stuck'), { backend: 'exact', timeLimitSeconds: 5 });
    expect(report.termination).toBe('time_limit');
    // The warm start is the best peer evaluate accepts: 'zero' (k = 0, |0 - 3.4|).
    expect(report.solution?.decision).toEqual({ k: 0 });
    expect(report.attempts[0].notes.join('; ')).toMatch(/exact found no incumbent of its own; holding the warm start/);
    const side = await compare(pick('stuck'), { only: [], timeLimitSeconds: 5 });
    const exact = side.rows.find((r) => r.method === 'exact');
    expect(exact?.termination).toBe('time_limit');
    expect(exact?.objective).toBeNull();
  });

  it('falls back from an exact method whose decision fails evaluate, and from one that throws', async () => {
    for (const mode of ['bad', 'throws']) {
      const report = await solve(pick(mode));
      expect(report.attempts.map((a) => a.method)).toEqual(['exact', 'highs']);
      expect(report.attempts[0].termination).toBe('error');
      expect(report.attempts[0].message).toMatch(
        mode === 'bad' ? /fails evaluate: k = 15 is not an integer in 0..10/ : /exact blew up/,
      );
      expect(report.method).toBe('highs');
      expect(report.solution?.decision).toEqual({ k: 3 });
    }
  });

  it('skips a non-applicable exact method under auto, and refuses it when forced', async () => {
    const report = await solve(pick('not-applicable'));
    expect(report.attempts.map((a) => a.method)).toEqual(['highs']);
    const error = await rejects(solve(pick('not-applicable'), { backend: 'exact' }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe('backend exact: the scripted instance says so');
  });

  it('hands exact methods a solveMilp that falls back from highs to glpk', async () => {
    const highs = failing('highs');
    const report = await solve(pick('via-milp', 10, 7.6), { backend: 'exact', backends: { highs } });
    expect(highs.calls).toHaveLength(1);
    expect(report.details).toEqual({ backend: 'glpk' });
    expect(report.solution?.decision).toEqual({ k: 8 });
  });

  it('compare lists the exact row, backends, and baselines that answer, refuse or crash', async () => {
    const report = await compare(pick('good'));
    expect(report.rows.map((r) => [r.method, r.kind])).toEqual([
      ['exact', 'exact'],
      ['highs', 'backend'],
      ['glpk', 'backend'],
      ['jslp', 'backend'],
      ['zero', 'baseline'],
      ['refuses', 'baseline'],
      ['crashes', 'baseline'],
    ]);
    const byName = Object.fromEntries(report.rows.map((r) => [r.method, r]));
    expect(byName.zero).toMatchObject({ objective: 3.4, feasible: true, termination: null });
    expect(byName.refuses).toMatchObject({
      objective: null,
      feasible: null,
      message: 'no decision: it only answers when n > 10',
    });
    expect(byName.crashes).toMatchObject({ termination: 'error', message: 'baseline bug' });
    expect(report.agreement.agree).toBe(true);
    expect(report.agreement.methods).toEqual(['exact', 'highs', 'glpk', 'jslp']);
    expect(report.best?.objective).toBeCloseTo(0.4);
  });
});

describe('compare on the milp examples', () => {
  it('all three backends agree on the knapsack and beat or match the greedy baseline', async () => {
    const report = await compare(knapsack);
    const backends = report.rows.filter((r) => r.kind === 'backend');
    expect(backends.map((r) => r.method)).toEqual(['highs', 'glpk', 'jslp']);
    for (const r of backends)
      expect(r).toMatchObject({ termination: 'optimal', objective: KNAPSACK_OPTIMUM, feasible: true });
    expect(report.agreement).toMatchObject({ agree: true, spread: 0 });
    const greedy = report.rows.find((r) => r.method === 'greedy-repair');
    expect(greedy?.feasible).toBe(true);
    expect(greedy?.objective).toBeLessThanOrEqual(KNAPSACK_OPTIMUM);
  });

  it('shows a backend whose decision fails evaluate as infeasible in its row', async () => {
    const liar = scripted('highs', () => ({
      backend: 'highs',
      termination: 'optimal',
      solution: { values: allItems(1), objective: 765 },
      timeSeconds: 0,
    }));
    const report = await compare(knapsack, { backends: { highs: liar }, only: ['highs', 'glpk'] });
    expect(report.rows[0]).toMatchObject({ method: 'highs', termination: 'error', feasible: false, objective: 765 });
    expect(report.best).toEqual({ method: 'glpk', objective: KNAPSACK_OPTIMUM });
  });
});

describe('evaluate and check', () => {
  let solved: SolveReport;

  it('re-checks a solve report, a bare decision, and catches tampering', async () => {
    solved = JSON.parse(JSON.stringify(await solve(knapsack))) as SolveReport;
    expect(check(knapsack, solved)).toMatchObject({
      ok: true,
      feasible: true,
      objective: KNAPSACK_OPTIMUM,
      objectiveMatches: true,
      claimed: { method: 'highs', objective: KNAPSACK_OPTIMUM },
    });
    expect(check(knapsack, solved.solution?.decision)).toMatchObject({ ok: true, feasible: true });
    const claimsMore = structuredClone(solved) as { solution: { objective: number } };
    claimsMore.solution.objective = 400;
    expect(check(knapsack, claimsMore)).toMatchObject({ ok: false, feasible: true, objectiveMatches: false });
    const overfull = structuredClone(solved) as { solution: { decision: { values: Record<string, number> } } };
    overfull.solution.decision.values.item5 = 1;
    const verdict = check(knapsack, overfull);
    expect(verdict.ok).toBe(false);
    expect(verdict.evaluation.violations[0].constraint).toBe('constraints.capacity');
  });

  it.each([
    [
      { termination: 'infeasible', solution: null, kind: 'milp' },
      '$.solution',
      'the report holds no solution (termination: infeasible)',
    ],
    [{ termination: 'optimal', solution: { decision: {} }, kind: 'pick' }, '$.kind', 'the solution is for kind "pick"'],
    [
      { termination: 'optimal', solution: { decision: { values: {}, extra: 1 } } },
      '$.solution.decision.extra',
      'unknown field',
    ],
    [{ values: { item1: 'one' } }, '$.values.item1', 'expected number'],
    [{ values: { item1: NaN } }, '$.values.item1', 'must be a finite number, got NaN'],
    [{ values: { item1: -Infinity } }, '$.values.item1', 'must be a finite number, got -Infinity'],
    [{}, '$.values', 'expected an object mapping names to numbers'],
  ])('rejects solution %j at %s', (solution, path, rule) => {
    let error: unknown;
    try {
      check(knapsack, solution);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).path).toBe(path);
    expect((error as InputError).rule).toContain(rule);
  });

  it("evaluate validates a library caller's decision before re-checking it", () => {
    expect(
      evaluate(knapsack, { values: Object.fromEntries(optimalValues.map((v, i) => [`item${i + 1}`, v])) }).objective,
    ).toBe(KNAPSACK_OPTIMUM);
    expect(() => evaluate(knapsack, { values: { item1: NaN } })).toThrow(
      /\$\.values\.item1: must be a finite number, got NaN/,
    );
  });
});

describe('sweep', () => {
  it('parses field paths and value ranges', () => {
    expect(parseFieldPath('accuracy.maxFreezingRatio')).toEqual(['accuracy', 'maxFreezingRatio']);
    expect(parseFieldPath('constraints[0].upper')).toEqual(['constraints', 0, 'upper']);
    expect(parseFieldPath('$.clients.2.memoryBytes')).toEqual(['clients', 2, 'memoryBytes']);
    expect(sweepValues('0:0.1:1')).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(sweepValues('10:-5:0')).toEqual([10, 5, 0]);
    expect(sweepValues('1, 2.5,4')).toEqual([1, 2.5, 4]);
    expect(() => sweepValues('0:0:1')).toThrow(UsageError);
    expect(() => sweepValues('0:1')).toThrow(UsageError);
    expect(() => sweepValues('a,b')).toThrow(UsageError);
    expect(() => parseFieldPath('a..b')).toThrow(UsageError);
  });

  it('re-solves with the capacity set to each value (brute-force optima)', async () => {
    const report = await sweep(knapsack, 'constraints[0].upper', [0, 50, 100]);
    expect(report.path).toBe('$.constraints[0].upper');
    // By brute force over the 4096 subsets: capacity 50 → items 1 and 11 (123); 100 → items 1, 2, 3, 11 (229).
    expect(report.rows.map((r) => [r.value, r.termination, r.objective])).toEqual([
      [0, 'optimal', 0],
      [50, 'optimal', 123],
      [100, 'optimal', 229],
    ]);
    expect(report.rows[1].summary).toMatch(/item1 = 1, item11 = 1/);
  });

  it('rejects a path that is missing or not numeric, and a value the schema refuses, before solving', async () => {
    const missing = await rejects(sweep(knapsack, 'constraints[3].upper', [1]));
    expect(missing).toMatchObject({ path: '$.constraints[3]', rule: 'the sweep path does not exist in the problem' });
    const text = await rejects(sweep(knapsack, 'sense', [1]));
    expect(text).toMatchObject({ path: '$.sense' });
    expect((text as InputError).rule).toMatch(/numeric field/);
    const refused = await rejects(sweep(knapsack, 'variables[0].upper', [1, 2]));
    expect(refused).toMatchObject({ path: '$.variables[0].upper' });
    expect((refused as InputError).rule).toMatch(/within \[0, 1\].*\(with the swept value 2\)/);
  });
});

describe('schema', () => {
  it('generates JSON Schema from the zod input schema', () => {
    const s = schema('milp') as {
      type: string;
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(s.type).toBe('object');
    expect(s.required).toEqual(expect.arrayContaining(['kind', 'sense', 'variables', 'constraints', 'objective']));
    expect(s.additionalProperties).toBe(false);
    expect(Object.keys(s.properties)).toContain('variables');
    const all = schema() as { oneOf: unknown[] };
    expect(all.oneOf).toHaveLength(listKinds().length);
    expect(() => schema('mlip')).toThrow(/unknown kind "mlip"; did you mean "milp"\?/);
  });
});
