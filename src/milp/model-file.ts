/**
 * Solver model files ↔ edgeplan: which format a file name means, a file's text read into a `milp` problem document
 * (then parsed, solved, checked and compared like any other), and a compiled Model written as LP or MPS text.
 */
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.ts';
import { toLpText } from './lp-text.ts';
import { readLp } from './lp-reader.ts';
import type { Model } from './model.ts';
import { readMps, writeMps, type ReadModel } from './mps.ts';

export type ModelFileFormat = 'mps' | 'lp';
export const MODEL_FILE_FORMATS: readonly ModelFileFormat[] = ['mps', 'lp'];

/** The model-file format a file name stands for (`.mps`, `.lp`, `.mps.gz`, `.lp.gz`, also `.fixed`/`.free` MPS). */
export function modelFileFormat(file: string): ModelFileFormat | null {
  const name = file.toLowerCase().replace(/\.gz$/, '');
  if (/\.(mps|fixed|free|fmps)$/.test(name)) return 'mps';
  if (name.endsWith('.lp')) return 'lp';
  if (/\.(qps|mpsx)$/.test(name)) {
    throw new InputError('$', `${file}: QPS/MPSX files are not supported (quadratic or extended MPS); give linear MPS`);
  }
  return null;
}

/** File bytes as text: gzip (by its magic number, whatever the name) is inflated. */
export function modelFileText(bytes: Uint8Array): string {
  const gzip = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return new TextDecoder().decode(gzip ? gunzipSync(bytes) : bytes).replace(/^\uFEFF/, '');
}

/** Reads MPS or LP text into a Model with the reader's notes. */
export function readModelText(text: string, format: ModelFileFormat): ReadModel {
  return format === 'mps' ? readMps(text) : readLp(text);
}

/** A Model as LP or MPS text. */
export function writeModelText(model: Model, format: ModelFileFormat): string {
  return format === 'mps' ? writeMps(model) : toLpText(model);
}

/**
 * A Model as a `milp` problem document. A row with no terms is left out when 0 satisfies it (netlib has many: boeing2,
 * brandy, ship04s) and kept with a zero coefficient when it does not, so the model stays infeasible as written.
 * A binary column with bounds other than [0, 1] becomes an integer column with those bounds.
 */
// Null-prototype records: a column named __proto__ is an own key like any other.
const record = (): Record<string, number> => Object.create(null) as Record<string, number>;

export function modelToMilpDocument(model: Model, description: string): { document: unknown; notes: string[] } {
  const notes: string[] = [];
  if (model.variables.length === 0) throw new InputError('$', 'the model has no columns');
  const side = (value: number): number | null => (Number.isFinite(value) ? value : null);
  const variables = model.variables.map((v) => {
    const binary = v.type === 'binary' && v.lower === 0 && v.upper === 1;
    return {
      name: v.name,
      type: binary ? 'binary' : v.type === 'continuous' ? 'continuous' : 'integer',
      ...(binary || v.lower === 0 ? {} : { lower: side(v.lower) }),
      ...(binary || v.upper === Infinity ? {} : { upper: v.upper }),
    };
  });
  let droppedEmpty = 0;
  let droppedFree = 0;
  const constraints: unknown[] = [];
  for (const c of model.constraints) {
    if (c.lower === -Infinity && c.upper === Infinity) {
      droppedFree++;
      continue;
    }
    let terms = record();
    for (const t of c.terms) terms[model.variables[t.variable].name] = t.coefficient;
    if (c.terms.length === 0) {
      if (c.lower <= 0 && 0 <= c.upper) {
        droppedEmpty++;
        continue;
      }
      notes.push(`row ${c.name} has no terms and its bounds exclude 0: the model is infeasible`);
      terms = record();
      terms[model.variables[0].name] = 0;
    }
    constraints.push({
      name: c.name,
      terms,
      ...(c.lower === c.upper ? { equals: c.lower } : {}),
      ...(c.lower !== c.upper && Number.isFinite(c.lower) ? { lower: c.lower } : {}),
      ...(c.lower !== c.upper && Number.isFinite(c.upper) ? { upper: c.upper } : {}),
    });
  }
  if (droppedEmpty > 0) notes.push(`${droppedEmpty} row(s) with no terms and 0 within their bounds left out`);
  if (droppedFree > 0) notes.push(`${droppedFree} row(s) with neither side left out`);
  const objective = record();
  for (const t of model.objective) objective[model.variables[t.variable].name] = t.coefficient;
  const document = {
    kind: 'milp',
    description,
    sense: model.sense,
    variables,
    constraints,
    objective,
    ...(model.objectiveConstant !== 0 ? { objectiveConstant: model.objectiveConstant } : {}),
  };
  return { document, notes };
}

/** A model file's bytes as a `milp` problem document with every note from reading and converting. */
export function readModelFile(
  bytes: Uint8Array,
  format: ModelFileFormat,
  file: string,
): { document: unknown; notes: string[] } {
  const read = readModelText(modelFileText(bytes), format);
  const converted = modelToMilpDocument(read.model, `${read.model.name} (read from ${format.toUpperCase()} ${file})`);
  return { document: converted.document, notes: [...read.notes, ...converted.notes] };
}

export { readMps, writeMps, MPS_INFINITY } from './mps.ts';
export type { ReadModel } from './mps.ts';
export { readLp } from './lp-reader.ts';
export { toLpText } from './lp-text.ts';
