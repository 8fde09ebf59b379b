/**
 * Where batch tasks run: a piscina pool of worker threads (one solver runtime per thread), or the
 * caller's own thread when `workers` is 0 (debugging: stack traces, breakpoints).
 */
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import { runTask } from './task.ts';
import type { BatchRecord, BatchTask } from './types.ts';

export interface TaskRunner {
  /** Worker threads (0: the caller's thread). */
  readonly threads: number;
  run(task: BatchTask): Promise<BatchRecord>;
  close(): Promise<void>;
}

export function defaultWorkers(): number {
  return availableParallelism();
}

export function createRunner(workers: number): TaskRunner {
  if (workers === 0) return { threads: 0, run: runTask, close: async () => {} };
  // piscina is imported with the first task, not with the API (issue 18: fast start).
  let pool: Promise<Piscina<BatchTask, BatchRecord>> | null = null;
  const open = async (): Promise<Piscina<BatchTask, BatchRecord>> => {
    const { Piscina: Pool } = await import('piscina');
    return new Pool<BatchTask, BatchRecord>({
      // From the sources, a bootstrap registers tsx in the thread; compiled (dist/), worker.js runs as is (issue 18).
      filename: new URL(import.meta.url.endsWith('.ts') ? './worker.mjs' : './worker.js', import.meta.url).href,
      minThreads: workers,
      maxThreads: workers,
      // One task per thread at a time: a solve is CPU-bound, interleaving two would only slow both.
      concurrentTasksPerWorker: 1,
      // Threads live for the whole batch: their start-up (tsx, the solver runtime) is paid once.
      idleTimeout: 60 * 60 * 1000,
      // The batch keeps its own bounded queue; piscina's may hold everything handed to it.
      maxQueue: Infinity,
    });
  };
  return {
    threads: workers,
    run: async (task) => {
      pool ??= open();
      return (await pool).run(task);
    },
    close: async () => {
      if (pool !== null) await (await pool).destroy();
    },
  };
}
