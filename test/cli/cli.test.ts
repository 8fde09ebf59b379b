import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { solveExitCode } from '../../src/cli/commands/solve.ts';
import { runCli } from '../support/cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'edgeplan-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (argv: string[], env: Record<string, string> = {}) => runCli(argv, env, root);

function write(name: string, content: string | object): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const valid = {
  kind: 'milp',
  sense: 'max',
  variables: [
    { name: 'x', type: 'binary' },
    { name: 'y', type: 'integer', upper: 3 },
  ],
  constraints: [{ name: 'cap', terms: { x: 2, y: 1 }, upper: 4 }],
  objective: { x: 3, y: 1 },
};
const variant = (mutate: (p: Record<string, unknown>) => void): object => {
  const copy = structuredClone(valid) as unknown as Record<string, unknown>;
  mutate(copy);
  return copy;
};

/** One line on stderr, `edgeplan: <path>: <rule>`, no stack trace, nothing on stdout, exit 2. */
function expectOneLineInputError(
  result: { code: number; stdout: string; stderr: string },
  path: string,
  rule: string | RegExp,
): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0].startsWith(`edgeplan: ${path}: `)).toBe(true);
  if (typeof rule === 'string') expect(lines[0]).toContain(rule);
  else expect(lines[0]).toMatch(rule);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('edgeplan bad input: one line naming the JSON path and the rule, exit 2', () => {
  it.each([
    [
      'malformed JSON',
      '{"kind": "milp",\n  "sense": }',
      '$',
      /invalid JSON at line 2 column 12: unexpected token '}' \(in .*bad\.json\)$/,
    ],
    [
      'a trailing comma',
      '{"kind": "milp",\n "sense": "max",\n}',
      '$',
      'invalid JSON at line 3 column 1: expected double-quoted property name',
    ],
    [
      'a NaN literal',
      '{"kind": "milp", "objectiveConstant": NaN}',
      '$',
      /invalid JSON at line 1 column 39: .*JSON has no NaN or Infinity/,
    ],
    ['an empty file', '   ', '$', 'invalid JSON: the file is empty'],
    ['a non-object document', '[1, 2]', '$', 'a problem must be a JSON object with a "kind" field'],
    ['an unknown kind', { ...valid, kind: 'knapsak' }, '$.kind', 'unknown kind "knapsak"'],
    [
      'a missing field',
      variant((p) => delete p.sense),
      '$.sense',
      'required field is missing (expected one of "min", "max")',
    ],
    [
      'an extra field',
      variant((p) => ((p.variables as Record<string, unknown>[])[0].color = 'red')),
      '$.variables[0].color',
      'unknown field',
    ],
    [
      'a negative binary bound',
      variant((p) => ((p.variables as Record<string, unknown>[])[0].lower = -1)),
      '$.variables[0].lower',
      "a binary variable's bounds must lie within [0, 1], got -1",
    ],
    [
      'a string where a number belongs',
      variant((p) => ((p.objective as Record<string, unknown>).y = '1')),
      '$.objective.y',
      'expected number, got string',
    ],
    [
      'an undeclared variable',
      variant((p) => ((p.constraints as { terms: Record<string, number> }[])[0].terms.z = 1)),
      '$.constraints[0].terms.z',
      'variable z is not declared',
    ],
  ])('%s', async (label, content, path, rule) => {
    const file = write(`${label.replace(/\W+/g, '-')}.json`.replace(/^malformed-JSON/, 'bad'), content);
    expectOneLineInputError(await run(['solve', file]), path, rule);
  });

  it('a 50 MB file is refused before it is parsed', async () => {
    const file = join(dir, 'huge.json');
    // Valid JSON that would parse, so that only the size can be the reason for refusing it.
    writeFileSync(
      file,
      `{"kind":"milp","description":"${'x'.repeat(50 * 1024 * 1024)}","sense":"min","variables":[],"constraints":[],"objective":{}}`,
    );
    const size = readFileSync(file).length;
    expect(size).toBeGreaterThan(50 * 1024 * 1024);
    expectOneLineInputError(
      await run(['solve', file]),
      '$',
      /the file is 5\d\.\d MB; input files may be at most 20\.0 MB/,
    );
  });

  it('EDGEPLAN_DEBUG=1 adds the stack trace after the one-line message', async () => {
    const file = write('debug.json', '[1,');
    const result = await run(['solve', file], { EDGEPLAN_DEBUG: '1' });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(
      /^edgeplan: \$: invalid JSON at line 1 column 4: unexpected end of input/,
    );
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('a bad solution file is named in the message', async () => {
    const problem = write('p.json', valid);
    const solution = write('sol.json', { values: { x: 1, y: 'two' } });
    expectOneLineInputError(
      await run(['check', problem, solution]),
      '$.values.y',
      /expected number, got string \(in .*sol\.json\)$/,
    );
  });

  it.each([
    [
      ['solve', 'problems/milp/knapsack.json', '--time-limit', '-1'],
      'edgeplan: --time-limit: expected a positive number of seconds, got "-1"',
    ],
    [
      ['solve', 'problems/milp/knapsack.json', '--mip-gap', 'NaN'],
      'edgeplan: --mip-gap: expected a number ≥ 0, got "NaN"',
    ],
    [
      ['solve', 'problems/milp/knapsack.json', '--backend', 'cplex'],
      'edgeplan: --backend: expected one of auto, exact, highs, glpk, jslp, got "cplex"',
    ],
    [
      ['solve', 'problems/milp/knapsack.json', '--sweep', 'nothing'],
      'edgeplan: --sweep: expected PATH=start:step:end or PATH=v1,v2,…, got "nothing"',
    ],
    [
      ['solve', 'problems/milp/knapsack.json', '--backend', 'exact'],
      'edgeplan: backend exact: kind milp has no exact method',
    ],
    [['solve', 'no/such/file.json'], 'edgeplan: no/such/file.json: no such file'],
    [['solve', 'problems/milp/knapsack.json', '--frobnicate'], "edgeplan: unknown option '--frobnicate'"],
    [['solve'], "edgeplan: missing required argument 'problem'"],
    [['schema', 'mlip'], 'edgeplan: unknown kind "mlip"; did you mean "milp"?'],
  ])('usage error %j', async (argv, line) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n').filter((l) => l !== '')[0]).toContain(line);
    expect(result.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });
});

describe('edgeplan commands', () => {
  it('solve prints the human summary and exits 0', async () => {
    const result = await run(['solve', 'problems/milp/knapsack.json']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/termination +optimal \(certified: gap within 1e-6 relative\)/);
    expect(result.stdout).toMatch(/objective +309  objective \(maximised\)\n/);
    expect(result.stdout).toMatch(/item1 = 1, item2 = 1, item3 = 1, item4 = 1, item6 = 1/);
    expect(result.stderr).toBe('');
  });

  it('solve --json --out writes the report that check then accepts; tampering is caught', async () => {
    const out = join(dir, 'report.json');
    const result = await run(['solve', 'problems/milp/knapsack.json', '--json', '--out', out, '--backend', 'glpk']);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as {
      method: string;
      solution: { objective: number; decision: { values: Record<string, number> } };
    };
    expect(printed).toEqual(JSON.parse(readFileSync(out, 'utf8')));
    expect(printed.method).toBe('glpk');
    const ok = await run(['check', 'problems/milp/knapsack.json', out]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/feasible +yes/);
    expect(ok.stdout).toMatch(/claimed +309 by glpk \(optimal\): matches/);
    const tampered = structuredClone(printed);
    tampered.solution.decision.values.item12 = 1;
    const bad = await run(['check', 'problems/milp/knapsack.json', write('tampered.json', tampered)]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/feasible +no/);
    expect(bad.stdout).toMatch(/constraints\.capacity: row capacity: activity 206 exceeds its upper side 165/);
  });

  it('an infeasible problem exits 1 and says why', async () => {
    const file = write(
      'infeasible.json',
      variant((p) => (p.constraints = [{ name: 'demand', terms: { x: 1, y: 1 }, lower: 5 }])),
    );
    const result = await run(['solve', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/termination +infeasible \(no solution\)/);
    expect(result.stdout).toMatch(
      /why: row demand needs activity ≥ 5, but within the variable bounds it reaches at most 4 \(short by 1\)/,
    );
  });

  it('compare shows all three backends agreeing on the knapsack', async () => {
    const result = await run(['compare', 'problems/milp/knapsack.json']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^highs +backend +optimal +309 /m);
    expect(result.stdout).toMatch(/^glpk +backend +optimal +309 /m);
    expect(result.stdout).toMatch(/^jslp +backend +optimal +309 /m);
    expect(result.stdout).toMatch(/^greedy-repair +baseline +- +297 /m);
    expect(result.stdout).toContain(
      'agreement: highs, glpk, jslp certified optimal with the same objective, and no method contradicts another',
    );
  });

  it('solve --sweep re-solves over a field and prints one row per value', async () => {
    const result = await run([
      'solve',
      'problems/milp/knapsack.json',
      '--sweep',
      'constraints[0].upper=0:50:100',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { rows: { value: number; objective: number }[] };
    expect(report.rows.map((r) => [r.value, r.objective])).toEqual([
      [0, 0],
      [50, 123],
      [100, 229],
    ]);
  });

  it('schema and kinds', async () => {
    const s = await run(['schema', 'milp']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ title: 'edgeplan milp problem', type: 'object' });
    const k = await run(['kinds']);
    expect(k.code).toBe(0);
    expect(k.stdout).toMatch(/^milp +raw mixed-integer linear program$/m);
    const long = await run(['kinds', '--long']);
    expect(long.stdout).toMatch(/^milp +milp +raw mixed-integer linear program +greedy-repair$/m);
  });

  it('maps terminations to exit codes', () => {
    const base = {
      kind: 'milp',
      objectiveLabel: 'objective (minimised)',
      sense: 'min' as const,
      method: 'highs' as const,
      primalStatus: 'none' as const,
      bounds: { primal: Infinity, dual: -Infinity },
      claim: null,
      attempts: [],
      options: { backend: 'auto' as const, mipGap: 1e-6 },
      warmStart: null,
      steps: { warmStartSeconds: null, compileSeconds: null },
      warnings: [],
      timeSeconds: 0,
    };
    const evaluation = { feasible: true, objective: 1, violations: [], breakdown: null };
    const held = { ...base, primalStatus: 'feasible' as const, solution: { decision: {}, objective: 1, evaluation } };
    expect(solveExitCode({ ...held, termination: 'time_limit' })).toBe(0);
    expect(solveExitCode({ ...held, termination: 'numerical_error' })).toBe(0);
    expect(solveExitCode({ ...base, termination: 'time_limit', solution: null })).toBe(1);
    expect(solveExitCode({ ...base, termination: 'infeasible', solution: null })).toBe(1);
    expect(solveExitCode({ ...base, termination: 'infeasible_or_unbounded', solution: null })).toBe(1);
    expect(solveExitCode({ ...base, termination: 'error', solution: null })).toBe(3);
    expect(solveExitCode({ ...base, termination: 'memory_limit', solution: null })).toBe(3);
    expect(solveExitCode({ ...base, termination: 'numerical_error', solution: null })).toBe(3);
  });
});

describe('bin/edgeplan.js (spawned: the real entry point, through tsx)', () => {
  const spawn = (...args: string[]) =>
    spawnSync(process.execPath, [join(root, 'bin/edgeplan.js'), ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, EDGEPLAN_DEBUG: '' },
    });

  it('solves a bundled example', () => {
    const result = spawn('solve', 'problems/milp/knapsack.json', '--json');
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as { solution: { objective: number } }).solution.objective).toBe(309);
  }, 30_000);

  it('reports bad input on one line with exit 2 and no stack trace', () => {
    const result = spawn('solve', write('spawn-bad.json', '{"kind": "milp", "sense": "min", "variables": [}'));
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^edgeplan: \$: invalid JSON at line 1 column 48: .*\(in .*spawn-bad\.json\)\n$/);
  }, 30_000);
});
