/** Bundled fleet-serving examples and the small helpers the fleet-serving tests share. */
import { readFileSync } from 'node:fs';
import { InputError, parseProblem, solve } from '../../src/api.ts';
import { parseFleet, type FleetProblem } from '../../src/formulations/fleet-serving/index.ts';
import type { FleetDecision } from '../../src/formulations/fleet-serving/schema.ts';

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

/**
 * Both serving paths of the three-node test fleets (ttft and variants tests): a → b as a two-stage
 * pipeline at 50 tokens/s, and c alone on the whole 4-layer model at 30.
 */
export const bothPaths: FleetDecision = {
  placement: [
    { node: 'a', firstLayer: 1, lastLayer: 2 },
    { node: 'b', firstLayer: 3, lastLayer: 4 },
    { node: 'c', firstLayer: 1, lastLayer: 4 },
  ],
  routing: [
    { from: 'source', to: 'a', tokensPerSecond: 50 },
    { from: 'a', to: 'b', tokensPerSecond: 50 },
    { from: 'b', to: 'sink', tokensPerSecond: 50 },
    { from: 'source', to: 'c', tokensPerSecond: 30 },
    { from: 'c', to: 'sink', tokensPerSecond: 30 },
  ],
};
