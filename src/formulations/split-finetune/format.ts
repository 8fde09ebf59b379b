/** Unit formatting shared by the family's messages (bytes and seconds in the unit their size calls for). */

/** Bytes in the unit a reader expects for their size (GB for models, MB/kB for small fixtures). */
export function formatBytes(bytes: number): string {
  const a = Math.abs(bytes);
  if (a >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (a >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

export function formatSeconds(s: number): string {
  return s >= 1 ? `${s.toFixed(3)} s` : `${(s * 1e3).toFixed(2)} ms`;
}
