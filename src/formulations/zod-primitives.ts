/**
 * The zod building blocks every family's schema uses, with one wording of each rule, so that a
 * user reads the same message for the same mistake in every kind.
 */
import { z } from 'zod';

export const positive = z.number().positive('must be positive').finite('must be finite');
export const nonNegative = z.number().nonnegative('must not be negative').finite('must be finite');
export const positiveInt = z.number().int('must be a whole number').positive('must be positive');
export const nonNegativeInt = z.number().int('must be a whole number').nonnegative('must not be negative');
export const probability = z.number().min(0, 'must be a probability in [0, 1]').max(1, 'must be a probability in [0, 1]');

/** Fields every problem document may carry besides its own: an editor's schema reference and free text. */
export const documentFields = {
  $schema: z.string().optional().describe('optional JSON Schema reference for editors'),
  description: z.string().optional().describe('free text, ignored by the solver'),
};
