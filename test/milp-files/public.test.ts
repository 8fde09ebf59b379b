/**
 * Public instances with known optima, read from MPS and solved through the whole chain (issue 18).
 *
 * Files: netlib LP (coin-or-tools/Data-Netlib, the netlib/lp/data set uncompressed to MPS) and MIPLIB 3
 * (coin-or-tools/Data-miplib3), gzipped in test/milp-files/public/. Optima: netlib's own table
 * (netlib.org/lp/data/readme, D. M. Gay, "Electronic mail distribution of linear programming test problems",
 * Mathematical Programming Society COAL Newsletter 13, 1985) and the MIPLIB 3 files' `*BEST SOLN` headers
 * (Bixby, Ceria, McZeal, Savelsbergh, "An updated mixed integer programming library: MIPLIB 3.0", Optima 58, 1998).
 * Sources: docs/model-files.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProblem, readModelFile, solve, type BackendChoice } from '../../src/api.ts';

/** name → [optimum, significant digits the source states, the backends fast enough on it]. */
const INSTANCES: Readonly<Record<string, readonly [number, number, readonly BackendChoice[]]>> = {
  afiro: [-464.75314286, 11, ['highs', 'glpk', 'jslp']],
  sc50a: [-64.575077059, 11, ['highs', 'glpk', 'jslp']],
  sc50b: [-70, 11, ['highs', 'glpk', 'jslp']],
  sc105: [-52.202061212, 11, ['highs', 'glpk', 'jslp']],
  sc205: [-52.202061212, 11, ['highs', 'glpk']],
  kb2: [-1749.9001299, 11, ['highs', 'glpk', 'jslp']],
  stocfor1: [-41131.976219, 11, ['highs', 'glpk']],
  adlittle: [225494.96316, 11, ['highs']],
  blend: [-30.812149846, 11, ['highs', 'glpk', 'jslp']],
  scagr7: [-2331389.8243, 11, ['highs', 'glpk']],
  share2b: [-415.73224074, 11, ['highs', 'glpk']],
  recipe: [-266.616, 11, ['highs', 'glpk', 'jslp']],
  lotfi: [-25.264706062, 11, ['highs', 'glpk']],
  vtpbase: [129831.46246, 11, ['highs', 'glpk']],
  share1b: [-76589.318579, 11, ['highs']],
  boeing2: [-315.01872802, 11, ['highs', 'glpk']],
  bore3d: [1373.0803942, 11, ['highs']],
  israel: [-896644.82186, 11, ['highs', 'glpk']],
  brandy: [1518.5098965, 11, ['highs', 'glpk']],
  capri: [2690.0129138, 11, ['highs']],
  flugpl: [1201500, 7, ['highs']],
  p0033: [3089, 4, ['highs', 'glpk']],
  egout: [568.101, 6, ['highs']],
  gt2: [21166, 5, ['highs']],
  vpm1: [20, 2, ['highs']],
  p0548: [8691, 4, ['highs']],
};

function load(name: string) {
  const bytes = readFileSync(new URL(`./public/${name}.mps.gz`, import.meta.url));
  return readModelFile(bytes, 'mps', `${name}.mps.gz`);
}

describe('public MPS instances reach their published optima', () => {
  it('there are at least 20 of them, LP and MIP', () => {
    expect(Object.keys(INSTANCES).length).toBeGreaterThanOrEqual(20);
  });

  for (const [name, [optimum, digits, backends]] of Object.entries(INSTANCES)) {
    it(`${name}: ${optimum} with ${backends.join(', ')}`, async () => {
      const { document } = load(name);
      const problem = parseProblem(document);
      // The source's rounding (e.g. 568.101) or the netlib table's 11 digits, whichever is coarser.
      const tolerance = Math.max(Math.abs(optimum) * 10 ** -Math.min(digits, 8), 1e-6);
      for (const backend of backends) {
        const report = await solve(problem, { backend, timeLimitSeconds: 30 });
        expect(report.termination, `${name} ${backend}`).toBe('optimal');
        expect(Math.abs((report.solution?.objective ?? NaN) - optimum), `${name} ${backend}`).toBeLessThanOrEqual(
          tolerance,
        );
      }
    }, 60_000);
  }

  it('netlib rows with no terms are left out with a note (boeing2 26, brandy 38)', () => {
    expect(load('boeing2').notes).toContain('26 row(s) with no terms and 0 within their bounds left out');
    expect(load('brandy').notes).toContain('38 row(s) with no terms and 0 within their bounds left out');
  });
});
