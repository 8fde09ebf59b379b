/** Batch solving (`edgeplan batch`, `merge`, `summarize`, `grid`): the public part, re-exported by src/api.ts. */
export { runBatch, recordLine } from './run.ts';
export type { BatchOptions, BatchStats } from './run.ts';
export { defaultWorkers } from './pool.ts';
export { inShard, parseShard, resolveShard, shardOf, stableHash, WHOLE } from './shard.ts';
export type { Shard } from './shard.ts';
export { compareIds, inputIds, mergeFiles } from './merge.ts';
export type { MergeOptions, MergeReport } from './merge.ts';
export { formatSummary, readRecords, summarizeRecords, summaryTables } from './summarize.ts';
export type { BatchSummary, Failure, KindOutcomes, MethodTimes, PeerOutcomes } from './summarize.ts';
export { baseNames, gridLines, gridSize, parseGridSweep, MAX_GRID_LINES } from './grid.ts';
export type { GridBase, GridLine, GridSweep } from './grid.ts';
export type { BatchError, BatchPeer, BatchRecord, BatchTask, TaskOptions } from './types.ts';
