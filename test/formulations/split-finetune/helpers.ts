/** Small generated split-finetune instances for property tests (tiny inline model and devices). */
import fc from 'fast-check';
import type { SplitFinetuneInput } from '../../../src/formulations/split-finetune/schema.ts';

export const tinyModel = {
  id: 'tiny-lm',
  name: 'tiny LM',
  layers: 4,
  hiddenSize: 64,
  heads: 4,
  kvHeads: 4,
  headDim: 16,
  ffnHiddenSize: 256,
  ffnKind: 'mlp' as const,
  vocabSize: 500,
  maxContext: 64,
  positionEmbedding: 'learned' as const,
  bias: true,
  tiedEmbeddings: true,
  dtype: 'fp16' as const,
  source: 'test fixture',
};

export function tinyDevice(
  id: string,
  peakFlopsPerSecond: number,
  memoryBytes: number,
  activePowerWatts = 5,
  transmitPowerWatts = 0.5,
) {
  return {
    id,
    name: id,
    peakFlopsPerSecond,
    memoryBytes,
    memoryBandwidthBytesPerSecond: 50e9,
    storageReadBytesPerSecond: 2e9,
    computeEfficiency: 0.5,
    bandwidthEfficiency: 0.8,
    perCallOverheadSeconds: 1e-5,
    activePowerWatts,
    transmitPowerWatts,
    source: 'test fixture',
  };
}

export interface TinyOptions {
  readonly layers: number;
  readonly clients: {
    readonly flops: number;
    readonly memoryBytes: number;
    readonly uplink: number;
    readonly power: number;
  }[];
  readonly subchannelsExtra: number;
  readonly serverMemoryBytes: number;
  readonly serverFlops: number;
  readonly cutPolicy: 'per-client' | 'shared';
  readonly objective: 'round-time' | 'total-time' | 'device-energy' | 'weighted';
  readonly epochs: number;
  readonly maxFreezingRatio: number;
}

export function tinyInput(o: TinyOptions): SplitFinetuneInput {
  const K = o.clients.length;
  return {
    kind: 'split-finetune',
    model: { ...tinyModel, layers: o.layers },
    lora: { rank: 4, targets: ['q', 'v'] },
    batchSize: 4,
    sequenceLength: 32,
    samplesPerClient: 40,
    epochs: o.epochs,
    aggregationIntervalRounds: 5,
    server: { device: tinyDevice('tiny-server', o.serverFlops, o.serverMemoryBytes, 300, 0) },
    clients: o.clients.map((c, k) => ({
      name: `c${k}`,
      device: tinyDevice(`tiny-client-${k}`, c.flops, c.memoryBytes, c.power, 0.5),
      link: {
        id: `tiny-link-${k}`,
        name: 'tiny link',
        uplinkBitsPerSecond: c.uplink,
        downlinkBitsPerSecond: 2 * c.uplink,
        latencySeconds: 0.002,
        source: 'test fixture',
      },
    })),
    subchannels: K + o.subchannelsExtra,
    subchannelRateFraction: 0.25,
    cutPolicy: o.cutPolicy,
    objective: o.objective,
    ...(o.objective === 'weighted' ? { weights: { perSecond: 1, perJoule: 0.05 } } : {}),
    accuracy: { maxFreezingRatio: o.maxFreezingRatio },
  };
}

/**
 * Memory figures for the tiny model: a layer is ≈ 0.1 MB of fp16 weights; activations ≈ 0.3 MB per
 * trainable layer at batch 4 — so memories of 0.5–3 MB make client and server limits bind.
 */
export const tinyArb = (maxClients = 3): fc.Arbitrary<TinyOptions> =>
  fc.record({
    layers: fc.integer({ min: 2, max: 4 }),
    clients: fc.array(
      fc.record({
        flops: fc.constantFrom(1e9, 4e9, 2e10),
        memoryBytes: fc.constantFrom(0.6e6, 1.2e6, 2e6, 4e6),
        uplink: fc.constantFrom(2e6, 10e6, 50e6),
        power: fc.constantFrom(2, 8),
      }),
      { minLength: 1, maxLength: maxClients },
    ),
    subchannelsExtra: fc.integer({ min: 0, max: 2 }),
    serverMemoryBytes: fc.constantFrom(2e6, 3.5e6, 6e6, 20e6),
    serverFlops: fc.constantFrom(5e10, 5e11),
    cutPolicy: fc.constantFrom('per-client' as const, 'shared' as const),
    objective: fc.constantFrom(
      'round-time' as const,
      'total-time' as const,
      'device-energy' as const,
      'weighted' as const,
    ),
    epochs: fc.integer({ min: 1, max: 3 }),
    maxFreezingRatio: fc.constantFrom(0, 0.5, 1),
  });
