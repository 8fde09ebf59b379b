/**
 * Input lines of `edgeplan batch`. A line is either a problem (an object with `kind`) or a
 * wrapper `{ "id", "problem" | "file", "options", "params" }`. A line that cannot become a task
 * becomes an error record naming the JSON path and the rule — never an exception that stops the
 * batch.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { InputError, inputErrorFromZod } from '../errors.ts';
import { BACKEND_CHOICES } from '../solve/options.ts';
import type { BatchError, BatchRecord, BatchTask, TaskOptions } from './types.ts';

/** Problem files named by `file` larger than this are refused (as `edgeplan solve` does). */
export const MAX_PROBLEM_FILE_BYTES = 20 * 1024 * 1024;

const ID_RULE = 'an id is 1 to 200 characters with no line break';

const optionsSchema = z.strictObject({
  backend: z.enum(BACKEND_CHOICES as [string, ...string[]]).optional(),
  timeLimitSeconds: z.number().positive().optional(),
  mipGap: z.number().nonnegative().optional(),
  nodeLimit: z.number().int().positive().optional(),
});

const idSchema = z.union([z.string(), z.number().int()]).transform((v) => String(v));

const wrapperSchema = z.strictObject({
  id: idSchema.optional(),
  problem: z.record(z.string(), z.unknown()).optional(),
  file: z.string().min(1).optional(),
  options: optionsSchema.optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

/** Key order does not change a JSON value's meaning, so it does not change its hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function inputHash(problem: unknown, options: TaskOptions, withPeers: boolean): string {
  return createHash('sha256').update(canonicalJson({ problem, options, withPeers })).digest('hex');
}

/** The id a line without one gets: its line number, stable while lines are only appended. */
export const lineId = (line: number): string => `line-${line}`;

const validId = (id: string): boolean => id.length > 0 && id.length <= 200 && !/[\r\n]/.test(id);

/**
 * The id of a line's JSON value: its wrapper's `id` when that is a valid one, else `line-N`.
 * `batch` and `merge --input` both use it, so they agree on which ids an input holds.
 */
export function idOfValue(value: unknown, line: number): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'kind' in value || !('id' in value)) {
    return lineId(line);
  }
  const raw = value.id;
  if (typeof raw === 'string' || (typeof raw === 'number' && Number.isInteger(raw))) {
    return validId(String(raw)) ? String(raw) : lineId(line);
  }
  return lineId(line);
}

/** A later line repeating an id becomes an error line of its own, under this id. */
export const duplicateId = (id: string, line: number): string => `${id}#line-${line}`;

export function errorRecord(id: string, line: number, error: BatchError, inputHashValue = ''): BatchRecord {
  return {
    id,
    line,
    params: null,
    kind: null,
    sense: null,
    objectiveLabel: null,
    method: null,
    termination: null,
    primalStatus: null,
    objective: null,
    bound: null,
    gap: null,
    decision: null,
    evaluation: null,
    summary: null,
    explanation: null,
    warnings: [],
    peers: null,
    timeSeconds: 0,
    peerSeconds: null,
    error,
    inputHash: inputHashValue,
  };
}

export interface LineContext {
  /** Directory that `file` entries are resolved against (the input file's). */
  readonly baseDir: string;
  readonly defaults: TaskOptions;
  readonly withPeers: boolean;
}

/** What one input line became: a task, an error line, or nothing (a blank line). */
export type ParsedLine =
  | { readonly type: 'task'; readonly task: BatchTask }
  | { readonly type: 'error'; readonly record: BatchRecord }
  | { readonly type: 'blank' };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readProblemFile(file: string, baseDir: string): unknown {
  const path = resolve(baseDir, file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new InputError('$.file', `cannot read ${file} (${code === 'ENOENT' ? 'no such file' : code})`);
  }
  if (size > MAX_PROBLEM_FILE_BYTES) {
    throw new InputError('$.file', `${file} is ${(size / 2 ** 20).toFixed(1)} MB; problem files may be at most 20 MB`);
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, '')) as unknown;
  } catch (error) {
    throw new InputError(
      '$.file',
      `${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** Turns one input line into a task; every problem with the line is an error record instead. */
export function parseLine(text: string, line: number, context: LineContext): ParsedLine {
  if (text.trim() === '') return { type: 'blank' };
  const fallbackId = lineId(line);
  const fail = (error: InputError, id = fallbackId, file?: string): ParsedLine => ({
    type: 'error',
    record: errorRecord(id, line, {
      path: error.path,
      rule: error.rule,
      line,
      kind: 'input',
      ...(file ? { file } : {}),
    }),
  });
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return fail(new InputError('$', `invalid JSON: ${why.replace(/\s*\n\s*/g, ' ')}`));
  }
  if (!isRecord(value))
    return fail(new InputError('$', 'expected an object: a problem (with "kind") or { "id", "problem" | "file" }'));
  const withPeers = context.withPeers;
  if ('kind' in value) {
    const options = context.defaults;
    return {
      type: 'task',
      task: {
        id: fallbackId,
        line,
        problem: value,
        problemPath: '$',
        options,
        withPeers,
        inputHash: inputHash(value, options, withPeers),
      },
    };
  }
  const parsed = wrapperSchema.safeParse(value, { reportInput: true });
  // The id first, so that an error line of a wrapper with a valid id keeps that id.
  const id = idOfValue(value, line);
  const rawId = value.id;
  if ((typeof rawId === 'string' || typeof rawId === 'number') && id === fallbackId && String(rawId) !== id) {
    return fail(new InputError('$.id', ID_RULE));
  }
  if (!parsed.success) return fail(inputErrorFromZod(parsed.error), id);
  const wrapper = parsed.data;
  if ((wrapper.problem === undefined) === (wrapper.file === undefined)) {
    return fail(
      new InputError('$', 'give exactly one of "problem" (the problem object) or "file" (a problem JSON file)'),
      id,
    );
  }
  let problem: unknown = wrapper.problem;
  if (wrapper.file !== undefined) {
    try {
      problem = readProblemFile(wrapper.file, context.baseDir);
    } catch (error) {
      if (error instanceof InputError) return fail(error, id);
      throw error;
    }
  }
  const options: TaskOptions = { ...context.defaults, ...(wrapper.options as TaskOptions | undefined) };
  const task: BatchTask = {
    id,
    line,
    problem,
    problemPath: wrapper.file !== undefined ? '$' : '$.problem',
    ...(wrapper.file !== undefined ? { file: wrapper.file } : {}),
    options,
    withPeers,
    ...(wrapper.params !== undefined ? { params: wrapper.params } : {}),
    inputHash: inputHash(problem, options, withPeers),
  };
  return { type: 'task', task };
}

export function baseDirOf(inputFile: string, cwd: string): string {
  return dirname(resolve(cwd, inputFile));
}
