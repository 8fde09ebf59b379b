/** MPS and LP reading rules (issue 18), each on a small file whose meaning is worked out by hand. */
import { describe, expect, it } from 'vitest';
import { InputError, parseProblem, readLp, readMps, solve, writeMps, toLpText, type Model } from '../../src/api.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/context.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const col = (m: Model, name: string) => m.variables.find((v) => v.name === name);
const row = (m: Model, name: string) => m.constraints.find((c) => c.name === name);

const RANGED = `* ranges on every row type, an extra free row, an empty row, a constant and 1e30
NAME          RANGED
OBJSENSE
    MAX
ROWS
 N  COST
 N  SPARE
 E  EPOS
 E  ENEG
 L  LIM
 G  GEQ
 L  EMPTY
COLUMNS
    X         COST      1.0        EPOS      1.0
    X         SPARE     5.0        LIM       1.0
    Y         COST      2.0        ENEG      1.0
    Y         GEQ       1.0
RHS
    RHS       COST      -7.5       EPOS      2.0
    RHS       ENEG      3.0        LIM       5.0
    RHS       GEQ       1.0        EMPTY     4.0
    RHS2      LIM       99.0
RANGES
    RNG       EPOS      4.0        ENEG      -2.0
    RNG       LIM       -3.0       GEQ       5.0
BOUNDS
 UP BND       X         1e30
 MI BND       Y
 UP BND       Y         1e31
ENDATA
`;

describe('MPS reader', () => {
  it('RANGES on E (both signs), L and G rows; OBJSENSE; objective constant = -RHS; extra N row dropped', () => {
    const { model, notes } = readMps(RANGED);
    expect(model.sense).toBe('max');
    expect(model.objectiveConstant).toBe(7.5);
    expect(row(model, 'EPOS')).toMatchObject({ lower: 2, upper: 6 });
    expect(row(model, 'ENEG')).toMatchObject({ lower: 1, upper: 3 });
    expect(row(model, 'LIM')).toMatchObject({ lower: 2, upper: 5 });
    expect(row(model, 'GEQ')).toMatchObject({ lower: 1, upper: 6 });
    expect(row(model, 'EMPTY')?.terms).toEqual([]);
    expect(row(model, 'SPARE')).toBeUndefined();
    expect(model.objective.map((t) => t.coefficient)).toEqual([1, 2]);
    expect(col(model, 'X')).toMatchObject({ lower: 0, upper: Infinity });
    expect(col(model, 'Y')).toMatchObject({ lower: -Infinity, upper: Infinity });
    expect(notes.join('\n')).toMatch(/1 free \(N\) row.*SPARE/);
    expect(notes.join('\n')).toMatch(/ignored RHS RHS2/);
  });

  it('solves to the value worked out by hand: max x + 2y + 7.5, x ≤ 5 (LIM), y ≤ 3 (ENEG) → 18.5', async () => {
    const { model } = readMps(RANGED);
    const { modelToMilpDocument } = await import('../../src/api.ts');
    const { document, notes } = modelToMilpDocument(model, 'ranged');
    expect(notes).toContain('1 row(s) with no terms and 0 within their bounds left out');
    const report = await solve(parseProblem(document), { backend: 'highs' });
    expect(report.solution?.objective).toBeCloseTo(18.5, 9);
  });

  it('bound types UP LO FX FR MI PL BV LI UI; a negative UP frees the lower bound; markers default to [0, 1]', () => {
    const { model, notes } = readMps(`NAME B
ROWS
 N obj
 L r
COLUMNS
 a obj 1 r 1
 b obj 1 r 1
 c obj 1 r 1
 M1 'MARKER' 'INTORG'
 d obj 1 r 1
 e obj 1 r 1
 f obj 1 r 1
 M2 'MARKER' 'INTEND'
 g obj 1 r 1
 h obj 1 r 1
 i obj 1 r 1
 j obj 1 r 1
 k obj 1 r 1
 l obj 1 r 1
RHS
 rhs r 5
BOUNDS
 UP bnd a -2
 LO bnd b -3
 UP bnd b -1
 FX bnd c 4
 LO bnd e 2
 LI bnd g -5
 UI bnd h 9
 BV bnd i
 FR bnd j
 MI bnd k
 PL bnd l
 UP bnd d 7
ENDATA
`);
    expect(col(model, 'a')).toMatchObject({ lower: -Infinity, upper: -2, type: 'continuous' });
    expect(col(model, 'b')).toMatchObject({ lower: -3, upper: -1 });
    expect(col(model, 'c')).toMatchObject({ lower: 4, upper: 4 });
    expect(col(model, 'd')).toMatchObject({ lower: 0, upper: 7, type: 'integer' });
    expect(col(model, 'e')).toMatchObject({ lower: 2, upper: Infinity, type: 'integer' });
    expect(col(model, 'f')).toMatchObject({ lower: 0, upper: 1, type: 'integer' });
    expect(col(model, 'g')).toMatchObject({ lower: -5, upper: Infinity, type: 'integer' });
    expect(col(model, 'h')).toMatchObject({ lower: 0, upper: 9, type: 'integer' });
    expect(col(model, 'i')).toMatchObject({ lower: 0, upper: 1, type: 'binary' });
    expect(col(model, 'j')).toMatchObject({ lower: -Infinity, upper: Infinity });
    expect(col(model, 'k')).toMatchObject({ lower: -Infinity, upper: Infinity });
    expect(col(model, 'l')).toMatchObject({ lower: 0, upper: Infinity });
    expect(notes.join('\n')).toMatch(/column a: negative UP/);
    expect(notes.join('\n')).toMatch(/1 integer column\(s\) with no bounds read as \[0, 1\]/);
  });

  it('fixed MPS with spaces in names is read by columns', () => {
    // Fields at columns 2–3, 5–12, 15–22, 25–36, 40–47, 50–61.
    const line = (...fields: [number, string][]): string => {
      let text = '';
      for (const [column, value] of fields) text = text.padEnd(column - 1) + value;
      return text;
    };
    const fixed = [
      'NAME          FIXED',
      'ROWS',
      line([2, 'N'], [5, 'COST']),
      line([2, 'L'], [5, 'MY ROW']),
      'COLUMNS',
      line([5, 'MY COL'], [15, 'COST'], [25, '-1.0'], [40, 'MY ROW'], [50, '1.0']),
      'RHS',
      line([5, 'RHS'], [15, 'MY ROW'], [25, '3.0']),
      'ENDATA',
    ].join('\n');
    const { model } = readMps(fixed);
    expect(model.variables.map((v) => v.name)).toEqual(['MY COL']);
    expect(row(model, 'MY ROW')).toMatchObject({ upper: 3 });
  });

  it('refuses QUADOBJ, SOS and SC bounds with their name and the line', () => {
    const base = 'NAME Q\nROWS\n N obj\nCOLUMNS\n x obj 1\n';
    expect(() => readMps(`${base}QUADOBJ\n x x 1\nENDATA\n`)).toThrow(/QUADOBJ is not supported/);
    expect(() => readMps(`${base}SOS\n S1 SOS\nENDATA\n`)).toThrow(/SOS is not supported/);
    expect(() => readMps(`${base}BOUNDS\n SC bnd x 4\nENDATA\n`)).toThrow(/SC .*semi-continuous/);
    try {
      readMps(`${base}QMATRIX\nENDATA\n`);
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).path).toBe('line 6');
    }
    expect(() => readMps(`${base}`)).toThrow(/without ENDATA/);
  });
});

describe('LP reader', () => {
  it('objective constant, ranges, bounds forms, general/binary, names with dots', () => {
    const { model } = readLp(`\\ a comment
Maximize
 obj: 3 x.1 + 2 y - z + 4
Subject To
 c1: x.1 + y + z <= 10
 c2: -2 <= x.1 - y <= 8
 x.1 + 2 >= 1
 c4: 2 y + 3 z = 6
Bounds
 -inf <= z <= 5
 x.1 <= 4
 y free
 0 <= w <= 3
General
 y
Binary
 b
End
`);
    expect(model.sense).toBe('max');
    expect(model.objectiveConstant).toBe(4);
    expect(row(model, 'c2')).toMatchObject({ lower: -2, upper: 8 });
    expect(row(model, 'R3')).toMatchObject({ lower: -1, upper: Infinity });
    expect(row(model, 'c4')).toMatchObject({ lower: 6, upper: 6 });
    expect(col(model, 'z')).toMatchObject({ lower: -Infinity, upper: 5 });
    expect(col(model, 'x.1')).toMatchObject({ lower: 0, upper: 4 });
    expect(col(model, 'y')).toMatchObject({ lower: -Infinity, upper: Infinity, type: 'integer' });
    expect(col(model, 'w')).toMatchObject({ lower: 0, upper: 3 });
    expect(col(model, 'b')).toMatchObject({ lower: 0, upper: 1, type: 'binary' });
  });

  it('refuses semi-continuous, SOS and quadratic terms', () => {
    expect(() => readLp('Minimize\n obj: x\nSubject To\n c: x >= 1\nSemi-continuous\n x\nEnd\n')).toThrow(
      /not supported/,
    );
    expect(() => readLp('Minimize\n obj: x + [ x ^ 2 ] / 2\nEnd\n')).toThrow(/quadratic/);
    expect(() => readLp('Minimize\n obj: x\nSOS\n s1: S1:: x:1\nEnd\n')).toThrow(/not supported/);
  });
});

describe('writers round-trip', () => {
  const model: Model = {
    name: 'tiny model',
    sense: 'min',
    variables: [
      { name: 'a b', type: 'integer', lower: 0, upper: Infinity },
      { name: 'c', type: 'continuous', lower: -Infinity, upper: 4 },
      { name: 'd', type: 'binary', lower: 0, upper: 1 },
      { name: 'e', type: 'integer', lower: -3, upper: 7 },
    ],
    constraints: [
      {
        name: 'r1',
        terms: [
          { variable: 0, coefficient: 1 },
          { variable: 1, coefficient: 2 },
        ],
        lower: 1,
        upper: 9,
      },
      {
        name: 'r2',
        terms: [
          { variable: 2, coefficient: -1 },
          { variable: 3, coefficient: 1 },
        ],
        lower: 2,
        upper: 2,
      },
      { name: 'r3', terms: [{ variable: 1, coefficient: 1 }], lower: -5, upper: Infinity },
    ],
    objective: [
      { variable: 0, coefficient: 1 },
      { variable: 1, coefficient: 1 },
      { variable: 3, coefficient: -1 },
    ],
    objectiveConstant: 2.5,
  };

  it('MPS keeps every bound, type, range and the constant (unsafe names become x0…, c0…)', () => {
    const back = readMps(writeMps(model)).model;
    expect(back.variables.map(({ type, lower, upper }) => ({ type, lower, upper }))).toEqual(
      model.variables.map(({ type, lower, upper }) => ({ type, lower, upper })),
    );
    expect(back.constraints.map(({ lower, upper }) => [lower, upper])).toEqual([
      [1, 9],
      [2, 2],
      [-5, Infinity],
    ]);
    expect(back.objectiveConstant).toBe(2.5);
    expect(back.variables[0].name).toBe('x0');
  });

  it('LP keeps the same model (ranges split into two rows)', async () => {
    const { modelToMilpDocument } = await import('../../src/api.ts');
    const a = await solve(parseProblem(modelToMilpDocument(model, 'a').document), { backend: 'highs' });
    const viaLp = readLp(toLpText(model)).model;
    const b = await solve(parseProblem(modelToMilpDocument(viaLp, 'b').document), { backend: 'highs' });
    const viaMps = readMps(writeMps(model)).model;
    const c = await solve(parseProblem(modelToMilpDocument(viaMps, 'c').document), { backend: 'highs' });
    expect(a.termination).toBe('optimal');
    expect(b.solution?.objective).toBeCloseTo(a.solution?.objective as number, 9);
    expect(c.solution?.objective).toBeCloseTo(a.solution?.objective as number, 9);
  });
});

describe('CLI', () => {
  function io(cwd: string) {
    const out: string[] = [];
    const err: string[] = [];
    const value: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd, env: {} };
    return { value, out, err };
  }

  it('solve model.mps solves; a QUADOBJ file exits 2 with one line naming the line and the section', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mps-'));
    writeFileSync(join(dir, 'ranged.mps'), RANGED);
    writeFileSync(join(dir, 'q.mps'), 'NAME Q\nROWS\n N obj\nCOLUMNS\n x obj 1\nQUADOBJ\n x x 1\nENDATA\n');
    const ok = io(dir);
    expect(await main(['solve', 'ranged.mps', '--json'], ok.value)).toBe(0);
    expect(JSON.parse(ok.out.join('')).solution.objective).toBeCloseTo(18.5, 9);
    expect(ok.err.join('')).toMatch(/note: 1 free \(N\) row/);
    const bad = io(dir);
    expect(await main(['solve', 'q.mps'], bad.value)).toBe(2);
    expect(bad.err.join('').trim().split('\n')).toEqual([
      'edgeplan: line 6: section QUADOBJ is not supported: edgeplan reads linear (MI)LPs only (in q.mps)',
    ]);
  });
});
