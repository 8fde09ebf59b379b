/** Bundled fleet-serving examples and the small helpers the fleet-serving tests share. */
import { readFileSync } from 'node:fs';
import { InputError, parseProblem, solve } from '../../src/api.ts';
import { parseFleet, type FleetProblem } from '../../src/formulations/fleet-serving/index.ts';

const examples = new URL('../../problems/fleet-serving/', import.meta.url);

/** A bundled example's raw JSON (tests edit it before parsing). */
export function readFleetExample(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(file, examples), 'utf8')) as Record<string, unknown>;
}

/** A bundled example, parsed (the tests of the exact method's pieces run on helix-42). */
export function fleetExample(name: string): FleetProblem {
  return parseFleet(readFleetExample(`${name}.json`));
}

/** The InputError that parsing `raw` throws; fails the test when it parses. */
export function fleetInputError(raw: unknown): InputError {
  try {
    parseFleet(raw);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('parsed');
}

/** The default chain's answer on `raw` within 20 s: its termination and objective. */
export async function fleetOptimum(raw: unknown): Promise<{ termination: string; objective: number | null }> {
  const report = await solve(parseProblem(raw), { timeLimitSeconds: 20 });
  return { termination: report.termination, objective: report.solution?.objective ?? null };
}
