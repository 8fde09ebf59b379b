/**
 * Seeded generator of kv-split-inference problems (raw JSON, as a user would write them): a fleet
 * of heterogeneous users on catalog devices and links, for the benchmark and the tests.
 */
import { mulberry32 as seededRandom } from '../../util/random.ts';

export interface KvFleetOptions {
  readonly seed: number;
  readonly model: string;
  readonly server: string | Record<string, unknown>;
  readonly users: number;
  /** Catalog device ids the users are drawn from, in turn. */
  readonly devices?: readonly string[];
  readonly links?: readonly string[];
  readonly promptTokens?: readonly [number, number];
  readonly outputTokens?: readonly [number, number];
  readonly objective?: 'max' | 'sum';
  /** Number of LoRA variants users are spread over (0: everyone on the base model). */
  readonly variants?: number;
  readonly admission?: boolean;
  readonly prefillBatchSequences?: number;
}

const DEFAULT_DEVICES = ['phone', 'jetson-orin-nx-16gb', 'jetson-agx-orin-32gb', 'apple-m1-max'];
const DEFAULT_LINKS = ['5g-user-experienced', '6g-user-experienced', 'edge-lan', '5g-peak'];

export function generateKvInput(options: KvFleetOptions): Record<string, unknown> {
  const rand = seededRandom(options.seed);
  const between = ([lo, hi]: readonly [number, number]): number => lo + Math.floor(rand() * (hi - lo + 1));
  const devices = options.devices ?? DEFAULT_DEVICES;
  const links = options.links ?? DEFAULT_LINKS;
  const variantCount = options.variants ?? 0;
  const variants = Array.from({ length: variantCount }, (_, v) => ({
    name: `variant-${v + 1}`,
    lora: { rank: [8, 16, 64][v % 3], targets: ['q', 'k', 'v', 'o'] },
  }));
  const users = Array.from({ length: options.users }, (_, i) => {
    const variant = variantCount > 0 ? Math.floor(rand() * (variantCount + 1)) : 0;
    return {
      name: `user-${i + 1}`,
      device: devices[Math.floor(rand() * devices.length)],
      link: links[Math.floor(rand() * links.length)],
      promptTokens: between(options.promptTokens ?? [256, 2048]),
      outputTokens: between(options.outputTokens ?? [64, 512]),
      ...(variant > 0 ? { variant: `variant-${variant}` } : {}),
    };
  });
  return {
    kind: 'kv-split-inference',
    model: options.model,
    ...(variants.length > 0 ? { variants } : {}),
    server: {
      device: options.server,
      ...(options.prefillBatchSequences !== undefined ? { prefillBatchSequences: options.prefillBatchSequences } : {}),
    },
    users,
    objective: options.objective ?? 'max',
    ...(options.admission !== undefined ? { admission: options.admission } : {}),
  };
}
