/**
 * The self-contained HTML report: inline CSS, tables, and the SVGs embedded as markup — no
 * scripts, no external files, so it opens from disk in any browser.
 */
import { escapeHtml, toHtml, type Table } from './table.ts';

export type Block =
  | { readonly kind: 'heading'; readonly text: string; readonly level?: 2 | 3 }
  | { readonly kind: 'paragraph'; readonly text: string }
  | { readonly kind: 'table'; readonly table: Table }
  | { readonly kind: 'svg'; readonly svg: string; readonly caption?: string };

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.5em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr.bad td { background: #fde8e8; }
figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; }
p.note { font-size: 0.85em; color: #555; }
`;

/** Drops the XML prolog an SVG document may carry so that it can sit inside HTML. */
function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

export function renderHtml(title: string, blocks: readonly Block[]): string {
  const body = blocks
    .map((b) => {
      switch (b.kind) {
        case 'heading':
          return `<h${b.level ?? 2}>${escapeHtml(b.text)}</h${b.level ?? 2}>`;
        case 'paragraph':
          return `<p>${escapeHtml(b.text)}</p>`;
        case 'table':
          return toHtml(b.table);
        case 'svg':
          return `<figure>${inlineSvg(b.svg)}${b.caption !== undefined ? `<figcaption>${escapeHtml(b.caption)}</figcaption>` : ''}</figure>`;
      }
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}
