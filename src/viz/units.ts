/** Display units for pictures: SI inside, people's units on the axes (GB, ms, Mbit/s). */
export const GB = 1e9;
export const MS = 1e-3;

export const gb = (bytes: number): number => bytes / GB;
export const ms = (seconds: number): number => seconds / MS;

export function bytesText(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const abs = Math.abs(bytes);
  if (abs >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (abs >= 1e6) return `${(bytes / 1e6).toFixed(2)} MB`;
  if (abs >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

export function secondsText(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const abs = Math.abs(seconds);
  if (abs >= 1) return `${Number(seconds.toPrecision(4))} s`;
  if (abs >= 1e-3) return `${Number((seconds * 1e3).toPrecision(4))} ms`;
  return `${Number((seconds * 1e6).toPrecision(4))} µs`;
}

export function numText(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

export function pct(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(4))}%`;
}

/** A record guard for breakdowns read as JSON (a family's breakdown is `unknown` at this layer). */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
