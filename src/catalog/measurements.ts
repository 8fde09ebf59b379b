/**
 * datasets/measurements/*.json: published measured memory and speed figures the cost model is
 * validated against (`edgeplan reproduce measurements`). Format: docs/datasets.md.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DTYPES } from '../cost/units.ts';
import { jsonPath } from '../errors.ts';
import { modelRefSchema } from './schemas.ts';

/** The runtime ids issue 15 names; every measurement row uses one. */
export const MEASUREMENT_RUNTIMES = [
  'vllm',
  'tensorrt-llm',
  'fastertransformer',
  'llama.cpp',
  'transformers',
  'pytorch-training',
] as const;

export const MEMORY_SCOPES = ['device-used', 'framework-peak-allocated', 'weights'] as const;
export type MemoryScope = (typeof MEMORY_SCOPES)[number];

const positive = z.number().positive().finite();
const count = z.number().int().nonnegative();

export const measurementSchema = z
  .strictObject({
    id: z.string().min(1),
    model: modelRefSchema,
    device: z.string().min(1),
    deviceCount: z.number().int().positive(),
    parallelism: z.enum(['single', 'tensor', 'layer-split']),
    runtime: z.enum(MEASUREMENT_RUNTIMES),
    runtimeVersion: z.string().min(1),
    runtimeOptions: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    weightFormat: z.string().min(1),
    /**
     * The published checkpoint stores the output head as its own tensor although the model ties it to
     * the embedding (e.g. Qwen2.5's AWQ checkpoints): the framework loads it before tying, so a peak
     * taken since start-up counts it once.
     */
    checkpointStoresTiedHead: z.boolean().optional(),
    weightDtype: z.enum(DTYPES),
    kvDtype: z.enum(DTYPES),
    batch: z.number().int().positive(),
    promptTokens: count,
    outputTokens: count,
    measured: z
      .strictObject({
        memoryBytes: positive.optional(),
        decodeTokensPerSecond: positive.optional(),
        prefillTokensPerSecond: positive.optional(),
        outputTokensPerSecondEndToEnd: positive.optional(),
        endToEndSeconds: positive.optional(),
      })
      .refine((m) => Object.keys(m).length > 0, 'at least one measured value'),
    memoryScope: z.enum(MEMORY_SCOPES).optional(),
    reported: z.string().min(1),
    source: z.string().min(40),
    notes: z.string().min(1).optional(),
    /** Why the row is believed to be a misprint in its source: reported, but left out of the summary statistics. */
    suspect: z.string().min(1).optional(),
  })
  .refine((r) => (r.measured.memoryBytes === undefined) === (r.memoryScope === undefined), {
    message: 'memoryScope is given exactly when memoryBytes is',
  })
  .refine((r) => (r.deviceCount === 1) === (r.parallelism === 'single'), {
    message: 'parallelism is single exactly when one device is used',
  });
export type Measurement = z.infer<typeof measurementSchema>;

export interface MeasurementRow extends Measurement {
  /** The file the row came from. */
  readonly file: string;
}

/** Every row of every file in `dir` (default datasets/measurements), validated; ids unique across files. */
export function loadMeasurements(dir: string): MeasurementRow[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const rows: MeasurementRow[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const doc: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const parsed = z
      .object({ description: z.string().min(1), measurements: z.array(measurementSchema) })
      .safeParse(doc);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`measurements file ${file} is invalid at ${jsonPath(issue.path)}: ${issue.message}`);
    }
    for (const r of parsed.data.measurements) {
      if (seen.has(r.id)) throw new Error(`measurement id ${r.id} appears twice (${file})`);
      seen.add(r.id);
      rows.push({ ...r, file });
    }
  }
  return rows;
}
