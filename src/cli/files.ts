/**
 * File I/O at the CLI's edge: size limit before parsing, JSON syntax errors with line and column,
 * and InputErrors that remember which file they came from.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError, UsageError, expandHuggingFace, modelFileFormat, readModelFile } from '../api-core.ts';

/** Input files larger than this are rejected before they are read. */
export const MAX_INPUT_BYTES = 20 * 1024 * 1024;

// An InputError found in a named file; the CLI prints the file after the path and rule.
export { FileInputError } from './file-error.ts';
import { FileInputError } from './file-error.ts';
import type { CliIo } from './context.ts';

/** Runs `fn`, attaching `file` to any InputError it throws. */
export function inFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof InputError) throw new FileInputError(file, error);
    throw error;
  }
}

export async function inFileAsync<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof InputError) throw new FileInputError(file, error);
    throw error;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Reads a text file (size limit, one-line errors); BOM dropped. */
export function readTextFile(file: string, cwd: string): string {
  return readBytes(file, cwd)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
}

/** Reads and parses a JSON file; every failure is a one-line UsageError or InputError. */
export function readJsonFile(file: string, cwd: string): unknown {
  const path = resolve(cwd, file);
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new UsageError(`${file}: is a directory, not a JSON file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code || String(error)})`}`);
  }
  if (size > MAX_INPUT_BYTES) {
    throw new FileInputError(
      file,
      new InputError('$', `the file is ${megabytes(size)}; input files may be at most ${megabytes(MAX_INPUT_BYTES)}`),
    );
  }
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  return inFile(file, () => parseJsonText(text));
}

/** JSON.parse, with a syntax error reported as `$: invalid JSON at line L column C: …`. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    if (text.trim() === '') throw new InputError('$', 'invalid JSON: the file is empty');
    const offset = syntaxErrorOffset(text, error.message);
    const { line, column } = lineAndColumn(text, offset);
    const nonFinite = /^-?(NaN|Infinity)/.test(text.slice(offset, offset + 9))
      ? ' (JSON has no NaN or Infinity; omit an unbounded side or write null)'
      : '';
    throw new InputError(
      '$',
      `invalid JSON at line ${line} column ${column}: ${describeSyntaxError(error.message)}${nonFinite}`,
    );
  }
}

const POSITION = /in JSON at position (\d+)/;

/**
 * Offset of the first syntax error. V8 states a position for most errors; for the rest
 * ("Unexpected token …", "Unexpected end …") the shortest prefix of the text that already holds
 * the error is found by bisection — a prefix either contains the first error or is merely cut short.
 */
function syntaxErrorOffset(text: string, message: string): number {
  const stated = POSITION.exec(message);
  if (stated !== null) return Number(stated[1]);
  if (/Unexpected end of JSON input/.test(message)) return text.length;
  const holdsError = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (e) {
      const m = e instanceof Error ? e.message : '';
      if (/Unexpected end of JSON input/.test(m)) return false;
      const at = POSITION.exec(m);
      return at === null || Number(at[1]) < k;
    }
  };
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (holdsError(mid + 1)) high = mid;
    else low = mid + 1;
  }
  return low;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function describeSyntaxError(message: string): string {
  const text = message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/, .*is not valid JSON$/s, '');
  if (text === 'Unexpected end of JSON input') return 'unexpected end of input';
  return text.charAt(0).toLowerCase() + text.slice(1);
}

export function writeTextFile(file: string, cwd: string, text: string): void {
  try {
    writeFileSync(resolve(cwd, file), text);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new UsageError(`--out ${file}: cannot write (${code})`);
  }
}

/** Reads all of standard input (a pipe, a file or a terminal until end of input) as UTF-8 text. */
export function readStdinText(): string {
  try {
    return readFileSync(0, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    // EAGAIN: a non-blocking terminal with nothing typed; EOF: no input at all.
    if (code === 'EOF') return '';
    throw new UsageError(`-: cannot read standard input (${code})`);
  }
}

/** A problem read for the CLI: its JSON value, and notes from reading a solver model file (MPS/LP). */
export interface ProblemInput {
  readonly raw: unknown;
  readonly notes: readonly string[];
}

/**
 * The problem named by a CLI argument: `-` is a JSON document on standard input, a `.mps`/`.lp` file (also gzipped)
 * is read into a `milp` problem, anything else is a JSON file.
 */
export function readProblemInput(file: string, cwd: string): ProblemInput {
  if (file === '-') {
    const raw = inFile('<stdin>', () => expandHuggingFace(parseJsonText(readStdinText()), cwd));
    return { raw, notes: [] };
  }
  const format = inFile(file, () => modelFileFormat(file));
  // A Hugging Face config named in the problem is read relative to the problem file (docs/huggingface.md).
  if (format === null) {
    const raw = readJsonFile(file, cwd);
    return { raw: inFile(file, () => expandHuggingFace(raw, dirname(resolve(cwd, file)))), notes: [] };
  }
  const bytes = readBytes(file, cwd);
  const { document, notes } = inFile(file, () => readModelFile(bytes, format, file));
  return { raw: document, notes };
}

/**
 * A command's problem argument read as `solve` reads it (readProblemInput), the notes of a solver model file printed
 * as `edgeplan: note:` lines, with `source`: the name an InputError in the problem carries (`<stdin>` for `-`).
 */
export function readProblemArgument(file: string, io: CliIo): ProblemInput & { readonly source: string } {
  const input = readProblemInput(file, io.cwd);
  for (const note of input.notes) io.stderr(`edgeplan: note: ${note}\n`);
  return { ...input, source: file === '-' ? '<stdin>' : file };
}

function readBytes(file: string, cwd: string): Buffer {
  const path = resolve(cwd, file);
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new UsageError(`${file}: is a directory, not a file`);
    if (stat.size > MAX_INPUT_BYTES) {
      throw new FileInputError(
        file,
        new InputError(
          '$',
          `the file is ${megabytes(stat.size)}; input files may be at most ${megabytes(MAX_INPUT_BYTES)}`,
        ),
      );
    }
    return readFileSync(path);
  } catch (error) {
    if (error instanceof UsageError || error instanceof FileInputError) throw error;
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code || String(error)})`}`);
  }
}

/** One problem of a JSON Lines input: its line number and its value, or the InputError its line raised. */
export type JsonLine =
  { readonly line: number; readonly raw: unknown } | { readonly line: number; readonly error: InputError };

/**
 * Problems in JSON Lines: one JSON document per non-blank line, each with its line number; text that is one JSON
 * document as a whole (e.g. pretty-printed over several lines) is one problem. A line that is not JSON is returned
 * with its error so that the other lines still run.
 */
export function jsonLines(text: string): JsonLine[] {
  try {
    return [{ line: 1, raw: JSON.parse(text) as unknown }];
  } catch {
    // Not one document: read line by line below.
  }
  const out: JsonLine[] = [];
  text.split(/\r?\n/).forEach((lineText, k) => {
    if (lineText.trim() === '') return;
    try {
      out.push({ line: k + 1, raw: parseJsonText(lineText) });
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      out.push({ line: k + 1, error });
    }
  });
  if (out.length === 0) throw new InputError('$', 'no problem: the input is empty');
  return out;
}
