import { InputError } from '../../src/errors.ts';

/** The InputError `f` throws; any other outcome (no throw, another error) fails the test. */
export function errorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}
