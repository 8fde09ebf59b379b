/**
 * Mutations of a valid problem document for the bad-input fuzzer: one structural change at one
 * JSON location (delete it, replace it, add an unknown field next to it, empty an array), and the
 * checks every resulting InputError must pass (a real JSON path, a rule a person can act on).
 */
import { InputError } from '../../src/errors.ts';
import { jsonPath } from '../../src/errors.ts';

export type Key = string | number;
export type Path = readonly Key[];

/** Replacement values; NaN and ±Infinity can only reach parseProblem through the library API. */
export const REPLACEMENTS = {
  'minus-one': -1,
  zero: 0,
  nan: Number.NaN,
  infinity: Number.POSITIVE_INFINITY,
  'minus-infinity': Number.NEGATIVE_INFINITY,
  huge: 1e308,
  'minus-huge': -1e308,
  /** Finite but absurd as a count or size: must be refused, or solved without allocating per unit. */
  billion: 1e9,
  string: 'fuzz',
  'empty-string': '',
  null: null,
  true: true,
  'empty-array': [],
  'empty-object': {},
} as const;

export type ReplacementName = keyof typeof REPLACEMENTS;

export type Mutation =
  | { readonly op: 'delete'; readonly path: Path }
  | { readonly op: 'set'; readonly path: Path; readonly value: ReplacementName }
  /** A number made fractional (n + 0.5), where a whole number is often expected. */
  | { readonly op: 'fraction'; readonly path: Path }
  | { readonly op: 'extra'; readonly path: Path }
  | { readonly op: 'truncate'; readonly path: Path };

/** The unknown field `extra` adds; a name no family uses. */
export const EXTRA_KEY = 'fuzzUnknownField';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every location in a document, root first (depth-first, in key order). */
export function allPaths(doc: unknown): Path[] {
  const out: Path[] = [];
  const walk = (node: unknown, path: Key[]): void => {
    out.push(path);
    if (Array.isArray(node)) node.forEach((child, i) => walk(child, [...path, i]));
    else if (isObject(node)) for (const [k, child] of Object.entries(node)) walk(child, [...path, k]);
  };
  walk(doc, []);
  return out;
}

export function valueAt(doc: unknown, path: Path): unknown {
  let node: unknown = doc;
  for (const key of path) {
    if (Array.isArray(node) && typeof key === 'number') node = node[key];
    else if (isObject(node) && typeof key === 'string' && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

/** The mutations that apply at one location of `doc`. */
export function mutationsAt(doc: unknown, path: Path): Mutation[] {
  const out: Mutation[] = [];
  const value = valueAt(doc, path);
  if (path.length > 0) {
    out.push({ op: 'delete', path });
    for (const name of Object.keys(REPLACEMENTS) as ReplacementName[]) out.push({ op: 'set', path, value: name });
  }
  if (typeof value === 'number') out.push({ op: 'fraction', path });
  if (isObject(value)) out.push({ op: 'extra', path });
  if (Array.isArray(value) && value.length > 0) out.push({ op: 'truncate', path });
  return out;
}

/** Every mutation that applies to `doc` (delete and set everywhere below the root, and so on). */
export function allMutations(doc: unknown): Mutation[] {
  return allPaths(doc).flatMap((path) => mutationsAt(doc, path));
}

/** A deep copy of `doc` with the mutation applied (the original is untouched). */
export function applyMutation(doc: unknown, m: Mutation): unknown {
  const copy = structuredClone(doc) as Json;
  if (m.path.length === 0) {
    if (m.op === 'extra' && isObject(copy)) return { ...copy, [EXTRA_KEY]: 1 };
    throw new Error(`mutation ${describeMutation(m)} does not apply to the root`);
  }
  const parent = valueAt(copy, m.path.slice(0, -1));
  const key = m.path[m.path.length - 1];
  const current = valueAt(copy, m.path);
  const put = (value: unknown): void => {
    if (Array.isArray(parent) && typeof key === 'number') parent[key] = value as Json;
    else if (isObject(parent) && typeof key === 'string') parent[key] = value;
    else throw new Error(`no location ${jsonPath(m.path)}`);
  };
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else if (isObject(parent) && typeof key === 'string') delete parent[key];
      break;
    case 'set':
      put(structuredClone(REPLACEMENTS[m.value]));
      break;
    case 'fraction':
      put(typeof current === 'number' ? current + 0.5 : 0.5);
      break;
    case 'extra':
      if (isObject(current)) current[EXTRA_KEY] = 1;
      break;
    case 'truncate':
      if (Array.isArray(current)) current.length = 0;
      break;
  }
  return copy;
}

/** The location the mutation changed: for `extra`, the added field itself. */
export function mutatedPath(m: Mutation): Path {
  return m.op === 'extra' ? [...m.path, EXTRA_KEY] : m.path;
}

export function describeMutation(m: Mutation): string {
  const where = jsonPath(m.path);
  switch (m.op) {
    case 'delete':
      return `delete ${where}`;
    case 'set':
      return `set ${where} = ${m.value}`;
    case 'fraction':
      return `${where} += 0.5`;
    case 'extra':
      return `add ${jsonPath(mutatedPath(m))}`;
    case 'truncate':
      return `${where} = [] (truncated)`;
  }
}

/** `$.a.b[2]["x y"]` back to keys (the inverse of jsonPath); null when it is not a JSON path. */
export function parseJsonPath(path: string): Key[] | null {
  if (!path.startsWith('$')) return null;
  const keys: Key[] = [];
  const re = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let at = 1;
  while (at < path.length) {
    re.lastIndex = at;
    const m = re.exec(path);
    if (m === null) return null;
    if (m[1] !== undefined) keys.push(m[1]);
    else if (m[2] !== undefined) keys.push(Number(m[2]));
    else keys.push(JSON.parse(m[3]) as string);
    at = re.lastIndex;
  }
  return keys;
}

const isPrefix = (a: readonly Key[], b: readonly Key[]): boolean =>
  a.length <= b.length && a.every((k, i) => k === b[i]);

/** How the error's path relates to the mutated location. */
export type Relation = 'at' | 'above' | 'below' | 'elsewhere';

export function relation(errorKeys: readonly Key[], mutated: Path): Relation {
  if (errorKeys.length === mutated.length && isPrefix(errorKeys, mutated)) return 'at';
  if (isPrefix(errorKeys, mutated)) return 'above';
  if (isPrefix(mutated, errorKeys)) return 'below';
  return 'elsewhere';
}

/**
 * What is wrong with an InputError raised for `mutant`, or null when nothing is: the path must be
 * a JSON path to a location in the mutant (or a missing field of an object that is there), and the
 * rule a sentence without rendering artefacts. `allowed` lists words the injected value itself
 * justifies (an injected NaN may be named "NaN").
 */
export function inputErrorProblems(error: InputError, mutant: unknown, allowed: readonly string[] = []): string[] {
  const problems: string[] = [];
  const keys = parseJsonPath(error.path);
  if (keys === null) problems.push(`path ${JSON.stringify(error.path)} is not a JSON path starting with $`);
  else if (keys.length > 0) {
    const parent = valueAt(mutant, keys.slice(0, -1));
    const last = keys[keys.length - 1];
    const exists = valueAt(mutant, keys) !== undefined;
    // A missing field is named under the object that lacks it; an index past the end of an
    // array (a list that is too short) is named too, but only under an array that is there.
    const missingUnder =
      (isObject(parent) && typeof last === 'string') || (Array.isArray(parent) && typeof last === 'number');
    if (!exists && !missingUnder) problems.push(`path ${error.path} names no location in the input`);
  }
  const rule = error.rule;
  if (typeof rule !== 'string' || rule.trim().length < 3) problems.push(`rule ${JSON.stringify(rule)} is empty`);
  else {
    // [pattern, the word an injected value may justify, what it is]
    const artefacts: [RegExp, string, string][] = [
      [/\[object \w+\]/, '', 'an [object …] rendering'],
      [/\bundefined\b/, '', '"undefined"'],
      [/\bNaN\b/, 'NaN', '"NaN"'],
      [/\bnull\b/, 'null', '"null"'],
      [/^Invalid input\.?$/i, '', "zod's bare 'Invalid input'"],
    ];
    for (const [re, word, what] of artefacts) {
      if (re.test(rule) && !(word !== '' && allowed.includes(word)))
        problems.push(`rule contains ${what}: ${JSON.stringify(rule)}`);
    }
    if (/\n/.test(rule)) problems.push(`rule spans several lines: ${JSON.stringify(rule)}`);
    if (/\bat \S+ \(?\S+:\d+:\d+\)?/.test(rule)) problems.push('rule carries a stack trace');
  }
  return problems;
}

/** Words in a rule that the injected value explains (the value itself, printed). */
export function allowedWords(m: Mutation): string[] {
  if (m.op !== 'set') return [];
  const v = REPLACEMENTS[m.value];
  if (typeof v === 'number' && Number.isNaN(v)) return ['NaN'];
  if (v === null) return ['null'];
  return [];
}

export function isInputError(error: unknown): error is InputError {
  return error instanceof InputError;
}
