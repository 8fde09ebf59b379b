#!/usr/bin/env node
// The packed-tarball test (issue 18): what a downstream project sees after `npm install edgeplan`.
//
//   1. `npm pack` the package (dist/ built by `npm ci` through prepare; rebuilt here when missing or stale) and check
//      the tarball's contents: dist/ with .js, .d.ts and .js.map, datasets/, docs/, problems/, bin/edgeplan.js, and
//      no tests, no TypeScript sources, no tsconfig.
//   2. Install the tarball into a fresh temporary project (dependencies from npm's cache when present).
//   3. Run a plain .mjs consumer with node (no loader): solve a knapsack and a pipeline-placement example from the
//      packaged problems/, and the installed `edgeplan` command.
//   4. Type-check and run a strict TypeScript consumer under moduleResolution node16 and bundler, with the default
//      skipLibCheck (false), so edgeplan's declarations themselves are checked. (Not exactOptionalPropertyTypes:
//      vega-lite's own declarations, reached through the bench tools' types, fail under it.)
//
// Run with `npm run test:package` (CI runs it after the unit tests). Exits non-zero on the first failure. It is a
// script, not a vitest file: installing a package takes tens of seconds, more than the unit suite's budget.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = mkdtempSync(join(tmpdir(), 'edgeplan-consumer-'));
const keep = process.env.EDGEPLAN_KEEP_CONSUMER === '1';
let failures = 0;

function step(title) {
  process.stdout.write(`\n== ${title}\n`);
}
function ok(condition, message) {
  if (condition) process.stdout.write(`ok   ${message}\n`);
  else {
    failures++;
    process.stdout.write(`FAIL ${message}\n`);
  }
}
function run(command, args, options) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) {
    process.stdout.write(`$ ${command} ${args.join(' ')}\n${result.stdout}\n${result.stderr}\n`);
  }
  return result;
}

function distIsFresh() {
  let builtMs;
  try {
    builtMs = Number(readFileSync(join(root, 'dist', 'BUILD_STAMP'), 'utf8'));
  } catch {
    return false;
  }
  for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(join(entry.parentPath, entry.name)).mtimeMs > builtMs) return false;
  }
  return true;
}

try {
  step('pack');
  if (!distIsFresh()) execFileSync(process.execPath, [join(root, 'bin', 'build.mjs')], { stdio: 'inherit' });
  // --ignore-scripts: dist/ is fresh now; prepare would rebuild it for nothing.
  const packed = run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root });
  if (packed.status !== 0) throw new Error('npm pack failed');
  const [info] = JSON.parse(packed.stdout);
  const files = info.files.map((f) => f.path);
  const tarball = join(work, info.filename);
  process.stdout.write(`${info.filename}: ${files.length} files, ${(info.size / 1e6).toFixed(2)} MB packed\n`);
  ok(files.includes('dist/api.js') && files.includes('dist/api.d.ts'), 'dist/api.js and dist/api.d.ts are packed');
  ok(files.includes('dist/cli/main.js') && files.includes('dist/cli/main.js.map'), 'the CLI and its source map');
  ok(files.includes('bin/edgeplan.js'), 'bin/edgeplan.js is packed');
  for (const dir of ['datasets/', 'docs/', 'problems/']) {
    ok(
      files.some((f) => f.startsWith(dir)),
      `${dir} is packed`,
    );
  }
  const unwanted = files.filter((f) => /^(test|src|\.ci)\/|\.test\.|^tsconfig|^vitest|(?<!\.d)\.ts$/.test(f));
  ok(unwanted.length === 0, `no tests, sources or configs (${unwanted.slice(0, 5).join(', ') || 'none'})`);

  step('install into a temporary project');
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const install = run(
    npm,
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, '@types/node@20'],
    { cwd: project },
  );
  if (install.status !== 0) throw new Error('npm install of the tarball failed');
  ok(!statSync(join(project, 'node_modules', 'edgeplan')).isSymbolicLink(), 'installed as a copy, not a link');

  step('plain JavaScript (.mjs, no loader)');
  writeFileSync(
    join(project, 'consumer.mjs'),
    `import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { solve, listKinds, InputError, parseProblem } from 'edgeplan';

const pkg = dirname(createRequire(import.meta.url).resolve('edgeplan/package.json'));
const knapsack = JSON.parse(readFileSync(join(pkg, 'problems/milp/knapsack.json'), 'utf8'));
const report = await solve(knapsack, { backend: 'auto' });
const pipeline = JSON.parse(readFileSync(join(pkg, 'problems/pipeline-placement/edgeshard-llama-2-7b.json'), 'utf8'));
const plan = await solve(pipeline);
let badPath = null;
try { parseProblem({ kind: 'milp', variables: 3 }); } catch (e) { if (e instanceof InputError) badPath = e.path; }
console.log(JSON.stringify({ kinds: listKinds(), knapsack: [report.termination, report.solution?.objective],
  pipeline: [plan.termination, plan.solution?.objective], badPath }));
`,
  );
  const mjs = run(process.execPath, ['consumer.mjs'], { cwd: project });
  const out = mjs.status === 0 ? JSON.parse(mjs.stdout) : null;
  ok(
    out !== null && out.knapsack[0] === 'optimal' && out.knapsack[1] === 309,
    `knapsack optimal 309 (${mjs.stdout.trim()})`,
  );
  ok(out !== null && out.pipeline[0] === 'optimal', 'the EdgeShard pipeline example solves to optimal');
  ok(out !== null && out.kinds.includes('pipeline-placement'), 'listKinds() has pipeline-placement');
  ok(out !== null && /^\$\./.test(out.badPath ?? ''), `bad input throws InputError with a JSON path (${out?.badPath})`);

  step('the installed command');
  const bin = join(project, 'node_modules', '.bin', 'edgeplan');
  const version = run(bin, ['--version'], { cwd: project });
  ok(
    version.status === 0 && version.stdout.trim() === JSON.parse(readFileSync(join(root, 'package.json'))).version,
    `edgeplan --version prints ${version.stdout.trim()}`,
  );
  const kinds = run(bin, ['kinds', '--json'], { cwd: project });
  ok(kinds.status === 0 && JSON.parse(kinds.stdout).some((k) => k.kind === 'milp'), 'edgeplan kinds --json');
  const example = join(project, 'node_modules', 'edgeplan', 'problems', 'milp', 'knapsack.json');
  const solved = run(bin, ['solve', example, '--json'], { cwd: project });
  ok(solved.status === 0 && JSON.parse(solved.stdout).termination === 'optimal', 'edgeplan solve <packaged example>');
  const bad = run(bin, ['solve', join(project, 'package.json')], { cwd: project });
  ok(bad.status === 2 && bad.stderr.split('\n').filter(Boolean).length === 1, `bad input: exit 2, one line`);

  // Worker threads load their own entry from dist/ (no tsx in a consumer's install).
  const lines = `${JSON.stringify(JSON.parse(readFileSync(example, 'utf8')))}\n`.repeat(2);
  writeFileSync(join(project, 'in.jsonl'), lines);
  const batch = run(bin, ['batch', 'in.jsonl', '--out', 'out.jsonl', '--workers', '2'], { cwd: project });
  const records = batch.status === 0 ? readFileSync(join(project, 'out.jsonl'), 'utf8').trim().split('\n') : [];
  ok(
    records.length === 2 && records.every((r) => JSON.parse(r).termination === 'optimal'),
    'edgeplan batch (2 workers)',
  );
  const pipelineFile = join(
    project,
    'node_modules',
    'edgeplan',
    'problems',
    'pipeline-placement',
    'edgeshard-llama-2-7b.json',
  );
  const plan = run(bin, ['solve', pipelineFile, '--json', '--out', 'plan.json'], { cwd: project });
  const exported =
    plan.status === 0 ? run(bin, ['export', pipelineFile, 'plan.json', '--to', 'vllm'], { cwd: project }) : plan;
  ok(exported.status === 0 && /VLLM_PP_LAYER_PARTITION=\d/.test(exported.stdout), 'edgeplan export --to vllm');
  const mps = run(bin, ['model', example, '--format', 'mps'], { cwd: project });
  ok(mps.status === 0 && mps.stdout.includes('ENDATA'), 'edgeplan model --format mps');

  step('strict TypeScript consumer (skipLibCheck false)');
  writeFileSync(
    join(project, 'consumer.ts'),
    `import { solve, parseProblem, evaluate, type SolveReport, type Model, ModelBuilder } from 'edgeplan';

const raw = {
  kind: 'milp', sense: 'max',
  variables: [{ name: 'a', type: 'binary' }, { name: 'b', type: 'binary' }, { name: 'c', type: 'binary' }],
  constraints: [{ name: 'capacity', terms: { a: 2, b: 3, c: 4 }, upper: 5 }],
  objective: { a: 3, b: 4, c: 5 },
};
const problem = parseProblem(raw);
const report: SolveReport = await solve(problem, { backend: 'highs' });
const objective: number | undefined = report.solution?.objective;
const check = evaluate(problem, { values: { a: 1, b: 1, c: 0 } });
const model: Model = new ModelBuilder('tiny', 'min').build();
console.log(JSON.stringify({ termination: report.termination, objective, feasible: check.feasible,
  variables: model.variables.length }));
`,
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const resolution of ['node16', 'bundler']) {
    const module = resolution === 'node16' ? 'node16' : 'esnext';
    const outDir = join(project, `out-${resolution}`);
    const config = {
      compilerOptions: {
        target: 'ES2022',
        module,
        moduleResolution: resolution,
        strict: true,
        noUncheckedIndexedAccess: true,
        noImplicitOverride: true,
        outDir,
        types: ['node'],
      },
      files: ['consumer.ts'],
    };
    writeFileSync(join(project, `tsconfig.${resolution}.json`), JSON.stringify(config, null, 2));
    const typed = run(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], { cwd: project });
    ok(typed.status === 0, `tsc --strict, moduleResolution ${resolution}: no errors`);
    if (typed.status !== 0) continue;
    // The compiled consumer sits in out-*/; give it the project's package type and node_modules.
    writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
    const ran = run(process.execPath, [join(outDir, 'consumer.js')], { cwd: project });
    const result = ran.status === 0 ? JSON.parse(ran.stdout) : null;
    ok(
      result !== null && result.termination === 'optimal' && result.objective === 7 && result.feasible === true,
      `compiled consumer (${resolution}) runs: ${ran.stdout.trim()}`,
    );
  }
} catch (error) {
  failures++;
  process.stdout.write(`FAIL ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else process.stdout.write(`kept ${work}\n`);
}
process.stdout.write(
  failures === 0 ? '\npackage consumer test: all passed\n' : `\npackage consumer test: ${failures} failed\n`,
);
process.exit(failures === 0 ? 0 : 1);
