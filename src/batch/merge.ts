/**
 * `edgeplan merge`: joins the shards' output files into one, one line per id, sorted by id — the
 * same file whatever the shard count or the order in which workers finished. Reports what a
 * cluster run can go wrong with: ids of the input that no shard wrote (with the shard that owns
 * each, so only that task is re-run), ids written twice with different results, unreadable lines.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.ts';
import { OBJECTIVE_RTOL } from '../formulations/tolerance.ts';
import { duplicateId, idOfValue } from './input.ts';
import { shardOf } from './shard.ts';
import type { BatchRecord } from './types.ts';

export interface MergeOptions {
  readonly cwd?: string;
  /** The batch input: ids it holds that no output has are reported missing. */
  readonly input?: string;
  /** The shard count the outputs were made with: missing ids are grouped by the shard that owns them. */
  readonly shards?: number;
}

export interface MergeReport {
  /** One per id, sorted by id (numbers inside ids compare as numbers). */
  readonly records: readonly BatchRecord[];
  readonly files: number;
  /** Lines read (non-blank). */
  readonly lines: number;
  /** Lines repeating an id already kept (the same result twice: a re-run shard). */
  readonly duplicates: number;
  /** Ids written twice with different outcomes, in words. */
  readonly conflicts: readonly string[];
  /** `file:line` of lines that are not batch records (e.g. cut off by a kill). */
  readonly unreadable: readonly string[];
  /** Ids of the input with no line; null without `input`. */
  readonly missing: readonly string[] | null;
  /** Missing ids per shard index (with `shards`). */
  readonly missingByShard: Readonly<Record<number, number>> | null;
  /** Ids in the outputs that the input does not hold (another input's results mixed in); null without `input`. */
  readonly unexpected: readonly string[] | null;
}

/** Natural order: `line-2` before `line-10`; otherwise by UTF-16 code units, so it is the same everywhere. */
export function compareIds(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i], pb[i]];
    if (x === y) continue;
    const digits = /^\d/.test(x) && /^\d/.test(y);
    if (digits && x.length !== y.length) {
      const [nx, ny] = [x.replace(/^0+/, ''), y.replace(/^0+/, '')];
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function isRecordLine(value: unknown): value is BatchRecord {
  return (
    typeof value === 'object' && value !== null && 'id' in value && typeof value.id === 'string' && 'error' in value
  );
}

function outcome(r: BatchRecord): string {
  if (r.error !== null) return `error (${r.error.rule})`;
  return `${r.termination ?? 'none'}${r.objective !== null ? ` ${r.objective}` : ''}`;
}

function sameOutcome(a: BatchRecord, b: BatchRecord): boolean {
  if ((a.error === null) !== (b.error === null)) return false;
  if (a.error !== null) return true;
  if (a.termination !== b.termination) return false;
  if (a.objective === null || b.objective === null) return a.objective === b.objective;
  return (
    Math.abs(a.objective - b.objective) <= OBJECTIVE_RTOL * Math.max(1, Math.abs(a.objective), Math.abs(b.objective))
  );
}

/** The ids of a batch input, as `edgeplan batch` names them (blank lines skipped). */
export async function inputIds(path: string): Promise<string[]> {
  const ids: string[] = [];
  const seen = new Set<string>();
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown = null;
    try {
      value = JSON.parse(line === 1 ? text.replace(/^\uFEFF/, '') : text) as unknown;
    } catch {
      // An unreadable line is still an instance: batch writes an error line for it under line-N.
    }
    let id = idOfValue(value, line);
    if (seen.has(id)) id = duplicateId(id, line);
    seen.add(id);
    ids.push(id);
  }
  return ids;
}

export async function mergeFiles(files: readonly string[], options: MergeOptions = {}): Promise<MergeReport> {
  if (files.length === 0) throw new UsageError('merge needs at least one batch output file');
  const cwd = options.cwd ?? process.cwd();
  const kept = new Map<string, { record: BatchRecord; where: string }>();
  const conflicts: string[] = [];
  const unreadable: string[] = [];
  let lines = 0;
  let duplicates = 0;
  // Sorted, so that which of two conflicting lines is kept does not depend on the shell's glob order.
  for (const file of [...files].sort()) {
    const path = resolve(cwd, file);
    const reader = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
    let line = 0;
    try {
      for await (const text of reader) {
        line++;
        if (text.trim() === '') continue;
        lines++;
        let value: unknown;
        try {
          value = JSON.parse(text) as unknown;
        } catch {
          value = null;
        }
        if (!isRecordLine(value)) {
          unreadable.push(`${file}:${line}`);
          continue;
        }
        const where = `${file}:${line}`;
        const previous = kept.get(value.id);
        if (previous === undefined) {
          kept.set(value.id, { record: value, where });
          continue;
        }
        duplicates++;
        if (sameOutcome(previous.record, value)) continue;
        // A result beats an error line (the error was a crash that a re-run got past).
        if (previous.record.error !== null && value.error === null) {
          kept.set(value.id, { record: value, where });
          continue;
        }
        if (value.error !== null && previous.record.error === null) continue;
        conflicts.push(
          `${value.id}: ${previous.where} says ${outcome(previous.record)}, ` +
            `${where} says ${outcome(value)} (kept the first)`,
        );
      }
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
      throw new UsageError(`${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`);
    }
  }
  const records = [...kept.values()].map((k) => k.record).sort((a, b) => compareIds(a.id, b.id));
  let missing: string[] | null = null;
  let unexpected: string[] | null = null;
  let missingByShard: Record<number, number> | null = null;
  if (options.input !== undefined) {
    let ids: string[];
    try {
      ids = await inputIds(resolve(cwd, options.input));
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
      throw new UsageError(`--input ${options.input}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`);
    }
    const expected = new Set(ids);
    missing = ids.filter((id) => !kept.has(id));
    unexpected = records.map((r) => r.id).filter((id) => !expected.has(id));
    if (options.shards !== undefined) {
      missingByShard = {};
      for (const id of missing) {
        const s = shardOf(id, options.shards);
        missingByShard[s] = (missingByShard[s] ?? 0) + 1;
      }
    }
  }
  return {
    records,
    files: files.length,
    lines,
    duplicates,
    conflicts,
    unreadable,
    missing,
    missingByShard,
    unexpected,
  };
}
