/** A bundled fleet-serving example, parsed (the tests of the exact method's pieces run on helix-42). */
import { readFileSync } from 'node:fs';
import { parseFleet, type FleetProblem } from '../../src/formulations/fleet-serving/index.ts';

export function fleetExample(name: string): FleetProblem {
  return parseFleet(
    JSON.parse(readFileSync(new URL(`../../problems/fleet-serving/${name}.json`, import.meta.url), 'utf8')),
  );
}
