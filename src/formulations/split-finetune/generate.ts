/**
 * Deterministic generator of heterogeneous split-finetune instances (raw problem JSON), used by the
 * benchmark suite's target instances and scaling series.
 */
import type { SplitFinetuneInput } from './schema.ts';
import { mulberry32 as prng } from '../../util/random.ts';

export interface FleetOptions {
  readonly seed: number;
  readonly model: string;
  readonly server: string;
  readonly clients: number;
  readonly subchannels: number;
  /** Device ids cycled over the clients. */
  readonly devices?: readonly string[];
  /** Uplink rates are drawn uniformly in [min, max] (downlink twice the uplink). */
  readonly uplinkBitsPerSecond?: { readonly min: number; readonly max: number };
  readonly batchSize?: number;
  readonly sequenceLength?: number;
  readonly samplesPerClient?: number;
  readonly epochs?: number;
  readonly loraRank?: number;
  readonly maxFreezingRatio?: number;
  readonly objective?: SplitFinetuneInput['objective'];
  readonly cutPolicy?: SplitFinetuneInput['cutPolicy'];
}

export function generateSplitFinetuneInput(o: FleetOptions): SplitFinetuneInput {
  const rand = prng(o.seed);
  const devices = o.devices ?? ['phone', 'jetson-orin-nx-16gb', 'jetson-agx-orin-32gb', 'jetson-agx-orin-64gb'];
  const up = o.uplinkBitsPerSecond ?? { min: 20e6, max: 200e6 };
  const clients = Array.from({ length: o.clients }, (_, k) => {
    const uplink = Math.round((up.min + rand() * (up.max - up.min)) / 1e5) * 1e5;
    return {
      name: `${devices[k % devices.length]}-${k}`,
      device: devices[k % devices.length],
      link: { id: '5g-user-experienced', uplinkBitsPerSecond: uplink, downlinkBitsPerSecond: 2 * uplink },
    };
  });
  return {
    kind: 'split-finetune',
    description:
      `generated fleet (seed ${o.seed}): ${o.clients} clients fine-tune ${o.model} ` +
      `against a ${o.server} over ${o.subchannels} subchannels`,
    model: o.model,
    lora: { rank: o.loraRank ?? 8, targets: ['q', 'v'] },
    batchSize: o.batchSize ?? 2,
    sequenceLength: o.sequenceLength ?? 512,
    samplesPerClient: o.samplesPerClient ?? 400,
    epochs: o.epochs ?? 3,
    recomputation: 'selective',
    server: { device: o.server },
    clients,
    subchannels: o.subchannels,
    cutPolicy: o.cutPolicy ?? 'per-client',
    objective: o.objective ?? 'total-time',
    accuracy: { maxFreezingRatio: o.maxFreezingRatio ?? 0.5 },
  };
}
