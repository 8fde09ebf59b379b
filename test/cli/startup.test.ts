/**
 * Fast start (issue 18): light commands must not load heavy modules. Every module Node resolves is recorded by a
 * resolve hook (trace-imports.mjs) in a spawned `bin/edgeplan.js` (dist/ when it is fresh, else the sources through
 * tsx), and the list is checked. What is loaded is deterministic where a start-up time is not, so there is no timing
 * assertion here; the measured times are in docs/cli.md ("Start-up") and come from hyperfine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { listKinds } from '../../src/api-kinds.ts';
import { runCli } from '../support/cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'edgeplan-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let traces = 0;
/** The URLs of every module `edgeplan ...argv` resolved, and its exit status. */
function loadedBy(argv: readonly string[]): { urls: string[]; status: number | null; stderr: string } {
  const file = join(dir, `trace-${traces++}.txt`);
  const hook = new URL('./trace-imports.mjs', import.meta.url).href;
  const result = spawnSync(process.execPath, ['--import', hook, join(root, 'bin/edgeplan.js'), ...argv], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, EDGEPLAN_TRACE_FILE: file, EDGEPLAN_PROGRESS: '0' },
    timeout: 120_000,
  });
  let urls: string[] = [];
  try {
    urls = [...new Set(readFileSync(file, 'utf8').split('\n').filter((l) => l !== ''))];
  } catch {
    // No module resolved at all: the list stays empty and the caller's assertions say what was missing.
  }
  return { urls, status: result.status, stderr: result.stderr };
}

/** Packages that only pictures, the batch pool, the bench or a solver backend need. */
const HEAVY_PACKAGES = ['vega', 'vega-lite', 'piscina', 'highs', 'glpk.js', 'javascript-lp-solver', 'ml-matrix'];
const packageOf = (url: string): string | null => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? null;
/** The family folders (src|dist)/formulations/<kind>/ that were loaded. */
const kindsLoaded = (urls: readonly string[]): string[] =>
  [
    ...new Set(
      urls
        .filter((u) => !u.includes('/node_modules/'))
        .map((u) => /\/(?:src|dist)\/formulations\/([^/]+)\//.exec(u)?.[1])
        .filter((k): k is string => k !== undefined),
    ),
  ].sort();

describe('start-up: what light commands load', () => {
  it('the trace hook works (a solve loads HiGHS and the milp family)', () => {
    const run = loadedBy(['solve', 'problems/milp/knapsack.json', '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const packages = new Set(run.urls.map(packageOf));
    expect(packages.has('highs')).toBe(true);
    expect(packages.has('commander')).toBe(true);
    expect(kindsLoaded(run.urls)).toEqual(['milp']);
    // A solve draws nothing, runs no batch and no other backend.
    for (const heavy of ['vega', 'vega-lite', 'piscina', 'glpk.js', 'javascript-lp-solver']) {
      expect(packages.has(heavy), heavy).toBe(false);
    }
  });

  it('--version loads nothing but the launcher', () => {
    const run = loadedBy(['--version']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.urls.filter((u) => !u.startsWith('node:') && !u.endsWith('/bin/edgeplan.js'))).toEqual([]);
  });

  it('kinds loads no family, no solver, no zod and no drawing', () => {
    const run = loadedBy(['kinds']);
    expect(run.status, run.stderr).toBe(0);
    expect(kindsLoaded(run.urls)).toEqual([]);
    const packages = new Set(run.urls.map(packageOf));
    for (const heavy of [...HEAVY_PACKAGES, 'zod']) expect(packages.has(heavy), heavy).toBe(false);
    // Only the launcher, the CLI's entry, the kinds command and the registry's small modules.
    expect(run.urls.filter((u) => /\/(?:src|dist)\//.test(u) && !u.includes('/node_modules/')).length).toBeLessThan(15);
  });

  it('the schema of one kind loads that family only', () => {
    const run = loadedBy(['schema', 'model-caching']);
    expect(run.status, run.stderr).toBe(0);
    expect(kindsLoaded(run.urls)).toEqual(['model-caching']);
  });
});

describe('the lazy command table', () => {
  it('runs each command by its name (every entry loads the command it names)', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    const names = [...help.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((n) => n !== 'help');
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) {
      const run = await runCli([name, '--help']);
      expect(run.code, name).toBe(0);
      expect(run.stdout, name).toContain(`Usage: edgeplan ${name}`);
    }
  });

  it('plain kinds lists every kind with its title; --long adds methods and baselines', async () => {
    const plain = await runCli(['kinds']);
    expect(plain.code).toBe(0);
    for (const kind of listKinds()) expect(plain.stdout).toMatch(new RegExp(`^${kind} `, 'm'));
    const long = await runCli(['kinds', '--long']);
    expect(long.stdout).toMatch(/^milp +milp +raw mixed-integer linear program +greedy-repair$/m);
  });

  it('an unknown or mistyped command is still a one-line usage error with a suggestion', async () => {
    const run = await runCli(['slove', 'x.json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^edgeplan: unknown command 'slove'.*solve/);
  });
});
