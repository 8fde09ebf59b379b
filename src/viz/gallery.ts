/**
 * `npm run pictures [-- OUT_DIR] [--time-limit S] [--png DIR]`: every bundled example in problems/
 * solved (with a time limit each) and drawn into one folder — an HTML page and an SVG per example
 * and an index.html linking them. With `--png DIR` (and Chromium installed) it also writes one
 * screenshot per family, the smallest example's, as docs/pictures/ holds them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKindOf } from '../formulations/registry.ts';
import { parseProblem } from '../solve/problem.ts';
import { solve } from '../solve/chain.ts';
import { solutionHtml, solutionSvg } from './index.ts';
import { page, tableHtml } from './page.ts';
import { numText, secondsText } from './units.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The example drawn for each family in docs/pictures.md (small enough to solve in seconds). */
export const FAMILY_EXAMPLES: Readonly<Record<string, string>> = {
  'pipeline-placement': 'gpt2-medium-training-8-servers',
  'parallel-placement': 'metis-gpt3-1.5b-4a100-4t4',
  'fleet-serving': 'helix-10-llama30b-quality',
  'split-finetune': 'gpt2-medium-3-clients',
  'kv-split-inference': 'kv-bound',
  'moe-placement': 'tight-packing',
  'speculative-threshold': 'phone-1b-draft-llama-2-7b-5g',
  'model-caching': 'fine-tune-family',
  'split-moe': 'mixtral-3-classes-2-servers',
  'agent-placement': 'assistant-3-modules',
  milp: 'knapsack',
};

/** Screenshot heights (px) of the pages taller than the default 1300, so their last figure is in the PNG. */
const SHOT_HEIGHT: Readonly<Record<string, number>> = { 'parallel-placement': 1850, 'split-moe': 1420 };

function chromium(): string | null {
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'])
    if (existsSync(p)) return p;
  return null;
}

async function main(argv: readonly string[]): Promise<void> {
  let out = 'pictures';
  let timeLimitSeconds = 20;
  let png: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--time-limit') timeLimitSeconds = Number(argv[++i]);
    else if (argv[i] === '--png') png = argv[++i];
    else out = argv[i];
  }
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  const rows: string[][] = [];
  const links: string[] = [];
  for (const kind of readdirSync(join(ROOT, 'problems')).sort()) {
    const folder = join(ROOT, 'problems', kind);
    for (const file of readdirSync(folder)
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const name = basename(file, '.json');
      const raw: unknown = JSON.parse(readFileSync(join(folder, file), 'utf8'));
      await loadKindOf(raw); // families load lazily (issue 18)
      const parsed = parseProblem(raw);
      const report = await solve(parsed, { timeLimitSeconds });
      writeFileSync(join(dir, `${kind}--${name}.html`), await solutionHtml(parsed, report));
      writeFileSync(join(dir, `${kind}--${name}.svg`), await solutionSvg(parsed, report));
      rows.push([kind, name, report.termination, numText(report.solution?.objective), secondsText(report.timeSeconds)]);
      links.push(
        `<li><a href="${kind}--${name}.html">${kind} / ${name}</a> (<a href="${kind}--${name}.svg">svg</a>)</li>`,
      );
      process.stderr.write(`${kind}/${name}: ${report.termination} in ${secondsText(report.timeSeconds)}\n`);
    }
  }
  const index = page('edgeplan: pictures of every bundled example', [
    tableHtml(['kind', 'example', 'termination', 'objective', 'time'], rows),
    `<ul>${links.join('\n')}</ul>`,
  ]);
  writeFileSync(join(dir, 'index.html'), index);
  process.stderr.write(`wrote ${rows.length} examples to ${dir}/index.html\n`);
  if (png !== null) {
    const browser = chromium();
    if (browser === null) throw new Error('--png needs Chromium (apt-get install chromium)');
    mkdirSync(resolve(png), { recursive: true });
    for (const [kind, name] of Object.entries(FAMILY_EXAMPLES)) {
      const html = join(dir, `${kind}--${name}.html`);
      if (!existsSync(html)) continue;
      execFileSync(
        browser,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--hide-scrollbars',
          `--window-size=1100,${SHOT_HEIGHT[kind] ?? 1300}`,
          `--screenshot=${join(resolve(png), `${kind}.png`)}`,
          `file://${html}`,
        ],
        { stdio: 'ignore' },
      );
    }
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`pictures: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
