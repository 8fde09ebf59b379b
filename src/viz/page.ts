/**
 * The self-contained HTML page: inline CSS and inline SVG, no scripts and no network, so it opens
 * from disk in any browser (and prints). Small multiples for compare are a CSS grid of cards.
 */
import { esc, withoutProlog } from './svg.ts';
import type { Figure } from './types.ts';

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 1.5em auto;
  max-width: 1400px; padding: 0 1em; color: #222; background: white; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1em; margin: 1.2em 0 0.4em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.55em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr.best td { background: #e8f5e8; } tr.bad td { background: #fde8e8; }
figure { margin: 0.4em 0 1em; } figcaption { font-size: 0.8em; color: #555; max-width: 900px; }
figure svg { max-width: 100%; height: auto; }
p.note, p.sub { font-size: 0.85em; color: #555; } pre { font-size: 0.8em; background: #f7f7f7; padding: 0.6em; overflow-x: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 1em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.3em 0.8em; min-width: 0; }
.card h2 { margin-top: 0.4em; }
`;

export function tableHtml(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rowClass?: (i: number) => string,
): string {
  // An all-empty header is a facts table (name, value): no header row.
  const head = header.every((h) => h === '') ? '' : `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map((r, i) => {
      const cls = rowClass?.(i) ?? '';
      return `<tr${cls !== '' ? ` class="${cls}"` : ''}>${header.map((_, c) => `<td>${esc(r[c] ?? '')}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table>\n${head}\n${body}\n</table>`;
}

export function figureHtml(figure: Figure): string {
  const caption = figure.caption !== undefined ? `<figcaption>${esc(figure.caption)}</figcaption>` : '';
  const body = figure.kind === 'svg' ? withoutProlog(figure.svg) : tableHtml(figure.header, figure.rows);
  return `<h3>${esc(figure.title)}</h3>\n<figure>${body}${caption}</figure>`;
}

export function paragraph(text: string, cls?: string): string {
  return `<p${cls !== undefined ? ` class="${cls}"` : ''}>${esc(text)}</p>`;
}

export function pre(text: string): string {
  return `<pre>${esc(text)}</pre>`;
}

export function page(title: string, body: readonly string[]): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(title)}</h1>
${body.join('\n')}
</body>
</html>
`;
}
