/**
 * The three-tier cost model of kv-split-inference (seed §IV-1, §IV-2): per user two cuts
 * c1 ≤ c2 — layers 1..c1 on the device, c1 + 1..c2 on the edge server, c2 + 1..L and the head in
 * the cloud (c2 = L: no cloud part; the edge then holds the head, exactly as with two tiers).
 *
 * - Edge server: a user takes part in row r (threshold t: layer l → l, head → L) iff
 *   c1 < t ≤ c2. The step time is the same per-row roofline over the batch as with two tiers;
 *   the edge holds the rows some user takes part in, the KV of layers c1 + 1..c2 per user and
 *   the work buffers of the longest prompt among the users it runs anything for (c1 < c2).
 * - Cloud: a user takes part in row r iff c2 < t: one batched step of its own, on the cloud's
 *   GPU, over the same rows; memory (weights once, KV of layers c2 + 1..L, buffers) bound only
 *   when the input gives a capacity — the seed's cloud has "virtually unlimited resources".
 * - Backhaul: one transfer per decode step carries every cloud user's hidden state up (the token
 *   id when c2 = 0 needs nothing: the cloud feeds its own token back, as the edge does at cut 0)
 *   and its sampled token id down. Every cloud user waits for the whole batch's bits: a shared
 *   time Σ bits / rate, plus its own per-transfer latency. This is where the backhaul "may become
 *   the bottleneck" (§IV-2): each cloud user makes every other cloud user slower.
 *
 * Per-token latency: device + user link (as with two tiers, from the c1 tables) + [c1 < L]·T_edge
 * + [c2 < L]·(backhaul latency + B + T_cloud). A user whose edge part is empty (c1 = c2 < L) still
 * waits for the edge step: the edge batches per step and sends the cloud-bound activations of the
 * whole batch in one backhaul transfer after it (the synchronous decode loop of an edge server
 * that relays; it also makes the MILP's edge wait linear, [c1 < L] = a[u][L]). Objective: the
 * latency objective (max or sum) plus priceWeightSeconds × Σ_u price_u, price_u = pricePerToken ·
 * (L − c2) / L.
 *
 * The edge's load is no longer monotone in one direction per user (raising c2 adds edge rows,
 * raising c1 removes them, and the cloud and backhaul pull the other way), so the fixed-point
 * descent of exact.ts does not apply; the MILP of milp-three-tier.ts solves it with a certified
 * gap. These functions value decisions for the peers and the warm start; evaluate re-checks
 * independently.
 */
import { activationBytesPerToken } from '../../cost/model.ts';
import { withinLimit } from '../tolerance.ts';
import {
  gb,
  kvTables,
  ms,
  rowRooflineSeconds,
  type Assessment,
  type KvTables,
  type ServerRow,
  type TierRates,
} from './cost.ts';
import type { KvCloud, KvDecision, KvProblem } from './schema.ts';

export interface CloudTables {
  readonly cloud: KvCloud;
  readonly rates: TierRates;
  /** Step time of the cloud with every user entirely in the cloud (c2 = 0): the largest any decision has. */
  readonly maxStepSeconds: number;
  readonly maxRowSeconds: readonly number[];
  /** Per cloud cut c2: bytes up the backhaul per token (hidden state for 1 ≤ c2 < L). */
  readonly upBytes: readonly number[];
  /** Per cloud cut c2: bytes down per token (the token id for c2 < L). */
  readonly downBytes: readonly number[];
  /** Per cloud cut c2: the per-transfer latencies a cloud user pays (0 at c2 = L). */
  readonly latencySeconds: readonly number[];
  /** Per cloud cut c2: seconds its bits occupy the backhaul per token (shared by the batch). */
  readonly workSeconds: readonly number[];
  /** Per cloud cut c2: price per token (pricePerToken · (L − c2) / L). */
  readonly price: readonly number[];
  /** The backhaul time with every user in the cloud at the largest per-user work. */
  readonly maxBackhaulSeconds: number;
}

const cache = new WeakMap<KvProblem, CloudTables>();

export function rowSecondsOf(row: ServerRow, rates: TierRates, users: readonly number[]): number {
  let flops = 0;
  let traffic = row.readBytes;
  for (const u of users) {
    flops += row.userFlops[u];
    traffic += row.userTrafficBytes[u];
  }
  return rowRooflineSeconds(row, flops, traffic, rates);
}

export function cloudTables(problem: KvProblem): CloudTables {
  const hit = cache.get(problem);
  if (hit) return hit;
  const cloud = problem.cloud;
  if (cloud === null) throw new Error('cloudTables needs a cloud tier');
  const tables = kvTables(problem);
  const L = tables.layers;
  const rates: TierRates = {
    computeFlopsPerSecond: cloud.device.peakFlopsPerSecond * cloud.device.computeEfficiency,
    bandwidthBytesPerSecond: cloud.device.memoryBandwidthBytesPerSecond * cloud.device.bandwidthEfficiency,
    perCallOverheadSeconds: cloud.device.perCallOverheadSeconds,
  };
  const everyone = problem.users.map((_, u) => u);
  const maxRowSeconds = tables.rows.map((row) => rowSecondsOf(row, rates, everyone));
  const hidden = activationBytesPerToken(problem.model);
  const upBytes: number[] = [];
  const downBytes: number[] = [];
  const latencySeconds: number[] = [];
  const workSeconds: number[] = [];
  const price: number[] = [];
  const link = cloud.backhaul;
  for (let c = 0; c <= L; c++) {
    const up = c >= 1 && c < L ? hidden : 0;
    const down = c < L ? problem.tokenBytes : 0;
    upBytes.push(up);
    downBytes.push(down);
    latencySeconds.push((up > 0 ? link.latencySeconds : 0) + (down > 0 ? link.latencySeconds : 0));
    workSeconds.push((up * 8) / link.uplinkBitsPerSecond + (down * 8) / link.downlinkBitsPerSecond);
    price.push((cloud.pricePerToken * (L - c)) / L);
  }
  const result: CloudTables = {
    cloud,
    rates,
    maxStepSeconds: maxRowSeconds.reduce((a, b) => a + b, 0),
    maxRowSeconds,
    upBytes,
    downBytes,
    latencySeconds,
    workSeconds,
    price,
    maxBackhaulSeconds: problem.users.length * Math.max(...workSeconds),
  };
  cache.set(problem, result);
  return result;
}

/** The cloud cuts of a decision: as given, or L for everyone (no cloud part). */
export function cloudCutsOf(problem: KvProblem, decision: KvDecision): number[] {
  const L = problem.model.layers;
  return problem.users.map((_, u) => decision.cloudCuts?.[u] ?? L);
}

export interface TierState {
  readonly rowLoaded: readonly boolean[];
  readonly rowSeconds: readonly number[];
  readonly stepSeconds: number;
  readonly weightBytes: number;
  readonly kvBytes: number;
  readonly workspaceBytes: number;
  readonly memoryBytes: number;
  readonly batchUsers: number;
}

export interface ThreeTierState {
  readonly edge: TierState;
  readonly cloud: TierState;
  /** Shared backhaul seconds per step: every cloud user's bits over the link's rates. */
  readonly backhaulSeconds: number;
  /** Per user: per-token latency. */
  readonly latencies: readonly number[];
  /** Σ over users of the per-token price. */
  readonly price: number;
}

/** A tier's load: `takesPart(u, threshold)` says whether user u runs the row with that threshold there. */
function tierState(
  tables: KvTables,
  rates: TierRates,
  users: number,
  takesPart: (u: number, threshold: number) => boolean,
  kvOf: (u: number) => number,
  active: (u: number) => boolean,
): TierState {
  const rowLoaded: boolean[] = [];
  const rowSeconds: number[] = [];
  let weightBytes = 0;
  for (const row of tables.rows) {
    const part: number[] = [];
    for (let u = 0; u < users; u++) if (takesPart(u, row.threshold)) part.push(u);
    rowLoaded.push(part.length > 0);
    if (part.length === 0) {
      rowSeconds.push(0);
      continue;
    }
    weightBytes += row.residentBytes;
    rowSeconds.push(rowSecondsOf(row, rates, part));
  }
  let kvBytes = 0;
  let workspaceBytes = 0;
  let batchUsers = 0;
  for (let u = 0; u < users; u++) {
    if (!active(u)) continue;
    batchUsers++;
    kvBytes += kvOf(u);
    workspaceBytes = Math.max(workspaceBytes, tables.workspaceBytes[u]);
  }
  return {
    rowLoaded,
    rowSeconds,
    stepSeconds: rowSeconds.reduce((a, b) => a + b, 0),
    weightBytes,
    kvBytes,
    workspaceBytes,
    memoryBytes: weightBytes + kvBytes + workspaceBytes,
    batchUsers,
  };
}

/** Edge, cloud and backhaul for given cut pairs (cuts1[u] ≤ cuts2[u]; the caller checks the order). */
export function threeTierStateOf(
  problem: KvProblem,
  cuts1: readonly number[],
  cuts2: readonly number[],
): ThreeTierState {
  const tables = kvTables(problem);
  const cloud = cloudTables(problem);
  const L = tables.layers;
  const U = problem.users.length;
  const edgeRates: TierRates = {
    computeFlopsPerSecond: tables.computeFlopsPerSecond,
    bandwidthBytesPerSecond: tables.bandwidthBytesPerSecond,
    perCallOverheadSeconds: tables.perCallOverheadSeconds,
  };
  const kvFrom = (u: number, c: number): number => tables.users[u][c].serverKvBytes;
  const edge = tierState(
    tables,
    edgeRates,
    U,
    (u, t) => cuts1[u] < t && t <= cuts2[u],
    (u) => kvFrom(u, cuts1[u]) - kvFrom(u, cuts2[u]),
    (u) => cuts1[u] < cuts2[u],
  );
  const cloudState = tierState(
    tables,
    cloud.rates,
    U,
    (u, t) => cuts2[u] < t,
    (u) => kvFrom(u, cuts2[u]),
    (u) => cuts2[u] < L,
  );
  let backhaulSeconds = 0;
  let price = 0;
  for (let u = 0; u < U; u++) {
    backhaulSeconds += cloud.workSeconds[cuts2[u]];
    price += cloud.price[cuts2[u]];
  }
  const latencies = cuts1.map((c1, u) => {
    const c2 = cuts2[u];
    let t = tables.users[u][c1].fixedSeconds;
    // Every user that reaches the edge waits for its step: cloud-bound activations leave in the
    // one backhaul transfer after it.
    if (c1 < L) t += edge.stepSeconds;
    if (c2 < L) t += cloud.latencySeconds[c2] + backhaulSeconds + cloudState.stepSeconds;
    return t;
  });
  return { edge, cloud: cloudState, backhaulSeconds, latencies, price };
}

/** Objective of a three-tier decision from its latencies and price (no admission with a cloud). */
export function threeTierObjective(problem: KvProblem, state: ThreeTierState): number {
  const latency =
    problem.objective === 'max' ? Math.max(0, ...state.latencies) : state.latencies.reduce((a, b) => a + b, 0);
  return latency + (problem.cloud?.priceWeightSeconds ?? 0) * state.price;
}

/** assess (cost.ts) for a problem with a cloud tier: cost tables only, never evaluate. */
export function assessThreeTier(problem: KvProblem, decision: KvDecision): Assessment {
  const tables = kvTables(problem);
  const cloud = cloudTables(problem);
  const L = tables.layers;
  const reasons: string[] = [];
  const cuts1: number[] = [];
  const cuts2 = cloudCutsOf(problem, decision);
  problem.users.forEach((user, u) => {
    const c = decision.cuts[u];
    const c2 = cuts2[u];
    if (c === null || c === undefined || !Number.isInteger(c) || c < 0 || c > L) {
      reasons.push(`${user.name}'s cut ${c} is not a layer number in 0..${L}`);
      cuts1.push(0);
      return;
    }
    if (!Number.isInteger(c2) || c2 < c || c2 > L) {
      reasons.push(`${user.name}'s cloud cut ${c2} is outside ${c}..${L}`);
      cuts2[u] = Math.min(L, Math.max(c, Math.round(c2) || c));
    }
    cuts1.push(c);
    const k = tables.users[u][c];
    if (k.staticViolation !== null) reasons.push(`${user.name} at cut ${c}: ${k.staticViolation}`);
  });
  const state = threeTierStateOf(problem, cuts1, cuts2);
  if (!withinLimit(state.edge.memoryBytes, tables.serverMemoryBytes))
    reasons.push(
      `the edge server needs ${gb(state.edge.memoryBytes)}, ` +
        `the ${problem.server.name} has ${gb(tables.serverMemoryBytes)}`,
    );
  if (!withinLimit(state.cloud.memoryBytes, cloud.cloud.memoryCapacityBytes))
    reasons.push(
      `the cloud needs ${gb(state.cloud.memoryBytes)}, its capacity is ${gb(cloud.cloud.memoryCapacityBytes)}`,
    );
  state.latencies.forEach((t, u) => {
    const slo = problem.users[u].latencySloSeconds;
    if (slo !== null && !withinLimit(t, slo))
      reasons.push(`${problem.users[u].name}'s per-token latency ${ms(t)} exceeds its SLO of ${ms(slo)}`);
  });
  return { feasible: reasons.length === 0, objective: threeTierObjective(problem, state), reasons };
}
