/** Parsers for numeric and enumerated flags; a bad value is a UsageError naming the flag. */
import { BACKEND_CHOICES, BACKEND_NAMES, type BackendChoice, type BackendName } from '../api-core.ts';
import { UsageError } from '../api-core.ts';

export function positiveSeconds(flag: string): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v) || v <= 0)
      throw new UsageError(`${flag}: expected a positive number of seconds, got "${value}"`);
    return v;
  };
}

export function nonNegativeNumber(flag: string): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v) || v < 0)
      throw new UsageError(`${flag}: expected a number ≥ 0, got "${value}"`);
    return v;
  };
}

export function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(v) || v < 1)
      throw new UsageError(`${flag}: expected a positive integer, got "${value}"`);
    return v;
  };
}

export function backendChoice(value: string): BackendChoice {
  const match = BACKEND_CHOICES.find((c) => c === value);
  if (match === undefined)
    throw new UsageError(`--backend: expected one of ${BACKEND_CHOICES.join(', ')}, got "${value}"`);
  return match;
}

export function backendList(value: string): BackendName[] {
  return value.split(',').map((part) => {
    const name = part.trim();
    const match = BACKEND_NAMES.find((b) => b === name);
    if (match === undefined)
      throw new UsageError(`--backends: expected a comma-separated list of ${BACKEND_NAMES.join(', ')}, got "${name}"`);
    return match;
  });
}

/** `--sweep PATH=SPEC` split at the first `=`. */
export function sweepSpec(value: string): { path: string; values: string } {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1)
    throw new UsageError(`--sweep: expected PATH=start:step:end or PATH=v1,v2,…, got "${value}"`);
  return { path: value.slice(0, at), values: value.slice(at + 1) };
}
