/**
 * `edgeplan batch`: JSONL in, JSONL out. Instances of this process's shard are handed to a worker
 * pool as the input is read (a bounded number in flight), and each result line is appended to OUT
 * the moment it arrives — one write(2) per line — so a killed run loses at most the instances in
 * flight. Re-running with the same OUT takes up where it stopped: ids with a result are skipped; a
 * line cut short by the kill and error lines (a bad line may have been fixed since, a crash may
 * not recur) are dropped and done again.
 */
import {
  createReadStream,
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.ts';
import { baseDirOf, duplicateId, errorRecord, parseLine, type LineContext } from './input.ts';
import { createRunner, type TaskRunner } from './pool.ts';
import { inShard, WHOLE, type Shard } from './shard.ts';
import type { BatchRecord, TaskOptions } from './types.ts';

export interface BatchOptions {
  /** JSONL input file (resolved against `cwd`). */
  readonly input: string;
  /** JSONL output file, appended to (resumed) unless `force`. */
  readonly out: string;
  readonly cwd?: string;
  /** Worker threads; 0 runs in the caller's thread. */
  readonly workers: number;
  readonly shard?: Shard;
  /** Solve options for every line (a line's own `options` override them). */
  readonly defaults?: TaskOptions;
  readonly withPeers?: boolean;
  /** Recompute every instance: OUT is emptied first. */
  readonly force?: boolean;
  /** Called after each line is written (progress). */
  readonly onRecord?: (record: BatchRecord, stats: BatchStats) => void;
}

export interface BatchStats {
  readonly shard: Shard;
  readonly workers: number;
  /** Non-blank input lines read. */
  lines: number;
  /** Lines of other shards. */
  otherShards: number;
  /** Lines of this shard already in OUT (resume). */
  skipped: number;
  /** Lines of this shard solved (or reported as errors) by this run. */
  written: number;
  /** Dropped from OUT on resume to be done again: a cut-off last line, unreadable lines, error lines. */
  dropped: number;
  byTermination: Record<string, number>;
  inputErrors: number;
  internalErrors: number;
  /** Sum of the solve times of the lines written (without peers). */
  solveSeconds: number;
  wallSeconds: number;
}

/** Lines of OUT kept on resume, by id, with the hash of the input that produced them. */
interface Done {
  readonly ids: Map<string, string>;
  readonly dropped: number;
}

export function recordLine(record: BatchRecord): string {
  // JSON has no Infinity: write it as a string, as every edgeplan JSON report does.
  return JSON.stringify(record, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) && !Number.isNaN(v) ? String(v) : v,
  );
}

function readRecord(text: string): BatchRecord | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || !('id' in value) || typeof value.id !== 'string') return null;
    return value as BatchRecord;
  } catch {
    return null;
  }
}

/**
 * Reads OUT for resume. Lines to drop (cut off, unreadable, errors) are removed by
 * rewriting the file (write a copy, then rename over it) before anything is appended, so the
 * final file never holds two lines for one id.
 */
async function readDone(path: string): Promise<Done> {
  const ids = new Map<string, string>();
  if (!existsSync(path)) return { ids, dropped: 0 };
  const kept: string[] = [];
  let dropped = 0;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const text of lines) {
    if (text.trim() === '') continue;
    const record = readRecord(text);
    if (record === null || record.error !== null || ids.has(record.id)) {
      dropped++;
      continue;
    }
    ids.set(record.id, record.inputHash);
    kept.push(text);
  }
  if (dropped > 0) {
    const tmp = `${path}.resume-${process.pid}`;
    const fd = openSync(tmp, 'w');
    try {
      for (const text of kept) writeSync(fd, `${text}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } else {
    ensureTrailingNewline(path);
  }
  return { ids, dropped };
}

/** A last line that parsed but lost its newline would glue onto the next append. */
function ensureTrailingNewline(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeSync(fd, '\n', size);
  } finally {
    closeSync(fd);
  }
}

function count(stats: BatchStats, record: BatchRecord): void {
  stats.written++;
  stats.solveSeconds += record.timeSeconds;
  if (record.error !== null) {
    if (record.error.kind === 'internal') stats.internalErrors++;
    else stats.inputErrors++;
  } else if (record.termination !== null) {
    stats.byTermination[record.termination] = (stats.byTermination[record.termination] ?? 0) + 1;
  }
}

export async function runBatch(options: BatchOptions): Promise<BatchStats> {
  const t0 = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const inputPath = resolve(cwd, options.input);
  const outPath = resolve(cwd, options.out);
  if (inputPath === outPath) throw new UsageError('--out must not be the input file');
  if (!existsSync(inputPath)) throw new UsageError(`${options.input}: no such file`);
  if (statSync(inputPath).isDirectory()) throw new UsageError(`${options.input}: is a directory, not a JSONL file`);
  if (!Number.isInteger(options.workers) || options.workers < 0) {
    throw new UsageError(`workers must be an integer ≥ 0, got ${options.workers}`);
  }
  const shard = options.shard ?? WHOLE;
  const stats: BatchStats = {
    shard,
    workers: options.workers,
    lines: 0,
    otherShards: 0,
    skipped: 0,
    written: 0,
    dropped: 0,
    byTermination: {},
    inputErrors: 0,
    internalErrors: 0,
    solveSeconds: 0,
    wallSeconds: 0,
  };
  let done: Done;
  if (options.force === true) {
    closeSync(openSync(outPath, 'w'));
    done = { ids: new Map(), dropped: 0 };
  } else {
    try {
      done = await readDone(outPath);
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
      throw new UsageError(`--out ${options.out}: cannot read it to resume (${code})`);
    }
  }
  stats.dropped = done.dropped;
  let fd: number;
  try {
    fd = openSync(outPath, 'a');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new UsageError(`--out ${options.out}: cannot write (${code})`);
  }
  const context: LineContext = {
    baseDir: baseDirOf(options.input, cwd),
    defaults: options.defaults ?? {},
    withPeers: options.withPeers === true,
  };
  const write = (record: BatchRecord): void => {
    writeSync(fd, `${recordLine(record)}\n`);
    count(stats, record);
    options.onRecord?.(record, stats);
  };
  // Made on the first instance to solve: a resumed run with nothing left pays no thread start-up.
  let runner: TaskRunner | null = null;
  // Enough queued work to keep every thread busy while the main thread reads and writes.
  const maxInFlight = Math.max(2, 2 * options.workers);
  const inFlight = new Set<Promise<void>>();
  const seen = new Map<string, number>();
  let stale: string | null = null;
  try {
    const lines = createInterface({ input: createReadStream(inputPath, 'utf8'), crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const text of lines) {
      lineNumber++;
      const parsed = parseLine(lineNumber === 1 ? text.replace(/^\uFEFF/, '') : text, lineNumber, context);
      if (parsed.type === 'blank') continue;
      stats.lines++;
      let id = parsed.type === 'task' ? parsed.task.id : parsed.record.id;
      let record = parsed.type === 'error' ? parsed.record : null;
      const first = seen.get(id);
      if (first !== undefined) {
        const rule = `duplicate id "${id}" (first on line ${first}); ids must be unique`;
        id = duplicateId(id, lineNumber);
        record = errorRecord(id, lineNumber, { path: '$.id', rule, line: lineNumber, kind: 'input' });
      } else seen.set(id, lineNumber);
      if (!inShard(id, shard)) {
        stats.otherShards++;
        continue;
      }
      const hash = parsed.type === 'task' && record === null ? parsed.task.inputHash : '';
      const doneHash = done.ids.get(id);
      if (doneHash !== undefined && doneHash !== hash) {
        // Stop feeding the pool: what OUT holds was computed from something else.
        stale = `${id} (line ${lineNumber})`;
        break;
      }
      if (doneHash !== undefined) {
        stats.skipped++;
        continue;
      }
      if (record !== null || parsed.type !== 'task') {
        write(record ?? errorRecord(id, lineNumber, { rule: 'unreadable line', line: lineNumber, kind: 'input' }));
        continue;
      }
      const task = parsed.task;
      runner ??= createRunner(options.workers);
      const job = runner
        .run(task)
        .catch((error: unknown) => {
          const why = error instanceof Error ? error.message : String(error);
          return errorRecord(
            task.id,
            task.line,
            { rule: `worker failed: ${why}`, line: task.line, kind: 'internal' },
            task.inputHash,
          );
        })
        .then(write)
        .finally(() => inFlight.delete(job));
      inFlight.add(job);
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.allSettled(inFlight);
    await runner?.close();
    fsyncSync(fd);
    closeSync(fd);
  }
  if (stale !== null) {
    throw new UsageError(
      `--out ${options.out} holds a result for ${stale} from a different problem or options ` +
        '(changed input, --time-limit, --backend or --with-peers); use --force to recompute, or another --out',
    );
  }
  stats.wallSeconds = (performance.now() - t0) / 1000;
  return stats;
}
