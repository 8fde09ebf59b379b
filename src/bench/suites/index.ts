/**
 * The benchmark suites, one per family. Adding a family to `edgeplan bench` is its suite file in
 * this folder plus one import and one entry below.
 */
import { UsageError } from '../../errors.ts';
import type { BenchSuite } from '../types.ts';
import { suite as kvSplitInference } from './kv-split-inference.ts';
import { suite as milp } from './milp.ts';
import { suite as modelCaching } from './model-caching.ts';
import { suite as moePlacement } from './moe-placement.ts';
import { suite as pipelinePlacement } from './pipeline-placement.ts';
import { suite as parallelPlacement } from './parallel-placement.ts';
import { suite as speculativeThreshold } from './speculative-threshold.ts';
import { suite as splitFinetune } from './split-finetune.ts';
import { suite as fleetServing } from './fleet-serving.ts';
import { suite as splitMoe } from './split-moe.ts';
import { suite as agentPlacement } from './agent-placement.ts';
import { suite as helixHeldout } from './helix-heldout.ts';

export const SUITES: readonly BenchSuite[] = [
  modelCaching,
  splitFinetune,
  pipelinePlacement,
  parallelPlacement,
  kvSplitInference,
  moePlacement,
  speculativeThreshold,
  milp,
  fleetServing,
  agentPlacement,
  splitMoe,
  helixHeldout,
];

export function suiteNames(suites: readonly BenchSuite[] = SUITES): string[] {
  return suites.map((s) => s.kind);
}

/** `all` or one suite by name; a UsageError listing the valid names otherwise. */
export function selectSuites(name: string, suites: readonly BenchSuite[] = SUITES): BenchSuite[] {
  if (name === 'all') return [...suites];
  const found = suites.find((s) => s.kind === name);
  if (found === undefined) throw new UsageError(`unknown suite "${name}"; valid suites: all, ${suiteNames(suites).join(', ')}`);
  return [found];
}
