/**
 * A shared radio cell: one uplink and one downlink carrier that several users share, each user
 * with its own link quality. The cell is described once here and used by kv-split-inference and
 * split-finetune (docs/cost-model.md, "Shared radio cell").
 *
 * Physics. A user granted share s ∈ (0, 1] of the cell gets s × B Hz of each carrier and, by
 * Shannon's formula with the allocated bandwidth, the rate s × B × log2(1 + SNR) bit/s (or
 * s × B × η when the user gives its spectral efficiency η in bit/s/Hz, e.g. from an MCS table).
 * One share per user applies to both directions (the same fraction of the uplink and of the
 * downlink resource grid): the time of a transfer is then work / s, with work the time the same
 * bits would take on the whole cell, so every latency is a + w / s — decreasing and convex in s.
 * That is what keeps the families' exact methods exact (least share for a latency target:
 * w / (T − a); a target is feasible iff the least shares sum to at most 1).
 *
 * Allocation is continuous (any share) or in resource blocks: the carriers are divided into N
 * blocks and a user gets a whole number n of them (share n / N).
 */
import { z } from 'zod';
import { InputError } from '../errors.ts';

export const CELL_ALLOCATIONS = ['continuous', 'resource-blocks'] as const;
export type CellAllocation = (typeof CELL_ALLOCATIONS)[number];

/** ITU-R M.2410 eMBB user-plane latency, the same 4 ms as the catalog's 5G links. */
export const DEFAULT_CELL_LATENCY_SECONDS = 4e-3;
/** Linear SNRs above 60 dB (1e6) do not occur on a radio link; such a value is almost surely a unit slip. */
export const MAX_LINEAR_SNR = 1e6;
/** dB values outside [-30, 60] are not SNRs of a usable link either. */
export const SNR_DB_RANGE = [-30, 60] as const;
/**
 * Spectral efficiency above 60 bit/s/Hz exceeds even many-layer MIMO (IMT-2020 asks for 30 peak
 * downlink); above that the value is taken for a mistake (a rate in bit/s, say).
 */
export const MAX_SPECTRAL_EFFICIENCY = 60;

const positiveFinite = z.number().positive('must be positive').finite('must be finite');

export const cellSchema = z
  .strictObject({
    bandwidthHz: positiveFinite.optional().describe('bandwidth of each carrier (uplink and downlink), Hz'),
    uplinkBandwidthHz: positiveFinite.optional().describe('uplink carrier bandwidth, Hz (overrides bandwidthHz)'),
    downlinkBandwidthHz: positiveFinite.optional().describe('downlink carrier bandwidth, Hz (overrides bandwidthHz)'),
    resourceBlocks: z
      .number()
      .int('must be a whole number')
      .positive('must be positive')
      .max(100_000, 'must be at most 100000 (absurd size)')
      .optional()
      .describe('resource blocks (subchannels) each carrier is divided into; a user gets a whole number of them'),
    resourceBlockHz: positiveFinite
      .optional()
      .describe('width of one resource block, Hz (with resourceBlocks, instead of a bandwidth: B = N × width)'),
    allocation: z
      .enum(CELL_ALLOCATIONS)
      .optional()
      .describe('continuous shares, or whole resource blocks; default resource-blocks when resourceBlocks is given'),
    latencySeconds: z
      .number()
      .nonnegative('must not be negative')
      .finite('must be finite')
      .default(DEFAULT_CELL_LATENCY_SECONDS)
      .describe('one-way latency paid per transfer (air interface and core), s; default 4 ms (ITU-R M.2410 eMBB)'),
  })
  .describe('a shared radio cell: the users with `radio` share its bandwidth; each one’s share is a decision');
export type CellInput = z.infer<typeof cellSchema>;

/** A value that may be linear or dB: refined later so the message can name the dB field. */
const snrValue = z.number().finite('must be finite');

export const radioSchema = z
  .strictObject({
    uplinkSnr: snrValue.optional().describe('uplink SNR, linear (not dB)'),
    uplinkSnrDb: snrValue.optional().describe('uplink SNR in dB'),
    uplinkSpectralEfficiency: positiveFinite.optional().describe('uplink bit/s/Hz (e.g. from an MCS table)'),
    downlinkSnr: snrValue.optional().describe('downlink SNR, linear (not dB)'),
    downlinkSnrDb: snrValue.optional().describe('downlink SNR in dB'),
    downlinkSpectralEfficiency: positiveFinite.optional().describe('downlink bit/s/Hz'),
    share: z
      .number()
      .finite('must be finite')
      .optional()
      .describe('a fixed share of the cell in (0, 1], not a decision'),
    resourceBlocks: z
      .number()
      .int('must be a whole number')
      .optional()
      .describe('a fixed number of resource blocks, not a decision (resource-block cells)'),
  })
  .describe('this user is in the cell: its link quality in each direction (SNR or spectral efficiency)');
export type RadioInput = z.infer<typeof radioSchema>;

export interface CellSpec {
  readonly uplinkBandwidthHz: number;
  readonly downlinkBandwidthHz: number;
  /** Resource blocks per carrier, or null when the cell is given in Hz only. */
  readonly resourceBlocks: number | null;
  readonly allocation: CellAllocation;
  readonly latencySeconds: number;
}

export interface RadioSpec {
  /** bit/s/Hz in each direction (log2(1 + SNR), or as given). */
  readonly uplinkBitsPerHertz: number;
  readonly downlinkBitsPerHertz: number;
  /** A fixed share (resource-block cells: n / N), or null when the share is a decision. */
  readonly fixedShare: number | null;
}

/** Shannon's spectral efficiency of a linear SNR, bit/s/Hz. */
export function shannonBitsPerHertz(snrLinear: number): number {
  return Math.log2(1 + snrLinear);
}

export function dbToLinear(db: number): number {
  return 10 ** (db / 10);
}

function fmt(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

/** Parses `$.cell`; throws InputError naming the path and the rule. */
export function parseCell(input: CellInput, path: string): CellSpec {
  const fromBlocks =
    input.resourceBlocks !== undefined && input.resourceBlockHz !== undefined
      ? input.resourceBlocks * input.resourceBlockHz
      : undefined;
  if (input.resourceBlockHz !== undefined && input.resourceBlocks === undefined)
    throw new InputError(`${path}.resourceBlockHz`, 'needs resourceBlocks (the number of blocks of this width)');
  if (fromBlocks !== undefined && (input.bandwidthHz ?? input.uplinkBandwidthHz) !== undefined)
    throw new InputError(
      `${path}.resourceBlockHz`,
      'give either a bandwidth or resourceBlocks × resourceBlockHz, not both (they could disagree)',
    );
  const up = input.uplinkBandwidthHz ?? input.bandwidthHz ?? fromBlocks;
  const down = input.downlinkBandwidthHz ?? input.bandwidthHz ?? fromBlocks;
  if (up === undefined)
    throw new InputError(
      `${path}.uplinkBandwidthHz`,
      'the cell needs a bandwidth: bandwidthHz, uplinkBandwidthHz, or resourceBlocks with resourceBlockHz',
    );
  if (down === undefined)
    throw new InputError(
      `${path}.downlinkBandwidthHz`,
      'the cell needs a downlink bandwidth: bandwidthHz or downlinkBandwidthHz',
    );
  const allocation = input.allocation ?? (input.resourceBlocks !== undefined ? 'resource-blocks' : 'continuous');
  if (allocation === 'resource-blocks' && input.resourceBlocks === undefined)
    throw new InputError(`${path}.resourceBlocks`, 'allocation "resource-blocks" needs the number of resource blocks');
  return {
    uplinkBandwidthHz: up,
    downlinkBandwidthHz: down,
    resourceBlocks: input.resourceBlocks ?? null,
    allocation,
    latencySeconds: input.latencySeconds,
  };
}

function direction(radio: RadioInput, dir: 'uplink' | 'downlink', path: string): number {
  const linear = radio[`${dir}Snr`];
  const db = radio[`${dir}SnrDb`];
  const eff = radio[`${dir}SpectralEfficiency`];
  const given = [linear, db, eff].filter((v) => v !== undefined).length;
  if (given === 0)
    throw new InputError(
      `${path}.${dir}Snr`,
      `the ${dir} needs one of ${dir}Snr (linear), ${dir}SnrDb or ${dir}SpectralEfficiency (bit/s/Hz)`,
    );
  if (given > 1)
    throw new InputError(
      `${path}.${dir}Snr`,
      `give only one of ${dir}Snr, ${dir}SnrDb and ${dir}SpectralEfficiency (they could disagree)`,
    );
  if (linear !== undefined) {
    const at = `${path}.${dir}Snr`;
    if (linear < 0)
      throw new InputError(
        at,
        `a linear SNR cannot be negative; ${fmt(linear)} looks like dB: write ${dir}SnrDb: ${fmt(linear)} ` +
          `(= ${fmt(dbToLinear(linear))} linear)`,
      );
    if (linear === 0)
      throw new InputError(
        at,
        `a linear SNR of 0 means no signal (rate 0); if you meant 0 dB write ${dir}SnrDb: 0 (= 1 linear)`,
      );
    if (linear > MAX_LINEAR_SNR)
      throw new InputError(
        at,
        `${fmt(linear)} linear is ${fmt(10 * Math.log10(linear))} dB, beyond any radio link (at most ` +
          `${MAX_LINEAR_SNR} = 60 dB); the SNR is linear here (use ${dir}SnrDb for dB)`,
      );
    return shannonBitsPerHertz(linear);
  }
  if (db !== undefined) {
    const at = `${path}.${dir}SnrDb`;
    if (db < SNR_DB_RANGE[0] || db > SNR_DB_RANGE[1])
      throw new InputError(
        at,
        `${fmt(db)} dB is outside [${SNR_DB_RANGE[0]}, ${SNR_DB_RANGE[1]}] dB, not the SNR of a usable link` +
          (db > SNR_DB_RANGE[1]
            ? `; if it is linear write ${dir}Snr: ${fmt(db)} (= ${fmt(10 * Math.log10(db))} dB)`
            : ''),
      );
    return shannonBitsPerHertz(dbToLinear(db));
  }
  const e = eff as number;
  if (e > MAX_SPECTRAL_EFFICIENCY)
    throw new InputError(
      `${path}.${dir}SpectralEfficiency`,
      `${fmt(e)} bit/s/Hz exceeds ${MAX_SPECTRAL_EFFICIENCY} (beyond many-layer MIMO); is it a rate in bit/s?`,
    );
  return e;
}

/** Parses one user's `radio`; throws InputError naming the path and the rule. */
export function parseRadio(radio: RadioInput, cell: CellSpec, path: string): RadioSpec {
  let fixedShare: number | null = null;
  if (radio.share !== undefined) {
    if (cell.allocation === 'resource-blocks')
      throw new InputError(`${path}.share`, 'this cell allocates resource blocks: fix radio.resourceBlocks instead');
    if (radio.share <= 0) throw new InputError(`${path}.share`, 'a share must be positive (0 would never transmit)');
    if (radio.share > 1)
      throw new InputError(`${path}.share`, `a share of ${fmt(radio.share)} exceeds the cell (1 = the whole cell)`);
    fixedShare = radio.share;
  }
  if (radio.resourceBlocks !== undefined) {
    if (cell.allocation !== 'resource-blocks' || cell.resourceBlocks === null)
      throw new InputError(`${path}.resourceBlocks`, 'this cell allocates continuous shares: fix radio.share instead');
    if (radio.resourceBlocks <= 0) throw new InputError(`${path}.resourceBlocks`, 'must be positive');
    if (radio.resourceBlocks > cell.resourceBlocks)
      throw new InputError(
        `${path}.resourceBlocks`,
        `${radio.resourceBlocks} resource blocks exceed the cell's ${cell.resourceBlocks}`,
      );
    fixedShare = radio.resourceBlocks / cell.resourceBlocks;
  }
  return {
    uplinkBitsPerHertz: direction(radio, 'uplink', path),
    downlinkBitsPerHertz: direction(radio, 'downlink', path),
    fixedShare,
  };
}

/**
 * Refuses fixed shares that together exceed the cell. `paths[i]` is the JSON path of entry i's
 * `radio`; null entries are users outside the cell.
 */
export function checkFixedShares(
  cell: CellSpec,
  radios: readonly (RadioSpec | null)[],
  paths: readonly string[],
): void {
  let sum = 0;
  radios.forEach((r, i) => {
    if (r === null || r.fixedShare === null) return;
    sum += r.fixedShare;
    if (sum > 1 + 1e-9) {
      const what =
        cell.allocation === 'resource-blocks'
          ? `the fixed resource blocks reach ${Math.round(sum * (cell.resourceBlocks ?? 0))}, ` +
            `more than the cell's ${cell.resourceBlocks}`
          : `the fixed shares reach ${fmt(sum)}, more than the whole cell (1)`;
      throw new InputError(`${paths[i]}.${cell.allocation === 'resource-blocks' ? 'resourceBlocks' : 'share'}`, what);
    }
  });
}

/** Uplink and downlink rates (bit/s) of a user holding the whole cell. */
export function fullCellRates(cell: CellSpec, radio: RadioSpec): { uplink: number; downlink: number } {
  return {
    uplink: cell.uplinkBandwidthHz * radio.uplinkBitsPerHertz,
    downlink: cell.downlinkBandwidthHz * radio.downlinkBitsPerHertz,
  };
}

/**
 * Seconds the given bits take on the whole cell (share 1), both directions: the "work" w of a
 * latency a + w / s.
 */
export function cellWorkSeconds(cell: CellSpec, radio: RadioSpec, uplinkBytes: number, downlinkBytes: number): number {
  const r = fullCellRates(cell, radio);
  return (uplinkBytes * 8) / r.uplink + (downlinkBytes * 8) / r.downlink;
}

/** The share of a decision value: a fraction (continuous) or a whole number of resource blocks. */
export function shareOf(cell: CellSpec, value: number): number {
  return cell.allocation === 'resource-blocks' ? value / (cell.resourceBlocks as number) : value;
}

/**
 * One user's demand on the cell, as the allocators see it: latency = offset + work / share,
 * subject to share ≥ minShare (from per-user limits), or share = fixedShare.
 */
export interface ShareDemand {
  /** Seconds at share 1 (0: the user needs no radio; it gets share 0). */
  readonly work: number;
  /** Latency not depending on the share (device, server, per-transfer latency). */
  readonly offset: number;
  readonly minShare: number;
  readonly fixedShare: number | null;
}

/** Least number of resource blocks giving at least `share` (with a relative slack for rounding). */
export function blocksFor(share: number, blocks: number): number {
  return Math.max(0, Math.ceil(share * blocks * (1 - 1e-12) - 1e-9));
}

/**
 * Shares (fractions) minimising max_u (offset_u + work_u / s_u) (objective 'max') or
 * Σ_u work_u / s_u ('sum') subject to Σ s ≤ 1 and the per-user floors; users with work 0 get
 * their fixed share or 0. Null when the floors alone exceed the cell. Resource-block cells get
 * whole blocks, by greedy increments (optimal for a min-max of decreasing functions and for a
 * sum of convex ones). Continuous cells: a bisection on the latency target W (max: the least
 * shares w / (W − a) must sum to 1) or on the price λ (sum: s = √(w/λ), the KKT condition).
 */
export function allocateShares(
  cell: CellSpec,
  demands: readonly ShareDemand[],
  objective: 'max' | 'sum',
): number[] | null {
  if (cell.allocation === 'resource-blocks') return allocateBlocks(cell.resourceBlocks as number, demands, objective);
  const floor = demands.map((d) => (d.fixedShare !== null ? d.fixedShare : d.work > 0 ? d.minShare : 0));
  const floorSum = floor.reduce((s, v) => s + v, 0);
  if (floorSum > 1 + 1e-9) return null;
  const free = demands.map((d) => d.fixedShare === null && d.work > 0);
  if (!free.some((f) => f)) return floor;
  const sharesAt = (level: number): number[] =>
    demands.map((d, u) => {
      if (!free[u]) return floor[u];
      const s = objective === 'max' ? d.work / (level - d.offset) : Math.sqrt(d.work / level);
      return Math.max(floor[u], s);
    });
  const total = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0);
  // max: W in (max offset, hi] with Σ shares(W) decreasing in W; sum: λ with Σ shares(λ) decreasing.
  let lo: number;
  let hi: number;
  if (objective === 'max') {
    lo = Math.max(...demands.map((d, u) => (free[u] ? d.offset : -Infinity)));
    hi = lo + 1;
    while (total(sharesAt(hi)) > 1) hi = lo + (hi - lo) * 2;
  } else {
    lo = 0;
    hi = 1;
    while (total(sharesAt(hi)) > 1) hi *= 2;
    let down = hi;
    while (down > 1e-300 && total(sharesAt(down / 2)) <= 1) down /= 2;
    lo = down / 2;
    hi = down;
  }
  // Invariant: Σ shares(hi) ≤ 1 (feasible), Σ shares(lo) > 1 or lo is the pole of the max case.
  for (let i = 0; i < 200 && hi - lo > 1e-15 * Math.abs(hi); i++) {
    const mid = (lo + hi) / 2;
    if (total(sharesAt(mid)) <= 1) hi = mid;
    else lo = mid;
  }
  const shares = sharesAt(hi);
  // What the bisection left unused goes to the free users in proportion to their shares: never worse.
  const left = 1 - total(shares);
  const freeSum = shares.reduce((s, v, u) => s + (free[u] ? v : 0), 0);
  if (left > 0 && freeSum > 0) return shares.map((s, u) => (free[u] ? s * (1 + left / freeSum) * (1 - 1e-12) : s));
  return shares;
}

function allocateBlocks(N: number, demands: readonly ShareDemand[], objective: 'max' | 'sum'): number[] | null {
  const n = demands.map((d) =>
    d.fixedShare !== null ? Math.round(d.fixedShare * N) : d.work > 0 ? Math.max(1, blocksFor(d.minShare, N)) : 0,
  );
  let used = n.reduce((s, v) => s + v, 0);
  if (used > N) return null;
  const free = demands.map((d) => d.fixedShare === null && d.work > 0);
  while (used < N) {
    let best = -1;
    let bestKey = -Infinity;
    demands.forEach((d, u) => {
      if (!free[u]) return;
      const key =
        objective === 'max' ? d.offset + (d.work * N) / n[u] : (d.work * N) / n[u] - (d.work * N) / (n[u] + 1);
      if (key > bestKey) {
        bestKey = key;
        best = u;
      }
    });
    if (best < 0) break;
    n[best]++;
    used++;
  }
  return n.map((v) => v / N);
}
