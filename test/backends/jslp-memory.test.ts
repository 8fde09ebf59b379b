/**
 * javascript-lp-solver on a large model grows without bound outside the JavaScript heap (a 24-node
 * fleet: ~270 MB/s, until the kernel killed `compare`). Its worker is watched and stopped past a
 * memory budget; here the budget is set low so that the guard acts within a second or two.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fleetExample } from '../support/fleet-examples.ts';
import { solveWith } from '../../src/backends/registry.ts';
import { parseFleet } from '../../src/formulations/fleet-serving/index.ts';
import { compileStrong } from '../../src/formulations/fleet-serving/milp.ts';

const helix42 = fleetExample('helix-42-llama70b-high-heterogeneity');

describe('jslp memory guard', () => {
  afterEach(() => {
    delete process.env.EDGEPLAN_JSLP_MEMORY_BYTES;
  });

  it('stops a solve that outgrows its memory budget: memory_limit, one line, the process alive', async () => {
    process.env.EDGEPLAN_JSLP_MEMORY_BYTES = String(64 * 1024 ** 2);
    const model = compileStrong(helix42).model;
    const r = await solveWith('jslp', model, { timeLimitSeconds: 120 });
    expect(r.termination).toBe('memory_limit');
    expect(r.message).toMatch(/jslp: stopped after using more than 0\.1 GB of memory/);
    expect(r.solution).toBeNull();
  }, 60_000);

  it('leaves small solves alone', async () => {
    process.env.EDGEPLAN_JSLP_MEMORY_BYTES = String(64 * 1024 ** 2);
    const model = compileStrong(
      parseFleet({
        kind: 'fleet-serving',
        layers: 2,
        nodes: [
          { name: 'a', throughputByLayers: { '1': 10, '2': 6 } },
          { name: 'b', throughputByLayers: { '1': 8 } },
        ],
        defaultLink: {},
      }),
    ).model;
    const r = await solveWith('jslp', model, { timeLimitSeconds: 20 });
    expect(r.termination).toBe('optimal');
  });
});
