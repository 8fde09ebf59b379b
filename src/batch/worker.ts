/**
 * The worker thread's task handler. Each worker imports the backends once, so each holds one WASM
 * solver instance of its own (they load their runtime lazily per module instance), reused for
 * every instance it is handed.
 */
import { runTask } from './task.ts';
import type { BatchRecord, BatchTask } from './types.ts';

export default function handle(task: BatchTask): Promise<BatchRecord> {
  return runTask(task);
}
