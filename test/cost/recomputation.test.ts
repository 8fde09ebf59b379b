/**
 * Recomputation costs time (issue 15 item 4): split-finetune's full recomputation replays each
 * trainable layer's forward before its backward, as pipeline-placement counts it — both give a LoRA
 * layer 3 forward-equivalents of FLOPs instead of 2 — and saves the memory it is used for.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layerWorks } from '../../src/formulations/split-finetune/cost.ts';
import { parseSplitFinetune } from '../../src/formulations/split-finetune/schema.ts';
import { trainingActivationBytesPerSample, trainingFlopsMultiplier } from '../../src/cost/training.ts';

const raw = JSON.parse(
  readFileSync(new URL('../../problems/split-finetune/llama-2-7b-10-clients-5g.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

describe('recomputation in split-finetune', () => {
  const none = parseSplitFinetune({ ...raw, recomputation: 'none' });
  const full = parseSplitFinetune({ ...raw, recomputation: 'full' });

  it('full recomputation adds one forward of the layer to its backward (FLOPs and weight reads)', () => {
    const a = layerWorks(none, 5);
    const b = layerWorks(full, 5);
    expect(b.lora.flops).toBe(a.lora.flops);
    expect(b.bwd.flops).toBeCloseTo(a.bwd.flops + a.lora.flops, 0);
    expect(b.bwd.weightBytes).toBe(2 * a.bwd.weightBytes);
    // Same ratio as pipeline-placement's LoRA layer: (multiplier + 1) / multiplier.
    const ratio = (b.lora.flops + b.bwd.flops) / (a.lora.flops + a.bwd.flops);
    expect(ratio).toBeCloseTo((trainingFlopsMultiplier('lora') + 1) / trainingFlopsMultiplier('lora'), 10);
  });

  it('and stores only the layer input', () => {
    const s = none.sequenceLength;
    expect(trainingActivationBytesPerSample(full.model, s, 'full')).toBeLessThan(
      trainingActivationBytesPerSample(none.model, s, 'none') / 10,
    );
  });

  it('defaults to mixed-16 accounting (16 B per trainable parameter)', () => {
    expect(none.accountingName).toBe('mixed-16');
  });
});
