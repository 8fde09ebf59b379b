/**
 * Plain generated SVG for the drawings a chart grammar does not fit (a flow graph, a table), and
 * the stacking of several SVG documents into one file (`--svg`). Nested <svg> elements keep each
 * drawing's own coordinate system, so vega's output and ours sit side by side untouched.
 */

export const FONT = 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif';

/** A Tableau-10-like palette, the one vega-lite uses by default, so colours match across figures. */
export const PALETTE = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
];

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A number short enough for a label: 4 significant digits, no float noise. */
export function short(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? '∞' : value < 0 ? '−∞' : 'NaN';
  return String(Number(value.toPrecision(4)));
}

export function svgDocument(width: number, height: number, body: string): string {
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ` +
    `font-family='${FONT}' font-size="12">\n${body}\n</svg>\n`
  );
}

export function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(content)}</text>`;
}

/** Width and height of an SVG document from its root element (vega writes both). */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const read = (name: string): number => {
    const m = new RegExp(`\\s${name}="([\\d.]+)`).exec(root);
    return m === null ? 0 : Number(m[1]);
  };
  let width = read('width');
  let height = read('height');
  if (width === 0 || height === 0) {
    const box = /viewBox="[\d.-]+ [\d.-]+ ([\d.]+) ([\d.]+)"/.exec(root);
    if (box !== null) {
      width = Number(box[1]);
      height = Number(box[2]);
    }
  }
  return { width, height };
}

/** Drops an XML prolog so that the document can be nested or inlined. */
export function withoutProlog(svg: string): string {
  return svg.replace(/^\s*<\?xml[^>]*>\s*/, '');
}

/** Several SVG documents under one another, each with a heading, as one SVG document. */
export function stackSvgs(
  parts: readonly { readonly title: string; readonly svg: string }[],
  heading?: string,
): string {
  const gap = 16;
  const titleHeight = 22;
  let y = 8;
  let width = 300;
  const body: string[] = [];
  if (heading !== undefined) {
    body.push(text(8, y + 16, heading, 'font-size="16" font-weight="bold"'));
    y += 30;
  }
  for (const part of parts) {
    const size = svgSize(part.svg);
    body.push(text(8, y + 15, part.title, 'font-size="13" font-weight="bold"'));
    y += titleHeight;
    const inner = withoutProlog(part.svg).replace(/^<svg\b/, `<svg x="8" y="${y.toFixed(1)}"`);
    body.push(inner);
    y += size.height + gap;
    width = Math.max(width, size.width + 16);
  }
  return svgDocument(width, y, `<rect width="100%" height="100%" fill="white"/>\n${body.join('\n')}`);
}

/** A table as an SVG drawing (for `--svg` of a figure that is a table on the HTML page). */
export function tableSvg(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const charWidth = 7;
  const rowHeight = 18;
  const shown = rows.slice(0, 60);
  const widths = header.map(
    (h, i) => Math.min(60, Math.max(h.length, ...shown.map((r) => (r[i] ?? '').length))) * charWidth + 12,
  );
  const xs = widths.map((_, i) => widths.slice(0, i).reduce((a, b) => a + b, 0));
  const total = widths.reduce((a, b) => a + b, 0);
  const lines: string[] = [`<rect width="${total}" height="${rowHeight}" fill="#f3f3f3"/>`];
  header.forEach((h, i) => lines.push(text(xs[i] + 4, 13, h, 'font-weight="bold"')));
  shown.forEach((row, r) => {
    const y = (r + 1) * rowHeight;
    if (r % 2 === 1) lines.push(`<rect y="${y}" width="${total}" height="${rowHeight}" fill="#fafafa"/>`);
    row.forEach((cell, i) => {
      const clipped = cell.length > 60 ? `${cell.slice(0, 59)}…` : cell;
      lines.push(text(xs[i] + 4, y + 13, clipped));
    });
  });
  let height = (shown.length + 1) * rowHeight + 4;
  if (rows.length > shown.length) {
    lines.push(text(4, height + 12, `… and ${rows.length - shown.length} more rows (see the HTML page)`));
    height += 18;
  }
  return svgDocument(Math.max(total, 200), height, lines.join('\n'));
}
