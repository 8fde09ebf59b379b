/**
 * The backends by name. Each adapter already guarantees "never throws"; the registry wraps
 * them once more so that the guarantee does not depend on every adapter getting it right
 * (a backend added later, or a bug in an adapter's own code outside its guard).
 */

import type { Model } from '../milp/model.ts';
import type { MilpResult, MilpSolveOptions } from '../milp/result.ts';
import { glpkBackend } from './glpk.ts';
import { highsBackend } from './highs.ts';
import { jslpBackend } from './jslp.ts';
import { errorMessage } from './support.ts';
import { BACKEND_NAMES, type Backend, type BackendName } from './types.ts';

/** Wraps a backend so that a thrown exception or rejected promise becomes an `error` result. */
export function neverThrowing(backend: Backend): Backend {
  return {
    name: backend.name,
    capabilities: backend.capabilities,
    async solve(model: Model, options?: MilpSolveOptions): Promise<MilpResult> {
      const startMs = performance.now();
      try {
        return await backend.solve(model, options);
      } catch (error) {
        return {
          backend: backend.name,
          termination: 'error',
          solution: null,
          message: errorMessage(error),
          timeSeconds: (performance.now() - startMs) / 1000,
        };
      }
    },
  };
}

const BACKENDS: Readonly<Record<BackendName, Backend>> = {
  highs: neverThrowing(highsBackend),
  glpk: neverThrowing(glpkBackend),
  jslp: neverThrowing(jslpBackend),
};

export function getBackend(name: BackendName): Backend {
  return BACKENDS[name];
}

/** Every backend, in the order of BACKEND_NAMES (HiGHS first: it is the default). */
export function listBackends(): readonly Backend[] {
  return BACKEND_NAMES.map((name) => BACKENDS[name]);
}

export function solveWith(name: BackendName, model: Model, options?: MilpSolveOptions): Promise<MilpResult> {
  return getBackend(name).solve(model, options);
}
