/**
 * Plausible ranges for the physical quantities users type, so that a value off by orders of
 * magnitude (an uplink of 50 bit/s, 48 bytes of memory — almost surely a unit slip) earns a
 * warning in the report. Never a refusal: an odd value may be deliberate (a stress test).
 * Ranges are deliberately wide (several orders of magnitude around today's hardware).
 */
import type { LinkSpec } from '../cost/link.ts';
import type { InputWarning } from './types.ts';

export type Quantity =
  'memoryBytes' | 'bitsPerSecond' | 'flopsPerSecond' | 'bytesPerSecond' | 'seconds' | 'watts' | 'joules' | 'parameters';

interface Range {
  readonly low: number;
  readonly high: number;
  readonly unit: string;
  readonly hint: string;
}

const RANGES: Readonly<Record<Quantity, Range>> = {
  // 1 MB (a microcontroller) … 100 TB (a whole rack).
  memoryBytes: { low: 1e6, high: 1e14, unit: 'B', hint: 'memory is given in bytes (24 GB = 24e9)' },
  // 1 kbit/s (a congested NB-IoT link) … 10 Tbit/s (a datacentre fabric).
  bitsPerSecond: { low: 1e3, high: 1e13, unit: 'bit/s', hint: 'rates are given in bits per second (50 Mbps = 50e6)' },
  // 100 MFLOP/s (an old MCU) … 100 PFLOP/s (a whole pod).
  flopsPerSecond: {
    low: 1e8,
    high: 1e17,
    unit: 'FLOP/s',
    hint: 'compute is given in FLOP per second (1 TFLOP/s = 1e12)',
  },
  // 1 MB/s … 100 TB/s.
  bytesPerSecond: {
    low: 1e6,
    high: 1e14,
    unit: 'B/s',
    hint: 'bandwidth is given in bytes per second (900 GB/s = 9e11)',
  },
  seconds: { low: 1e-9, high: 1e7, unit: 's', hint: 'times are given in seconds' },
  watts: { low: 1e-3, high: 1e5, unit: 'W', hint: 'power is given in watts' },
  joules: { low: 1e-12, high: 1e9, unit: 'J', hint: 'energy is given in joules' },
  parameters: { low: 1e3, high: 1e14, unit: 'parameters', hint: 'parameter counts are plain numbers (7B = 7e9)' },
};

/** A warning when `value` lies outside the plausible range of `quantity`; null otherwise (and for 0, ±∞, NaN). */
export function plausibility(path: string, value: number, quantity: Quantity): InputWarning | null {
  if (!Number.isFinite(value) || value === 0) return null;
  const r = RANGES[quantity];
  const magnitude = Math.abs(value);
  if (magnitude >= r.low && magnitude <= r.high) return null;
  const side = magnitude < r.low ? 'implausibly small' : 'implausibly large';
  return { path, message: `${value} ${r.unit} is ${side} (plausible: ${r.low}–${r.high} ${r.unit}); ${r.hint}` };
}

/** Collects the warnings of many checks, dropping the nulls. */
export function collectWarnings(checks: readonly (InputWarning | null)[]): InputWarning[] {
  return checks.filter((w): w is InputWarning => w !== null);
}

/** A link's rates and latency checked for plausibility (none when there is no link). */
export function linkWarnings(path: string, link: LinkSpec | null): (InputWarning | null)[] {
  if (link === null) return [];
  return [
    plausibility(`${path}.uplinkBitsPerSecond`, link.uplinkBitsPerSecond, 'bitsPerSecond'),
    plausibility(`${path}.downlinkBitsPerSecond`, link.downlinkBitsPerSecond, 'bitsPerSecond'),
    plausibility(`${path}.latencySeconds`, link.latencySeconds, 'seconds'),
  ];
}
