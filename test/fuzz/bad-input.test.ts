/**
 * The project-wide bad-input guarantee (ARCHITECTURE.md, "Testing is the proof"), fuzzed over every
 * registered kind: each valid example in problems/<kind>/ is mutated at one JSON location (or a
 * few), and the mutant must either parse — then solve to a report — or fail with one InputError
 * that names a real JSON path and states the rule in words. Anything else escaping (TypeError,
 * RangeError, …) is a bug, and the failure message prints the mutation and the mutant.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

// CI must be reproducible: a fixed seed by default. EDGEPLAN_FUZZ_SEED=random explores (and prints the seed of any
// failure, to be pinned as a regression); any other value replays that seed.
const fuzzSeed = process.env.EDGEPLAN_FUZZ_SEED;
if (fuzzSeed !== 'random') fc.configureGlobal({ seed: fuzzSeed !== undefined ? Number(fuzzSeed) : 20261202 });
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, listKinds, parseProblem, solve, TERMINATIONS, type ParsedProblem } from '../../src/api.ts';
import { main } from '../../src/cli/main.ts';
import {
  allMutations,
  allowedWords,
  allPaths,
  applyMutation,
  describeMutation,
  EXTRA_KEY,
  inputErrorProblems,
  mutatedPath,
  mutationsAt,
  parseJsonPath,
  relation,
  REPLACEMENTS,
  type Mutation,
  type Path,
} from './mutate.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'edgeplan-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Example {
  readonly kind: string;
  readonly file: string;
  readonly bytes: number;
  readonly doc: unknown;
  readonly paths: readonly Path[];
}

function examplesOf(kind: string): Example[] {
  const dir = join(root, 'problems', kind);
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
  return names.map((file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const doc: unknown = JSON.parse(text);
    return { kind, file, bytes: text.length, doc, paths: allPaths(doc) };
  });
}

/**
 * Findings reported to the families' owners and not yet fixed, left out of the fuzz so that the
 * rest of it guards what already works. Remove an entry once its fix lands: the fuzz then covers it.
 */
interface OpenFinding {
  readonly kind: string;
  readonly what: string;
  /** Mutations not generated (they crash or hang the process, so they cannot be caught here). */
  readonly skipMutation?: (m: Mutation) => boolean;
  /** InputErrors whose wording is known to be poor (the path is still checked). */
  readonly toleratedRule?: (e: InputError) => boolean;
  /** Solve outcomes known to be wrong for these mutations (parse is still checked). */
  readonly skipSolve?: (m: Mutation) => boolean;
}

const setTo = (m: Mutation, pattern: RegExp, ...values: (keyof typeof REPLACEMENTS)[]): boolean =>
  m.op === 'set' && values.includes(m.value) && pattern.test(pathText(m.path));
const pathText = (p: Path): string => p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');

const OPEN_FINDINGS: readonly OpenFinding[] = [];

const findingsOf = (kind: string): readonly OpenFinding[] => OPEN_FINDINGS.filter((f) => f.kind === kind);

/** The mutant as JSON for a failure message (NaN and ±Infinity spelled out; long documents cut). */
function show(mutant: unknown): string {
  const text = JSON.stringify(mutant, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? `<${v}>` : v,
  );
  return text.length > 1500 ? `${text.slice(0, 1500)}… (${text.length} chars)` : text;
}

class FuzzFailure extends Error {
  constructor(ex: Example, m: readonly Mutation[], mutant: unknown, why: string) {
    super(`${ex.kind} ${ex.file}, ${m.map(describeMutation).join(' then ')}: ${why}\n  mutant: ${show(mutant)}`);
  }
}

/** A mutated example, printed by fast-check as its file and mutation only. */
interface Mutant {
  readonly ex: Example;
  readonly m: Mutation;
  readonly mutant: unknown;
}

/** A single mutation from three integers (shrinking moves toward the first example, path and mutation). */
function mutationArbitrary(examples: readonly Example[], skip: (m: Mutation) => boolean): fc.Arbitrary<Mutant> {
  return fc
    .tuple(fc.nat(), fc.nat(), fc.nat())
    .map(([a, b, c]) => {
      const ex = examples[a % examples.length];
      const ms = mutationsAt(ex.doc, ex.paths[b % ex.paths.length]);
      return ms[c % ms.length] === undefined ? null : { ex, m: ms[c % ms.length] };
    })
    .filter((x): x is { ex: Example; m: Mutation } => x !== null && !skip(x.m))
    .map(({ ex, m }) => ({
      ex,
      m,
      mutant: applyMutation(ex.doc, m),
      [fc.toStringMethod]: () => `${ex.file}: ${describeMutation(m)}`,
    }));
}

/**
 * Parses a mutant. Returns the parsed problem or the InputError; throws a FuzzFailure for anything
 * else escaping, or for an InputError whose path or rule does not hold up.
 */
function checkParse(ex: Example, ms: readonly Mutation[], mutant: unknown): ParsedProblem | InputError {
  try {
    return parseProblem(mutant);
  } catch (error) {
    if (!(error instanceof InputError)) {
      const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new FuzzFailure(ex, ms, mutant, `threw ${name} (not an InputError)`);
    }
    const tolerated = findingsOf(ex.kind).some((f) => f.toleratedRule?.(error) === true);
    const problems = inputErrorProblems(error, mutant, ms.flatMap(allowedWords)).filter(
      (p) => !(tolerated && p.startsWith('rule')),
    );
    if (ms.length === 1) problems.push(...placementProblems(error, ms[0]));
    if (problems.length > 0)
      throw new FuzzFailure(
        ex,
        ms,
        mutant,
        `InputError ${error.path}: ${JSON.stringify(error.rule)} — ${problems.join('; ')}`,
      );
    return error;
  }
}

/** Where a one-mutation error must point, for the mutations whose culprit is unambiguous. */
function placementProblems(error: InputError, m: Mutation): string[] {
  const keys = parseJsonPath(error.path);
  if (keys === null) return [];
  const rel = relation(keys, mutatedPath(m));
  if (m.op === 'extra') {
    // The added field itself, or its object with the field named in the rule.
    const ok = rel === 'at' || (rel === 'above' && keys.length === m.path.length && error.rule.includes(EXTRA_KEY));
    return ok ? [] : [`an unknown field must be named at ${pathText(mutatedPath(m))} or under its object naming it`];
  }
  if (m.op === 'set' && (m.value === 'nan' || m.value === 'infinity' || m.value === 'minus-infinity')) {
    // A non-finite number fails the schema where it stands (or at the union holding it), never a cross-check elsewhere.
    return rel === 'at' || rel === 'above' ? [] : [`a non-finite number must be reported at or above where it was put`];
  }
  return [];
}

const RUNTIME_ERROR =
  /Cannot read propert|Cannot set propert|is not a function|is not iterable|is not defined|Invalid array length|Maximum call stack|out of memory|\bundefined\b|\[object \w+\]/;

async function checkSolve(ex: Example, m: Mutation, mutant: unknown, parsed: ParsedProblem): Promise<void> {
  let report;
  try {
    report = await solve(parsed, { timeLimitSeconds: 1 });
  } catch (error) {
    if (error instanceof InputError) return; // a rule only the solve can check, reported as bad input: fine
    const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new FuzzFailure(ex, [m], mutant, `solve threw ${name}`);
  }
  const fail = (why: string): never => {
    throw new FuzzFailure(ex, [m], mutant, `solve: ${why}; attempts ${JSON.stringify(report.attempts)}`);
  };
  if (report.kind !== ex.kind) fail(`report kind ${report.kind}`);
  if (!TERMINATIONS.includes(report.termination)) fail(`termination ${String(report.termination)}`);
  // Every method failing on a problem that passed its schema means the schema let bad input through.
  if (report.termination === 'error') fail('every method ended in error on an input the schema accepted');
  for (const a of report.attempts)
    if (a.termination === 'error' && RUNTIME_ERROR.test(a.message ?? '')) fail(`${a.method} crashed: ${a.message}`);
  for (const text of [report.summary, report.explanation])
    if (text !== undefined && /(describe|explainInfeasible) failed:/.test(text)) fail(text);
  if (report.solution !== null && !Number.isFinite(report.solution.objective))
    fail(`objective ${report.solution.objective}`);
}

const kinds = listKinds();

describe.each(kinds)('fuzzed bad input: %s', (kind) => {
  const examples = examplesOf(kind);
  const findings = findingsOf(kind);
  const skip = (m: Mutation): boolean => findings.some((f) => f.skipMutation?.(m) === true);

  it('has example problems to mutate', () => {
    expect(examples.length).toBeGreaterThan(0);
  });
  if (examples.length === 0) return;
  // Big examples (100 kB) parse in tens of milliseconds; they are mutated, less often than small ones.
  const small = examples.filter((e) => e.bytes <= 12_000);
  const pool = small.length > 0 ? small : examples;

  it('one mutation: parses, or one InputError naming a real path and the rule', () => {
    fc.assert(
      fc.property(mutationArbitrary(pool, skip), ({ ex, m, mutant }) => {
        checkParse(ex, [m], mutant);
      }),
      { numRuns: 150 },
    );
    const big = examples.filter((e) => !pool.includes(e));
    if (big.length > 0) {
      fc.assert(
        fc.property(mutationArbitrary(big, skip), ({ ex, m, mutant }) => {
          checkParse(ex, [m], mutant);
        }),
        { numRuns: 10 },
      );
    }
  });

  it('stacked mutations never crash the parser', () => {
    const stacked = fc.tuple(fc.nat(), fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 2, maxLength: 4 }));
    fc.assert(
      fc.property(stacked, ([a, steps]) => {
        const ex = pool[a % pool.length];
        let doc = ex.doc;
        const ms: Mutation[] = [];
        for (const [b, c] of steps) {
          const paths = allPaths(doc);
          const options = mutationsAt(doc, paths[b % paths.length]);
          if (options.length === 0) continue;
          const m = options[c % options.length];
          if (skip(m)) continue;
          doc = applyMutation(doc, m);
          ms.push(m);
        }
        checkParse(ex, ms, doc);
      }),
      { numRuns: 60 },
    );
  });

  it('a mutant that parses solves to a report', async () => {
    // The smallest example keeps solves short; its mutants that parse are listed once.
    const ex = [...pool].sort((x, y) => x.bytes - y.bytes)[0];
    const valid: { m: Mutation; mutant: unknown; parsed: ParsedProblem }[] = [];
    for (const m of allMutations(ex.doc)) {
      if (skip(m) || findings.some((f) => f.skipSolve?.(m) === true)) continue;
      const mutant = applyMutation(ex.doc, m);
      const outcome = checkParse(ex, [m], mutant);
      if (!(outcome instanceof InputError)) valid.push({ m, mutant, parsed: outcome });
    }
    expect(valid.length).toBeGreaterThan(0);
    await fc.assert(
      fc.asyncProperty(fc.nat(valid.length - 1), async (i) => {
        await checkSolve(ex, valid[i].m, valid[i].mutant, valid[i].parsed);
      }),
      { numRuns: 6 },
    );
  });

  it('through the CLI: exit 2, one line "edgeplan: $…: rule (in file)", no stack trace', async () => {
    // JSON cannot carry NaN or ±Infinity, so only mutants that survive JSON text are written out.
    const jsonSafe = (m: Mutation): boolean =>
      !(m.op === 'set' && (m.value === 'nan' || m.value === 'infinity' || m.value === 'minus-infinity'));
    const rejected = mutationArbitrary(pool, (m) => skip(m) || !jsonSafe(m))
      .map((x) => ({ ...x, outcome: checkParse(x.ex, [x.m], x.mutant) }))
      .filter((x): x is Mutant & { outcome: InputError } => x.outcome instanceof InputError);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(rejected, async ({ ex, m, mutant, outcome }) => {
        const file = join(tmp, `${kind}-${n++}.json`);
        writeFileSync(file, JSON.stringify(mutant, null, 1));
        const result = await runCli(['solve', file]);
        const where = `${kind} ${ex.file}, ${describeMutation(m)}`;
        expect(result.code, where).toBe(2);
        expect(result.stdout, where).toBe('');
        expect(
          result.stderr.split('\n').filter((l) => l !== ''),
          where,
        ).toEqual([`edgeplan: ${outcome.path}: ${oneLine(outcome.rule)} (in ${file})`]);
      }),
      { numRuns: 4 },
    );
    // A file cut short is malformed JSON: one line at `$`, whatever the cut.
    const text = readFileSync(join(root, 'problems', kind, pool[0].file), 'utf8');
    await fc.assert(
      fc.asyncProperty(fc.nat(text.lastIndexOf('}') - 1), async (cut) => {
        const file = join(tmp, `${kind}-cut-${cut}.json`);
        writeFileSync(file, text.slice(0, cut));
        const result = await runCli(['solve', file]);
        expect(result.code).toBe(2);
        const lines = result.stderr.split('\n').filter((l) => l !== '');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^edgeplan: \$: invalid JSON/);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }),
      { numRuns: 3 },
    );
  });
});

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    cwd: root,
    env: {},
  });
  return { code, stdout, stderr };
}
