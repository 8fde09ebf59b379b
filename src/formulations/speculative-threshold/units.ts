/**
 * Energies in messages, with the unit chosen by magnitude (a 3 µJ budget printed as "0.00 mJ"
 * told the user nothing), and pairs printed with enough digits that two different values never
 * print alike ("spends 0.003 mJ, budget 0.003 mJ" read as a contradiction).
 */

const ENERGY_UNITS: readonly (readonly [number, string])[] = [
  [1, 'J'],
  [1e-3, 'mJ'],
  [1e-6, 'µJ'],
  [1e-9, 'nJ'],
  [1e-12, 'pJ'],
];

function energyUnit(joules: number): readonly [number, string] {
  const m = Math.abs(joules);
  for (const u of ENERGY_UNITS) if (m >= u[0]) return u;
  return ENERGY_UNITS[ENERGY_UNITS.length - 1];
}

/** An energy in J, mJ, µJ, nJ or pJ (the largest unit in which it is at least 1), `decimals` after the point. */
export function formatJoules(joules: number, decimals = 2): string {
  if (joules === 0) return '0 J';
  const [scale, unit] = energyUnit(joules);
  return `${(joules / scale).toFixed(decimals)} ${unit}`;
}

/**
 * Two energies, each in its own unit by magnitude, with the fewest decimals (at least 2) at which
 * they print differently when they differ.
 */
export function formatJoulesPair(a: number, b: number): [string, string] {
  let decimals = 2;
  while (a !== b && formatJoules(a, decimals) === formatJoules(b, decimals) && decimals < 15) decimals++;
  return [formatJoules(a, decimals), formatJoules(b, decimals)];
}

/** Seconds as milliseconds with two decimals (round and token times are milliseconds here). */
export function formatMilliseconds(seconds: number): string {
  return `${(seconds * 1e3).toFixed(2)} ms`;
}
