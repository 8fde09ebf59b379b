/**
 * CPLEX LP files in (issue 18): the format `toLpText` writes and Gurobi, CPLEX, SCIP, HiGHS and glpsol read.
 *
 * Sections (keywords case-insensitive): Minimize/Maximize (min, minimum, minimise, max, maximum, maximise),
 * Subject To (st, s.t., such that), Bounds, General/Generals/Gen/Integers, Binary/Binaries/Bin, End. A constant in
 * the objective is the objective constant; constants on a row's left side move to the right. Rows are
 * `[name:] expr op rhs` or ranges `[name:] lo <= expr <= hi`; op is <, <=, =<, >, >=, =>, =. Bounds are `x >= l`,
 * `x <= u`, `l <= x <= u`, `x = v`, `x free` with ±inf/infinity. As in the MPS reader, |value| ≥ 1e30 is infinite,
 * a negative upper bound on a column whose lower bound is still the default 0 makes the lower bound −∞ (with a
 * note), and a Binary column is integer in [0, 1]. Semi-continuous, SOS, quadratic terms ([ … ]), indicator
 * constraints (->) and lazy-constraint / user-cut sections are refused with their name.
 */
import { InputError } from '../errors.ts';
import type { Model, Sense, Term, Variable } from './model.ts';
import { mergeTerms } from './model.ts';
import { MPS_INFINITY, type ReadModel } from './mps.ts';

type Token =
  | { readonly kind: 'number'; readonly value: number; readonly line: number }
  | { readonly kind: 'name'; readonly text: string; readonly line: number }
  | { readonly kind: 'op'; readonly text: '<=' | '>=' | '='; readonly line: number }
  | { readonly kind: 'sign'; readonly text: '+' | '-'; readonly line: number }
  | { readonly kind: 'colon'; readonly line: number }
  | { readonly kind: 'section'; readonly text: string; readonly line: number };

const SECTION_WORDS: readonly [RegExp, string][] = [
  [/^(minimize|minimise|minimum|min)$/i, 'MIN'],
  [/^(maximize|maximise|maximum|max)$/i, 'MAX'],
  [/^(subject\s+to|such\s+that|st|s\.t\.)$/i, 'ST'],
  [/^(bounds|bound)$/i, 'BOUNDS'],
  [/^(generals|general|gen|integers)$/i, 'GENERAL'],
  [/^(binaries|binary|bin)$/i, 'BINARY'],
  [/^end$/i, 'END'],
];
const REFUSED = /^(semi-continuous|semis|semi|sos|lazy\s+constraints|user\s+cuts)$/i;
const NAME_CHARS = /[A-Za-z0-9_!"#$%&()/,.;?@`'{}|~^]/;

function toNumber(value: number): number {
  if (value >= MPS_INFINITY) return Infinity;
  if (value <= -MPS_INFINITY) return -Infinity;
  return value;
}

/** Splits LP text into tokens; a section keyword is recognised only at the start of a line. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const lines = text.split(/\r?\n/);
  for (let l = 0; l < lines.length; l++) {
    const lineNo = l + 1;
    const line = lines[l].replace(/\\.*$/, '');
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const at = `line ${lineNo}`;
    if (REFUSED.test(trimmed) || /^(sos[12]?|semi-continuous)\b/i.test(trimmed)) {
      throw new InputError(at, `section "${trimmed}" is not supported: edgeplan reads linear (MI)LPs only`);
    }
    const section = SECTION_WORDS.find(([re]) => re.test(trimmed));
    if (section !== undefined) {
      tokens.push({ kind: 'section', text: section[1], line: lineNo });
      continue;
    }
    if (trimmed.includes('[')) throw new InputError(at, 'quadratic terms ([ … ]) are not supported');
    if (trimmed.includes('->')) throw new InputError(at, 'indicator constraints (->) are not supported');
    let i = 0;
    while (i < line.length) {
      const c = line[i];
      if (/\s/.test(c)) {
        i++;
        continue;
      }
      const two = line.slice(i, i + 2);
      if (two === '<=' || two === '=<') {
        tokens.push({ kind: 'op', text: '<=', line: lineNo });
        i += 2;
      } else if (two === '>=' || two === '=>') {
        tokens.push({ kind: 'op', text: '>=', line: lineNo });
        i += 2;
      } else if (c === '<' || c === '>' || c === '=') {
        tokens.push({ kind: 'op', text: c === '<' ? '<=' : c === '>' ? '>=' : '=', line: lineNo });
        i++;
      } else if (c === '+' || c === '-') {
        tokens.push({ kind: 'sign', text: c, line: lineNo });
        i++;
      } else if (c === ':') {
        tokens.push({ kind: 'colon', line: lineNo });
        i++;
      } else if (/[0-9.]/.test(c)) {
        const match = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(line.slice(i));
        if (match === null) throw new InputError(at, `cannot read a number at "${line.slice(i, i + 12)}"`);
        tokens.push({ kind: 'number', value: Number(match[0]), line: lineNo });
        i += match[0].length;
      } else if (NAME_CHARS.test(c)) {
        let j = i;
        while (j < line.length && (NAME_CHARS.test(line[j]) || /[0-9.]/.test(line[j]))) j++;
        const word = line.slice(i, j);
        if (/^(inf|infinity)$/i.test(word)) tokens.push({ kind: 'number', value: Infinity, line: lineNo });
        else tokens.push({ kind: 'name', text: word, line: lineNo });
        i = j;
      } else {
        throw new InputError(at, `unexpected character "${c}"`);
      }
    }
  }
  return tokens;
}

/** Reads CPLEX LP text (see the file comment). */
export function readLp(text: string): ReadModel {
  const tokens = tokenize(text);
  const notes: string[] = [];
  const columns = new Map<string, number>();
  const variables: { name: string; lower: number; upper: number; lowerSet: boolean; kind: Variable['type'] }[] = [];
  const column = (name: string): number => {
    let j = columns.get(name);
    if (j === undefined) {
      j = variables.length;
      columns.set(name, j);
      variables.push({ name, lower: 0, upper: Infinity, lowerSet: false, kind: 'continuous' });
    }
    return j;
  };
  let sense: Sense | null = null;
  let objective: Term[] = [];
  let objectiveConstant = 0;
  const constraints: { name: string; terms: Term[]; lower: number; upper: number }[] = [];
  let p = 0;
  const peek = (offset = 0): Token | undefined => tokens[p + offset];
  const where = (t: Token | undefined): string => `line ${t?.line ?? 'end'}`;

  /** A linear expression up to an operator, a section or (in the objective) the end; constants summed apart. */
  const expression = (stopAtName: boolean): { terms: Term[]; constant: number } => {
    const terms: Term[] = [];
    let constant = 0;
    let first = true;
    for (;;) {
      const t = peek();
      if (t === undefined || t.kind === 'section' || t.kind === 'op') break;
      let sign = 1;
      let sawSign = false;
      while (peek()?.kind === 'sign') {
        const s = peek() as Token & { kind: 'sign' };
        if (s.text === '-') sign = -sign;
        sawSign = true;
        p++;
      }
      // A new row starts with `name:`; an expression continues only after a sign (or at its very start).
      const next = peek();
      if (next === undefined) throw new InputError(where(t), 'expression ends after a sign');
      if (!first && !sawSign) {
        if (stopAtName) break;
        throw new InputError(where(next), 'expected + or - between terms');
      }
      if (next.kind === 'number') {
        p++;
        const after = peek();
        if (after?.kind === 'name' && peek(1)?.kind !== 'colon') {
          p++;
          terms.push({ variable: column(after.text), coefficient: sign * next.value });
        } else constant += sign * next.value;
      } else if (next.kind === 'name') {
        if (peek(1)?.kind === 'colon') break;
        p++;
        terms.push({ variable: column(next.text), coefficient: sign });
      } else throw new InputError(where(next), 'expected a number or a variable name');
      first = false;
    }
    return { terms, constant };
  };

  const rowName = (): string | null => {
    const t = peek();
    if (t?.kind === 'name' && peek(1)?.kind === 'colon') {
      p += 2;
      return t.text;
    }
    return null;
  };

  const signedNumber = (): number => {
    let sign = 1;
    while (peek()?.kind === 'sign') {
      if ((peek() as Token & { kind: 'sign' }).text === '-') sign = -sign;
      p++;
    }
    const t = peek();
    if (t?.kind !== 'number') throw new InputError(where(t), 'expected a number');
    p++;
    return toNumber(sign * t.value);
  };

  let section = '';
  while (p < tokens.length) {
    const t = tokens[p];
    if (t.kind === 'section') {
      p++;
      section = t.text;
      if (section === 'MIN' || section === 'MAX') {
        if (sense !== null) throw new InputError(where(t), 'a second objective section');
        sense = section === 'MIN' ? 'min' : 'max';
        rowName();
        const e = expression(false);
        objective = e.terms;
        objectiveConstant = e.constant;
      }
      if (section === 'END') break;
      continue;
    }
    switch (section) {
      case 'ST': {
        const name = rowName() ?? `R${constraints.length + 1}`;
        // A range row: `lo <= expr <= hi`, the left side a lone number.
        if (isLoneNumberThenOp()) {
          const lo = signedNumber();
          const op1 = expectOp();
          const e = expression(true);
          const op2 = expectOp();
          const hi = signedNumber();
          if (op1 !== op2 || op1 === '=') throw new InputError(where(t), `row ${name}: a range is lo <= expr <= hi`);
          const [lower, upper] = op1 === '<=' ? [lo, hi] : [hi, lo];
          constraints.push({ name, terms: e.terms, lower: lower - e.constant, upper: upper - e.constant });
          break;
        }
        const e = expression(true);
        const op = expectOp();
        const rhs = signedNumber() - e.constant;
        constraints.push({
          name,
          terms: e.terms,
          lower: op === '<=' ? -Infinity : rhs,
          upper: op === '>=' ? Infinity : rhs,
        });
        break;
      }
      case 'BOUNDS':
        readBound();
        break;
      case 'GENERAL':
      case 'BINARY': {
        if (t.kind !== 'name') throw new InputError(where(t), `expected a variable name in ${section.toLowerCase()}`);
        p++;
        const v = variables[column(t.text)];
        if (section === 'BINARY') {
          v.kind = 'binary';
          v.lower = Math.max(v.lower, 0);
          v.upper = Math.min(v.upper, 1);
        } else if (v.kind === 'continuous') v.kind = 'integer';
        break;
      }
      default:
        throw new InputError(where(t), 'text before the objective section (Minimize or Maximize)');
    }
  }

  function isLoneNumberThenOp(): boolean {
    let k = 0;
    while (peek(k)?.kind === 'sign') k++;
    return peek(k)?.kind === 'number' && peek(k + 1)?.kind === 'op';
  }

  function expectOp(): '<=' | '>=' | '=' {
    const t = peek();
    if (t?.kind !== 'op') throw new InputError(where(t), 'expected <=, >= or =');
    p++;
    return t.text;
  }

  function readBound(): void {
    const t = peek() as Token;
    // `x free`, `x >= l`, `x <= u`, `x = v`, `l <= x`, `l <= x <= u`, `-inf <= x <= u`.
    if (t.kind === 'name') {
      p++;
      const v = variables[column(t.text)];
      const word = peek();
      if (word?.kind === 'name' && /^free$/i.test(word.text)) {
        p++;
        v.lower = -Infinity;
        v.upper = Infinity;
        v.lowerSet = true;
        return;
      }
      const op = expectOp();
      setBound(v, op, signedNumber(), t.line);
      return;
    }
    const value = signedNumber();
    const op = expectOp();
    const name = peek();
    if (name?.kind !== 'name') throw new InputError(where(name), 'expected a variable name in bounds');
    p++;
    const v = variables[column(name.text)];
    setBound(v, op === '<=' ? '>=' : op === '>=' ? '<=' : '=', value, name.line);
    if (peek()?.kind === 'op') {
      const op2 = expectOp();
      setBound(v, op2, signedNumber(), name.line);
    }
  }

  function setBound(v: (typeof variables)[number], op: '<=' | '>=' | '=', value: number, line: number): void {
    if (op === '>=' || op === '=') {
      v.lower = value;
      v.lowerSet = true;
    }
    if (op === '<=' || op === '=') {
      v.upper = value;
      if (op === '<=' && value < 0 && v.lower === 0 && !v.lowerSet) {
        v.lower = -Infinity;
        notes.push(`line ${line}: negative upper bound on ${v.name} with no lower bound; lower bound set to −∞`);
      }
    }
  }

  if (sense === null) throw new InputError('line 1', 'no objective section (Minimize or Maximize)');
  const model: Model = {
    name: 'lp',
    sense,
    variables: variables.map((v) => ({ name: v.name, type: v.kind, lower: v.lower, upper: v.upper })),
    constraints: constraints.map((c) => ({ ...c, terms: mergeTerms(c.terms) })),
    objective: mergeTerms(objective),
    objectiveConstant,
  };
  return { model, notes };
}
