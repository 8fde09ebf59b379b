import { describe, expect, it } from 'vitest';
import { inShard, parseShard, resolveShard, shardOf, stableHash } from '../../src/batch/shard.ts';
import { UsageError } from '../../src/errors.ts';

describe('stable hash of ids', () => {
  it('is FNV-1a 32-bit over UTF-8 (published test vectors), so shards never move between versions', () => {
    expect(stableHash('')).toBe(0x811c9dc5);
    expect(stableHash('a')).toBe(0xe40c292c);
    expect(stableHash('foobar')).toBe(0xbf9cf968);
  });

  it('puts every id in exactly one shard, and spreads ids over the shards', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `inst-${i}`);
    const counts = [0, 0, 0, 0];
    for (const id of ids) {
      const owners = [0, 1, 2, 3].filter((index) => inShard(id, { index, count: 4, source: 'test' }));
      expect(owners).toEqual([shardOf(id, 4)]);
      counts[owners[0]]++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(400);
  });
});

describe('--shard I/N', () => {
  it('parses I/N counted from 0 and refuses the rest', () => {
    expect(parseShard('1/4')).toMatchObject({ index: 1, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/0\.\.3/);
    expect(() => parseShard('1/0')).toThrow(UsageError);
    expect(() => parseShard('1-4')).toThrow(/I\/N/);
  });

  it('wins over the environment', () => {
    const env = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' };
    expect(resolveShard({ shard: '0/2', env })).toMatchObject({ index: 0, count: 2 });
  });
});

describe('Slurm array jobs', () => {
  it('reads SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (--array=0-3)', () => {
    const env = { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0' };
    expect(resolveShard({ env })).toMatchObject({ index: 2, count: 4 });
  });

  it('counts from SLURM_ARRAY_TASK_MIN (--array=1-8): task 1 is shard 0, task 8 shard 7', () => {
    const base = { SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '8' };
    expect(resolveShard({ env: { ...base, SLURM_ARRAY_TASK_ID: '1' } })).toMatchObject({ index: 0, count: 8 });
    expect(resolveShard({ env: { ...base, SLURM_ARRAY_TASK_ID: '8' } })).toMatchObject({ index: 7, count: 8 });
  });

  it('follows a step (--array=0-15:4 is tasks 0, 4, 8, 12)', () => {
    const env = {
      SLURM_ARRAY_TASK_ID: '8',
      SLURM_ARRAY_TASK_MIN: '0',
      SLURM_ARRAY_TASK_MAX: '12',
      SLURM_ARRAY_TASK_STEP: '4',
    };
    expect(resolveShard({ env })).toMatchObject({ index: 2, count: 4 });
  });

  it('refuses an irregular list (--array=1,3,7) it cannot map to positions', () => {
    const env = {
      SLURM_ARRAY_TASK_ID: '3',
      SLURM_ARRAY_TASK_COUNT: '3',
      SLURM_ARRAY_TASK_MIN: '1',
      SLURM_ARRAY_TASK_MAX: '7',
    };
    expect(() => resolveShard({ env })).toThrow(/not a regular range/);
  });

  it('with --shards N takes the task id as the shard index, so --array=5,9 re-runs shards 5 and 9', () => {
    const env = {
      SLURM_ARRAY_TASK_ID: '9',
      SLURM_ARRAY_TASK_COUNT: '2',
      SLURM_ARRAY_TASK_MIN: '5',
      SLURM_ARRAY_TASK_MAX: '9',
    };
    expect(resolveShard({ env, shards: 16 })).toMatchObject({ index: 9, count: 16 });
    expect(() => resolveShard({ env: { SLURM_ARRAY_TASK_ID: '16' }, shards: 16 })).toThrow(/0\.\.15/);
  });

  it('refuses a task id without a count or a maximum, and one outside the range', () => {
    expect(() => resolveShard({ env: { SLURM_ARRAY_TASK_ID: '0' } })).toThrow(/--shard/);
    expect(() => resolveShard({ env: { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '4' } })).toThrow(
      /not in the array/,
    );
  });
});

describe('Kubernetes Indexed Jobs', () => {
  it('reads JOB_COMPLETION_INDEX with --shards N from the manifest', () => {
    expect(resolveShard({ env: { JOB_COMPLETION_INDEX: '3' }, shards: 5 })).toMatchObject({ index: 3, count: 5 });
  });

  it('needs --shards, and an index below it', () => {
    expect(() => resolveShard({ env: { JOB_COMPLETION_INDEX: '3' } })).toThrow(/--shards N/);
    expect(() => resolveShard({ env: { JOB_COMPLETION_INDEX: '5' }, shards: 5 })).toThrow(/0\.\.4/);
  });

  it('refuses Slurm and Kubernetes variables at once, and --shards alone', () => {
    const env = { JOB_COMPLETION_INDEX: '0', SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2' };
    expect(() => resolveShard({ env, shards: 2 })).toThrow(/both/);
    expect(() => resolveShard({ env: {}, shards: 3 })).toThrow(/JOB_COMPLETION_INDEX/);
  });

  it('takes everything with no flag and no variable', () => {
    expect(resolveShard({ env: {} })).toMatchObject({ index: 0, count: 1 });
  });
});
