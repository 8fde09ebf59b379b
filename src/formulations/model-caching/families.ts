/**
 * Builders for families of models that share parameters: a base with LoRA adapters (every
 * variant shares the whole base), and full fine-tunes that share the embedding and bottom
 * layers of a common base (each variant owns its upper layers and head).
 */
import type { ModelSpec } from '../../cost/model.ts';
import { embeddingParams, headParams, layerParams, totalParams, weightBytes } from '../../cost/model.ts';
import { loraParamsPerLayer, type LoraTarget } from '../../cost/training.ts';
import type { Block } from './schema.ts';

export interface BuiltFamily {
  readonly blocks: Block[];
  readonly models: { id: string; blocks: string[] }[];
}

type FamilyInput =
  | { type: 'lora'; id: string; adapters: number; rank: number; targets: readonly LoraTarget[]; includeBase: boolean }
  | { type: 'fine-tune'; id: string; variants: number; sharedBottomLayers: number };

function layerRangeParams(model: ModelSpec, first: number, last: number): number {
  let s = 0;
  for (let l = first; l <= last; l++) s += layerParams(model, l);
  return s;
}

export function buildCatalogFamily(family: FamilyInput, model: ModelSpec): BuiltFamily {
  if (family.type === 'lora') {
    const base = { id: `${family.id}/base`, sizeBytes: weightBytes(totalParams(model), model.dtype) };
    const adapterBytes = weightBytes(
      loraParamsPerLayer(model, { rank: family.rank, targets: family.targets }) * model.layers,
      model.dtype,
    );
    const blocks: Block[] = [base];
    const models: { id: string; blocks: string[] }[] = [];
    if (family.includeBase) models.push({ id: `${family.id}/base`, blocks: [base.id] });
    for (let i = 1; i <= family.adapters; i++) {
      const adapter = { id: `${family.id}/lora-${i}/adapter`, sizeBytes: adapterBytes };
      blocks.push(adapter);
      models.push({ id: `${family.id}/lora-${i}`, blocks: [base.id, adapter.id] });
    }
    return { blocks, models };
  }
  const k = family.sharedBottomLayers;
  const shared = {
    id: `${family.id}/bottom-${k}`,
    sizeBytes: weightBytes(embeddingParams(model) + layerRangeParams(model, 1, k), model.dtype),
  };
  const topBytes = weightBytes(layerRangeParams(model, k + 1, model.layers) + headParams(model), model.dtype);
  const blocks: Block[] = [shared];
  const models: { id: string; blocks: string[] }[] = [];
  for (let i = 1; i <= family.variants; i++) {
    const top = { id: `${family.id}/ft-${i}/top`, sizeBytes: topBytes };
    blocks.push(top);
    models.push({ id: `${family.id}/ft-${i}`, blocks: [shared.id, top.id] });
  }
  return { blocks, models };
}
