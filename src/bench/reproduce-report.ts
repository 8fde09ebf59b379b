/** Tables, plots and files of `edgeplan reproduce --out DIR`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHtml, type Block } from './html.ts';
import { renderSvg } from './plot.ts';
import type { ReproductionOutcome, ReproRow } from './reproduce.ts';
import { formatSeconds, toMarkdown, toText, type Table } from './table.ts';

function rowResult(r: ReproRow): string {
  if (r.pass) return 'pass';
  return r.outlier === true ? 'outlier' : 'FAIL';
}

export function reproductionTable(o: ReproductionOutcome): Table {
  const rows = o.rows.map((r) => [r.item, r.expected, r.obtained, r.tolerance, rowResult(r), r.note ?? '']);
  if (o.error !== undefined) rows.push(['(error)', '-', `failed: ${o.error}`, '-', 'FAIL', '']);
  return {
    title: `${o.name} — ${o.pass ? 'PASS' : 'FAIL'} — ${o.title}`,
    header: ['item', 'expected', 'obtained', 'tolerance', 'result', 'note'],
    rows,
    note: `Source: ${o.source}. Computed in ${formatSeconds(o.timeSeconds)}.`,
  };
}

export function reproduceText(outcomes: readonly ReproductionOutcome[]): string {
  const passed = outcomes.filter((o) => o.pass).length;
  return `${outcomes.map((o) => toText(reproductionTable(o))).join('\n\n')}\n\n${passed}/${outcomes.length} reproductions pass\n`;
}

export function reproduceMarkdown(outcomes: readonly ReproductionOutcome[]): string {
  const passed = outcomes.filter((o) => o.pass).length;
  const summary: Table = {
    header: ['reproduction', 'result', 'rows passing', 'time'],
    rows: outcomes.map((o) => [
      o.name,
      o.pass ? 'pass' : 'FAIL',
      `${o.rows.filter((r) => r.pass).length}/${o.rows.length}`,
      formatSeconds(o.timeSeconds),
    ]),
  };
  return `# edgeplan reproduce\n\n${passed}/${outcomes.length} reproductions pass.\n\n${toMarkdown(summary)}\n\n${outcomes.map((o) => toMarkdown(reproductionTable(o))).join('\n\n')}\n`;
}

/** Writes reproduce.json, reproduce.md, <name>.svg per plot and (with `html`) reproduce.html. */
export async function writeReproduceOutputs(
  outcomes: readonly ReproductionOutcome[],
  dir: string,
  options: { html?: boolean } = {},
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  };
  write('reproduce.json', `${JSON.stringify(outcomes, null, 2)}\n`);
  write('reproduce.md', reproduceMarkdown(outcomes));
  const svgs = new Map<string, string>();
  for (const o of outcomes) {
    if (o.plot === null) continue;
    const svg = await renderSvg(o.plot);
    svgs.set(o.name, svg);
    write(`${o.name}.svg`, svg);
  }
  if (options.html === true) {
    const passed = outcomes.filter((o) => o.pass).length;
    const blocks: Block[] = [{ kind: 'paragraph', text: `${passed}/${outcomes.length} reproductions pass.` }];
    for (const o of outcomes) {
      blocks.push(
        { kind: 'heading', text: `${o.name}: ${o.pass ? 'pass' : 'FAIL'}` },
        { kind: 'table', table: reproductionTable(o) },
      );
      const svg = svgs.get(o.name);
      if (svg !== undefined) blocks.push({ kind: 'svg', svg, caption: o.title });
    }
    write('reproduce.html', renderHtml('edgeplan reproduce', blocks));
  }
  return files;
}
