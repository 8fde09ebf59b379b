#!/usr/bin/env node
// Builds dist/ from src/ with tsc (tsconfig.build.json): JavaScript, .d.ts declarations and source maps, one output
// file per source file so that paths computed from import.meta.url (datasets/, problems/, package.json) hold in dist/
// exactly as in src/. Runs on `npm ci` / `npm install` through the `prepare` script.
//
// tsc rewrites relative `.ts` import specifiers to `.js` in JavaScript (rewriteRelativeImportExtensions) but leaves
// them as `.ts` in declarations; a consumer without allowImportingTsExtensions would then fail with TS5097, so the
// declarations' relative specifiers are rewritten here too.
//
// dist/BUILD_STAMP records when the build started; bin/edgeplan.js runs the sources through tsx instead of dist/ when
// a source file is newer than that (a developer editing src/ never runs a stale build).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const startedMs = Date.now();

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (run.status !== 0) {
  process.stderr.write(`edgeplan build: tsc failed (exit ${run.status ?? run.signal})\n`);
  process.exit(run.status ?? 1);
}

// `from './x.ts'`, `import('./x.ts')` and `import './x.ts'` with a relative specifier → `.js`.
const RELATIVE_TS = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g;
let rewritten = 0;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(RELATIVE_TS, '$1$2.js$3');
  if (fixed !== text) {
    writeFileSync(file, fixed);
    rewritten++;
  }
}

mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, 'BUILD_STAMP'), `${startedMs}\n`);
const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
process.stdout.write(`edgeplan build: dist/ in ${seconds} s (${rewritten} declaration files' imports rewritten)\n`);
