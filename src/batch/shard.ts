/**
 * Shards: which instances one task of a Slurm array job or a Kubernetes Indexed Job takes.
 *
 * An instance belongs to shard `hash(id) mod N`, by a stable hash of its id (FNV-1a, 32 bits, over
 * the id's UTF-8 bytes). Membership depends on the id alone — not on the line's position, the
 * machine or the number of workers — so re-running a task after a pre-emption takes exactly the
 * same instances, and an input file can be reordered or appended to without moving old ids.
 */
import { UsageError } from '../errors.ts';

export interface Shard {
  /** Counted from 0. */
  readonly index: number;
  readonly count: number;
  /** Where the shard came from, for the run's summary line. */
  readonly source: string;
}

export const WHOLE: Shard = { index: 0, count: 1, source: 'no sharding' };

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-8 bytes of `text`, as an unsigned 32-bit integer. */
export function stableHash(text: string): number {
  let hash = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

export function shardOf(id: string, count: number): number {
  return stableHash(id) % count;
}

export function inShard(id: string, shard: Shard): boolean {
  return shard.count === 1 || shardOf(id, shard.count) === shard.index;
}

/** `I/N` with I counted from 0. */
export function parseShard(text: string, flag = '--shard'): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (match === null) throw new UsageError(`${flag}: expected I/N with I counted from 0 (e.g. 0/4), got "${text}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new UsageError(`${flag}: the shard count must be at least 1, got ${count}`);
  if (index >= count)
    throw new UsageError(`${flag}: the index must lie in 0..${count - 1} (counted from 0), got ${index}`);
  return { index, count, source: flag };
}

type Env = Readonly<Record<string, string | undefined>>;

function envInteger(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\s*-?\d+\s*$/.test(value)) throw new UsageError(`${name}: expected an integer, got "${value}"`);
  return Number(value);
}

/**
 * The shard of a Slurm array task. With `--shards N` the task id is the shard index (an array
 * 0-(N−1); re-running shards 5 and 9 is `--array=5,9`). Without it, Slurm numbers tasks by the ids
 * of `--array` (e.g. 1-8 or 0-15:4), so the index is the task's position in that range:
 * (ID − MIN) / STEP, and the count is SLURM_ARRAY_TASK_COUNT, or (MAX − MIN) / STEP + 1. An
 * irregular list (`--array=1,3,7`) cannot be mapped to positions; that is refused.
 */
function slurmShard(env: Env, shards: number | undefined): Shard | null {
  const id = envInteger(env, 'SLURM_ARRAY_TASK_ID');
  if (id === undefined) return null;
  if (shards !== undefined) {
    if (id < 0 || id >= shards)
      throw new UsageError(`SLURM_ARRAY_TASK_ID=${id} is not a shard index 0..${shards - 1} (--shards ${shards})`);
    return { index: id, count: shards, source: `Slurm array task ${id} of --shards ${shards}` };
  }
  const min = envInteger(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
  const max = envInteger(env, 'SLURM_ARRAY_TASK_MAX');
  const step = envInteger(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
  const stated = envInteger(env, 'SLURM_ARRAY_TASK_COUNT');
  if (step < 1) throw new UsageError(`SLURM_ARRAY_TASK_STEP: expected a positive step, got ${step}`);
  const fromRange = max !== undefined ? Math.floor((max - min) / step) + 1 : undefined;
  const count = stated ?? fromRange;
  if (count === undefined) {
    throw new UsageError(
      'SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is; pass --shards N',
    );
  }
  if (stated !== undefined && fromRange !== undefined && stated !== fromRange) {
    throw new UsageError(
      `the Slurm array is not a regular range (SLURM_ARRAY_TASK_COUNT=${stated}, ` +
        `but MIN=${min}, MAX=${max}, STEP=${step} ` +
        `give ${fromRange} tasks); pass --shards N to use the task ids as shard indices`,
    );
  }
  const offset = id - min;
  if (offset < 0 || offset % step !== 0 || offset / step >= count) {
    throw new UsageError(
      `SLURM_ARRAY_TASK_ID=${id} is not in the array range (MIN=${min}, STEP=${step}, ${count} tasks); pass --shards N`,
    );
  }
  return { index: offset / step, count, source: `Slurm array task ${id} (SLURM_ARRAY_TASK_*)` };
}

/** The shard of a Kubernetes Indexed Job pod: JOB_COMPLETION_INDEX, and `--shards N` from the manifest. */
function kubernetesShard(env: Env, shards: number | undefined): Shard | null {
  const index = envInteger(env, 'JOB_COMPLETION_INDEX');
  if (index === undefined) return null;
  if (shards === undefined) {
    throw new UsageError("JOB_COMPLETION_INDEX is set: pass --shards N with N the Job's completions (or --shard I/N)");
  }
  if (index < 0 || index >= shards)
    throw new UsageError(`JOB_COMPLETION_INDEX=${index} is not in 0..${shards - 1} (--shards ${shards})`);
  return { index, count: shards, source: `Kubernetes completion index ${index} (JOB_COMPLETION_INDEX)` };
}

/**
 * The shard this process takes: `--shard I/N` when given; else a Slurm array task's (the task id
 * itself with `--shards N`); else a Kubernetes Indexed Job's (with `--shards N`); else every
 * instance. Both Slurm and Kubernetes variables at once is ambiguous and refused.
 */
export function resolveShard(options: { shard?: string; shards?: number; env: Env }): Shard {
  if (options.shard !== undefined) {
    const shard = parseShard(options.shard);
    if (options.shards !== undefined && options.shards !== shard.count) {
      throw new UsageError(`--shard ${options.shard} and --shards ${options.shards} disagree on the shard count`);
    }
    return shard;
  }
  const slurm = slurmShard(options.env, options.shards);
  const kubernetes = kubernetesShard(options.env, options.shards);
  if (slurm !== null && kubernetes !== null) {
    throw new UsageError(
      'both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set; pass --shard I/N to say which applies',
    );
  }
  if (slurm !== null) return slurm;
  if (kubernetes !== null) return kubernetes;
  if (options.shards !== undefined && options.shards !== 1) {
    throw new UsageError(
      `--shards ${options.shards} needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or --shard I/N`,
    );
  }
  return WHOLE;
}
