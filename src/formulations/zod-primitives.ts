/**
 * The zod building blocks every family's schema uses, with one wording of each rule, so that a
 * user reads the same message for the same mistake in every kind.
 */
import { z } from 'zod';
import { LORA_TARGETS } from '../cost/training.ts';

export const positive = z.number().positive('must be positive').finite('must be finite');
export const nonNegative = z.number().nonnegative('must not be negative').finite('must be finite');
export const positiveInt = z.number().int('must be a whole number').positive('must be positive');
export const nonNegativeInt = z.number().int('must be a whole number').nonnegative('must not be negative');
export const probability = z
  .number()
  .min(0, 'must be a probability in [0, 1]')
  .max(1, 'must be a probability in [0, 1]');

/** Fields every problem document may carry besides its own: an editor's schema reference and free text. */
export const documentFields = {
  $schema: z.string().optional().describe('optional JSON Schema reference for editors'),
  description: z.string().optional().describe('free text, ignored by the solver'),
};

/** The largest LoRA rank accepted: above every catalog model's hidden size, so a larger one is a typo. */
export const MAX_LORA_RANK = 65_536;

/**
 * The fields of a LoRA adapter (Hu et al., 2021), the same in every family that has one: rank r and the adapted
 * matrices, by default q and v as in the LoRA paper. Spread them into an object that carries other fields too
 * (model-caching's lora families); elsewhere use `loraSchema`.
 */
export const loraFields = {
  rank: positiveInt.max(MAX_LORA_RANK, `must be at most ${MAX_LORA_RANK}`).describe('LoRA rank r'),
  targets: z
    .array(z.enum(LORA_TARGETS))
    .min(1, 'at least one adapted matrix')
    .default(['q', 'v'])
    .describe('adapted matrices of each adapted layer (q k v o gate up down; default q, v)'),
};

/** A LoRA adapter block `{ rank, targets }`. */
export const loraSchema = z.strictObject(loraFields);
