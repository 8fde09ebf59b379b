/** Human-readable rendering of API reports for the terminal (JSON output bypasses all of this). */
import type { Attempt, CheckReport, CompareReport, InputWarning, SolveReport, SweepReport } from '../api.ts';

/**
 * A report as JSON. ±∞ (an unknown bound) would become `null` under plain JSON.stringify, which
 * reads as "no value"; they are written as the strings "Infinity" and "-Infinity" instead.
 */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) && !Number.isNaN(v) ? String(v) : v), 2)}\n`;
}

function warningLines(warnings: readonly InputWarning[]): string[] {
  if (warnings.length === 0) return [];
  return ['', `warnings (${warnings.length})`, ...warnings.map((w) => `  ${w.path}: ${w.message}`)];
}

/** Ten significant digits: enough to compare objectives by eye, without float noise. */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(10)));
}

export function percent(gap: number | null | undefined): string {
  if (gap === null || gap === undefined) return '-';
  // Below 1e-9 relative a gap is floating-point noise in the bound, not a property of the solution.
  if (Math.abs(gap) < 1e-9) return '0%';
  return `${Number((gap * 100).toPrecision(4))}%`;
}

/** A gap setting as people write it: 1e-6 rather than 0.000001. */
export function gapSetting(gap: number): string {
  return gap > 0 && gap < 1e-3 ? gap.toExponential() : String(gap);
}

export function seconds(value: number): string {
  return value < 0.01 ? `${(value * 1000).toFixed(1)} ms` : `${value.toFixed(2)} s`;
}

/** Left-aligned columns separated by two spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

function claimText(a: Attempt): string {
  const c = a.claim;
  const parts = [c.rawStatus ?? c.termination];
  if (c.objective !== undefined) parts.push(`objective ${num(c.objective)}`);
  if (c.bound !== undefined) parts.push(`bound ${num(c.bound)}`);
  return parts.join(', ');
}

function attemptRows(attempts: readonly Attempt[]): string {
  const rows = attempts.map((a) => {
    const verified = a.verified === undefined ? '' : a.verified ? ' (verified)' : ' (UNVERIFIED)';
    const text = [a.message, ...a.notes].filter((m): m is string => m !== undefined && m !== '').join('; ');
    return [a.method, `${a.termination}${verified}`, claimText(a), seconds(a.timeSeconds), text];
  });
  return indent(table(['method', 'verdict', 'its claim', 'time', 'notes'], rows));
}

export function formatSolve(report: SolveReport, title: string): string {
  const lines: string[] = [];
  const field = (name: string, value: string): void => {
    lines.push(`${name.padEnd(12)} ${value}`);
  };
  field('kind', `${report.kind} (${title})`);
  const held = report.solution !== null;
  let termination: string = report.termination;
  if (report.termination === 'optimal')
    termination += ` (certified: gap within ${gapSetting(report.options.mipGap)} relative)`;
  else if (held) termination += ' (feasible solution held, not proven optimal)';
  else if (report.primalStatus === 'rejected') termination += ' (its decision failed evaluate)';
  else termination += ' (no solution)';
  field('termination', termination);
  field('method', report.method);
  if (report.solution !== null) {
    field('objective', `${num(report.solution.objective)}  ${report.objectiveLabel}`);
    if (report.solution.bound !== undefined)
      field('bound', `${num(report.solution.bound)} (gap ${percent(report.solution.gap)})`);
    else field('bound', 'none known (gap unknown)');
  }
  const warm = report.warmStart;
  if (warm !== null && warm.source !== null)
    field('warm start', `${num(warm.objective)} from ${warm.source} (${seconds(warm.seconds)})`);
  field('time', seconds(report.timeSeconds));
  if (report.summary !== undefined) lines.push('', report.summary);
  if (report.solution === null) {
    if (report.explanation !== undefined) lines.push('', `why: ${report.explanation}`);
    if (
      report.attempts.every((a) =>
        ['error', 'memory_limit', 'invalid_model', 'numerical_error'].includes(a.termination),
      )
    ) {
      lines.push('', 'every method tried failed; see the attempts below');
    }
  }
  lines.push(...warningLines(report.warnings));
  lines.push('', 'attempts', attemptRows(report.attempts));
  return `${lines.join('\n')}\n`;
}

export function formatCheck(report: CheckReport): string {
  const lines = [
    `feasible     ${report.feasible ? 'yes' : 'no'}`,
    `objective    ${num(report.objective)} (recomputed by evaluate)`,
  ];
  if (report.claimed !== undefined) {
    const verdict = report.objectiveMatches === true ? 'matches' : 'does NOT match';
    lines.push(
      `claimed      ${num(report.claimed.objective)} by ${report.claimed.method} (${report.claimed.termination}): ${verdict}`,
    );
  }
  if (report.summary !== undefined) lines.push('', report.summary);
  if (report.evaluation.violations.length > 0) {
    lines.push('', `violations (${report.evaluation.violations.length})`);
    for (const v of report.evaluation.violations.slice(0, 20)) lines.push(`  ${v.constraint}: ${v.message}`);
    if (report.evaluation.violations.length > 20)
      lines.push(`  … and ${report.evaluation.violations.length - 20} more`);
  }
  return `${lines.join('\n')}\n`;
}

const yesNo = (v: boolean | null): string => (v === null ? '-' : v ? 'yes' : 'NO');

export function formatCompare(report: CompareReport): string {
  const rows = report.rows.map((r) => {
    const verified = r.verified === undefined ? '' : r.verified ? ' (verified)' : ' (UNVERIFIED)';
    const text = [r.message, ...r.notes].filter((m): m is string => m !== undefined && m !== '').join('; ');
    return [
      r.method,
      r.kind,
      `${r.termination ?? '-'}${verified}`,
      num(r.objective),
      percent(r.gap),
      seconds(r.timeSeconds),
      yesNo(r.feasible),
      text,
    ];
  });
  const limit =
    report.options.timeLimitSeconds !== undefined ? `, time limit ${report.options.timeLimitSeconds} s per method` : '';
  const lines = [
    `kind ${report.kind}, ${report.sense === 'min' ? 'minimise' : 'maximise'} ${report.objectiveLabel}, relative gap ${gapSetting(report.options.mipGap)}${limit}`,
    '',
  ];
  lines.push(table(['method', 'kind', 'verdict', 'objective', 'gap', 'time', 'feasible', 'notes'], rows), '');
  const { agreement } = report;
  if (report.contradictions.length > 0) {
    lines.push(`CONTRADICTIONS (${report.contradictions.length})`, ...report.contradictions.map((c) => `  ${c}`));
  } else if (agreement.methods.length >= 2) {
    const same =
      agreement.spread === 0
        ? 'with the same objective'
        : `with objectives equal within the tolerance (relative spread ${agreement.spread.toPrecision(2)})`;
    lines.push(
      `agreement: ${agreement.methods.join(', ')} certified optimal ${same}, and no method contradicts another`,
    );
  } else if (agreement.methods.length === 1)
    lines.push(`only ${agreement.methods[0]} proved optimality; no method contradicts another`);
  else lines.push('no method proved optimality; no method contradicts another');
  lines.push(
    report.best === null
      ? 'best: no method found a feasible decision'
      : `best: ${num(report.best.objective)} (${report.best.method})`,
  );
  for (const note of report.notes) lines.push(`note: ${note}`);
  lines.push(...warningLines(report.warnings));
  return `${lines.join('\n')}\n`;
}

export function formatSweep(report: SweepReport): string {
  const rows = report.rows.map((r) => [
    num(r.value),
    r.termination,
    num(r.objective),
    percent(r.gap),
    r.method,
    (r.summary ?? r.explanation ?? '').split('\n')[0],
  ]);
  return `sweep of ${report.path} (kind ${report.kind})\n\n${table(['value', 'termination', 'objective', 'gap', 'method', 'decision'], rows)}\n`;
}
