#!/usr/bin/env node
// The edgeplan command. It runs the compiled JavaScript in dist/ (built by `npm run build`, which `npm ci` runs through
// `prepare`), so a start pays for plain module loading only.
//
// In a checkout (src/ beside dist/) the sources are run through tsx instead when dist/ is missing or older than a
// source file, so that a developer editing src/ never runs a stale build; EDGEPLAN_FROM_SOURCE=1 forces that. An
// installed package has no src/ and always runs dist/.
//
// `--version` / `-V` alone is answered here from package.json without loading the CLI: scripts that probe the
// version should not pay for loading every problem family.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';

// Node ≥ 22.1 caches compiled modules on disk: later starts skip parsing the few hundred modules a command loads.
// Node 20 has no such cache; the call is skipped there.
if (typeof module.enableCompileCache === 'function') module.enableCompileCache();

const root = new URL('../', import.meta.url);
const argv = process.argv.slice(2);

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).version}\n`);
} else {
  const entry = (await useSources()) ? await sourceEntry() : new URL('dist/cli/main.js', root).href;
  const { main } = await import(entry);
  process.exitCode = await main(argv);
}

/** True when this is a checkout whose dist/ is missing or older than its newest source file. */
async function useSources() {
  const src = new URL('src/', root);
  let hasSources = false;
  try {
    hasSources = statSync(src).isDirectory();
  } catch {
    return false;
  }
  if (!hasSources) return false;
  if (process.env.EDGEPLAN_FROM_SOURCE === '1') return true;
  let builtMs;
  try {
    builtMs = Number(readFileSync(new URL('dist/BUILD_STAMP', root), 'utf8').trim());
  } catch {
    return true;
  }
  // ≈ 150 stats: about a millisecond, against seconds for a stale or broken run.
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(`${entry.parentPath}/${entry.name}`).mtimeMs > builtMs) return true;
  }
  return false;
}

async function sourceEntry() {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('edgeplan: dist/ is missing or stale and tsx is not installed; run `npm run build`\n');
    process.exit(3);
  }
  register();
  return new URL('src/cli/main.ts', root).href;
}
