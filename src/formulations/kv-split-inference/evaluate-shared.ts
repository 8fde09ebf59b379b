/**
 * What the two-tier (evaluate.ts) and three-tier (evaluate-three-tier.ts) re-checks share: each
 * tier's load (what one tier — the edge server, or the cloud — holds and how long its batched decode
 * step takes, from the layer range each user runs there) and a served user's own limits (privacy
 * floor, device memory, latency SLO), each written once.
 *
 * It reads the per-user and per-row cost coefficients and the row roofline from cost.ts (the cost
 * model), but not the search's code for what a tier runs (serverStateOf, three-tier.ts, the MILP):
 * those work row by row with participation thresholds, while this starts from the ranges the
 * decision gives and derives the loaded rows, the head, the adapters, the KV and the work buffers
 * from them, in the words of the docs page.
 */
import { excessOver, withinLimit } from '../tolerance.ts';
import type { Violation } from '../types.ts';
import { gb, ms, rowRooflineSeconds, type KvTables, type TierRates, type UserCutCost } from './cost.ts';
import type { KvProblem, KvUser } from './schema.ts';

/** User u runs decoder layers from..to (inclusive; none when from > to) on the tier, and its head when `head`. */
export interface TierRange {
  readonly u: number;
  readonly from: number;
  readonly to: number;
  readonly head: boolean;
}

export interface TierLoad {
  /** Decoder layers the tier keeps loaded (each once, whatever the number of users), ascending. */
  readonly layers: readonly number[];
  readonly head: boolean;
  readonly stepSeconds: number;
  readonly weightBytes: number;
  readonly adapterBytes: number;
  /** Per variant: the decoder layers its adapter is loaded in (0 for an adapter without bytes). */
  readonly adapterLayers: readonly number[];
  readonly kvBytes: number;
  readonly workspaceBytes: number;
  /** Users that run anything on the tier (a layer or the head). */
  readonly users: number;
}

/**
 * The tier loads every row some user runs there, once (weights shared by the batch); a row's time
 * is the roofline over the batch of the users that run it, with their variants' adapter FLOPs;
 * variant v's adapter sits in every decoder row a user of v runs there, and its bytes are read in
 * the step; each user keeps the KV of its own layers on the tier; the work buffers are those of the
 * longest prompt among the tier's users.
 */
export function tierLoad(
  problem: KvProblem,
  tables: KvTables,
  ranges: readonly TierRange[],
  rates: TierRates,
): TierLoad {
  const L = tables.layers;
  const present = ranges.filter((r) => r.from <= r.to || r.head);
  const variantOf = (u: number): number | null => problem.users[u].variant;
  const layers: number[] = [];
  const adapterLayers = problem.variants.map(() => 0);
  let head = false;
  let stepSeconds = 0;
  let weightBytes = 0;
  let adapterBytes = 0;
  for (const row of tables.rows) {
    const isHead = row.kind === 'head';
    const runs = present.filter((r) => (isHead ? r.head : r.from <= row.index && row.index <= r.to));
    if (runs.length === 0) continue;
    if (isHead) head = true;
    else layers.push(row.index);
    weightBytes += row.residentBytes;
    let flops = 0;
    let traffic = row.readBytes;
    for (const r of runs) {
      flops += row.userFlops[r.u];
      traffic += row.userTrafficBytes[r.u];
      const v = variantOf(r.u);
      if (v !== null && !isHead) flops += row.adapterFlopsPerToken[v];
    }
    if (!isHead) {
      problem.variants.forEach((_, v) => {
        if (row.adapterBytes[v] > 0 && runs.some((r) => variantOf(r.u) === v)) {
          adapterBytes += row.adapterBytes[v];
          traffic += row.adapterBytes[v];
          adapterLayers[v]++;
        }
      });
    }
    stepSeconds += rowRooflineSeconds(row, flops, traffic, rates);
  }
  // KV per layer: the server-side KV at cut L − 1, i.e. of one layer (with the user's own format and runtime).
  const kvPerLayer = (u: number): number => tables.users[u][L - 1].serverKvBytes;
  const kvBytes = present.reduce((s, r) => s + Math.max(0, r.to - r.from + 1) * kvPerLayer(r.u), 0);
  const workspaceBytes = Math.max(0, ...present.map((r) => tables.workspaceBytes[r.u]));
  return {
    layers,
    head,
    stepSeconds,
    weightBytes,
    adapterBytes,
    adapterLayers,
    kvBytes,
    workspaceBytes,
    users: present.length,
  };
}

/** User u keeps c layers on its device: below its privacy floor (minDeviceLayers) is a violation. */
export function checkPrivacyFloor(violations: Violation[], user: KvUser, u: number, c: number): void {
  if (c < user.minDeviceLayers)
    violations.push({
      constraint: `users[${u}].privacy-floor`,
      message: `${user.name} keeps ${c} layers on its device, its privacy floor is ${user.minDeviceLayers}`,
    });
}

/**
 * User u's device at cut c (its costs k): with weight streaming off, everything it keeps must fit; with it on,
 * its KV cache plus the one layer it streams at a time must.
 */
export function checkDeviceMemory(
  violations: Violation[],
  problem: KvProblem,
  user: KvUser,
  u: number,
  c: number,
  k: UserCutCost,
): void {
  const device = user.device;
  if (k.deviceStreams && !problem.deviceWeightStreaming)
    violations.push({
      constraint: `users[${u}].device-memory`,
      message:
        `${user.name} needs ${gb(k.deviceResidentBytes)} on its device for ${c} layers, ` +
        `the ${device.name} has ${gb(device.memoryBytes)} and streaming is off`,
      excess: k.deviceResidentBytes - device.memoryBytes,
    });
  else if (!withinLimit(k.deviceNeedBytes, device.memoryBytes))
    violations.push({
      constraint: `users[${u}].device-memory`,
      message:
        `${user.name} needs ${gb(k.deviceNeedBytes)} on its device for ${c} layers (KV cache plus one streamed ` +
        `layer), the ${device.name} has ${gb(device.memoryBytes)}`,
      excess: excessOver(k.deviceNeedBytes, device.memoryBytes),
    });
}

/** User u's per-token latency against its SLO, if it has one. */
export function checkLatencySlo(violations: Violation[], user: KvUser, u: number, latencySeconds: number): void {
  if (user.latencySloSeconds !== null && !withinLimit(latencySeconds, user.latencySloSeconds))
    violations.push({
      constraint: `users[${u}].latency-slo`,
      message: `${user.name}'s per-token latency is ${ms(latencySeconds)}, its SLO is ${ms(user.latencySloSeconds)}`,
      excess: excessOver(latencySeconds, user.latencySloSeconds),
    });
}
