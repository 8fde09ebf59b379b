/**
 * Every problem family, keyed by its `kind`. A family registers itself with one import line and
 * one entry line below; nothing else in the API or CLI needs to change.
 */
import { closeMatches } from '../catalog/index.ts';
import { InputError } from '../errors.ts';
import type { AnyFormulation, Formulation } from './types.ts';
import { milpFormulation } from './milp/index.ts';
import { modelCaching } from './model-caching/index.ts';
import { speculativeThresholdFormulation } from './speculative-threshold/index.ts';
import { kvSplitInferenceFormulation } from './kv-split-inference/index.ts';
import { splitFinetuneFormulation } from './split-finetune/index.ts';
import { pipelinePlacementFormulation } from './pipeline-placement/index.ts';
import { moePlacementFormulation } from './moe-placement/index.ts';
import { parallelPlacementFormulation } from './parallel-placement/index.ts';
import { fleetServingFormulation } from './fleet-serving/index.ts';

// Each family is typed with its own Problem/Decision; the registry holds them type-erased.
const entry = <P, D>(f: Formulation<P, D>): AnyFormulation => f as unknown as AnyFormulation;

export const FORMULATIONS: Readonly<Record<string, AnyFormulation>> = {
  milp: entry(milpFormulation),
  'model-caching': entry(modelCaching),
  'speculative-threshold': entry(speculativeThresholdFormulation),
  'kv-split-inference': entry(kvSplitInferenceFormulation),
  'split-finetune': entry(splitFinetuneFormulation),
  'pipeline-placement': entry(pipelinePlacementFormulation),
  'moe-placement': entry(moePlacementFormulation),
  'parallel-placement': entry(parallelPlacementFormulation),
  'fleet-serving': entry(fleetServingFormulation),
};

export function listKinds(): string[] {
  return Object.keys(FORMULATIONS);
}

/** The family for `kind`, or an InputError at `$.kind` naming the known kinds and the close ones. */
export function getFormulation(kind: string): AnyFormulation {
  if (Object.hasOwn(FORMULATIONS, kind)) return FORMULATIONS[kind];
  const known = listKinds();
  const close = closeMatches(kind, known);
  const hint = close.length > 0 ? `; did you mean ${close.map((k) => `"${k}"`).join(', ')}?` : '';
  throw new InputError('$.kind', `unknown kind "${kind}"${hint}; known kinds: ${known.join(', ')}`);
}
