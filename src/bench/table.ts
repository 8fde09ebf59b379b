/**
 * One table structure rendered three ways: Markdown (bench.md, docs), plain text (the terminal)
 * and HTML (the --html report). Cells are strings already formatted by the caller.
 */

export interface Table {
  readonly title?: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Shown under the table (conventions, footnotes). */
  readonly note?: string;
}

function escapeMarkdownCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function toMarkdown(table: Table): string {
  const lines: string[] = [];
  if (table.title !== undefined) lines.push(`**${table.title}**`, '');
  lines.push(`| ${table.header.map(escapeMarkdownCell).join(' | ')} |`);
  lines.push(`|${table.header.map(() => '---').join('|')}|`);
  for (const row of table.rows) {
    // A short row (e.g. "failed: reason") spans what is left of the line.
    const cells = table.header.map((_, i) => escapeMarkdownCell(row[i] ?? ''));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  if (table.note !== undefined) lines.push('', table.note);
  return lines.join('\n');
}

/** Left-aligned columns separated by two spaces, for a terminal. */
export function toText(table: Table): string {
  const widths = table.header.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    table.header
      .map((_, i) => cells[i] ?? '')
      .map((c, i) => (i === table.header.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  if (table.title !== undefined) out.push(table.title);
  out.push(line(table.header), ...table.rows.map(line));
  if (table.note !== undefined) out.push(table.note);
  return out.join('\n');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function toHtml(table: Table): string {
  const head = table.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = table.rows
    .map((row) => {
      const cls = row.some((c) => c.startsWith('failed') || c === 'FAIL') ? ' class="bad"' : '';
      return `<tr${cls}>${table.header.map((_, i) => `<td>${escapeHtml(row[i] ?? '')}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const caption = table.title !== undefined ? `<caption>${escapeHtml(table.title)}</caption>` : '';
  const note = table.note !== undefined ? `\n<p class="note">${escapeHtml(table.note)}</p>` : '';
  return `<table>${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>${note}`;
}

/** Ten significant digits at most; '-' for a missing value. */
export function formatNumber(value: number | null | undefined, digits = 6): string {
  if (value === null || value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) >= 1e7 || Math.abs(value) < 1e-4)) return value.toExponential(digits - 1);
  return String(Number(value.toPrecision(digits)));
}

export function formatSeconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (value < 0.01) return `${(value * 1000).toFixed(1)} ms`;
  return `${value.toFixed(value < 10 ? 2 : 1)} s`;
}

export function formatRatio(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return value.toFixed(3);
}

export function formatGap(gap: number | null | undefined): string {
  if (gap === null || gap === undefined) return '-';
  if (!Number.isFinite(gap)) return String(gap);
  if (Math.abs(gap) < 1e-9) return '0%';
  return `${Number((gap * 100).toPrecision(3))}%`;
}
