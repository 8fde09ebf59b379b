/**
 * Per-client options (cut c, frozen prefix F, subchannels n) with every per-client constraint
 * applied (client memory, accuracy proxy, energy budget, the server memory the option alone would
 * need), and exact dominance pruning. The MILP and the exact method share these lists, so they
 * solve the same problem. Every limit is tested with the one tolerance policy (tolerance.ts).
 */
import { withinLimit } from '../tolerance.ts';
import {
  decisionCost,
  emptyRoundFigures,
  objectiveCoefficients,
  optionPhysics,
  roundFigures,
  sharedServerWeightBytes,
  splitContext,
  type SplitContext,
} from './cost.ts';
import type { ClientDecision, SplitFinetuneProblem } from './schema.ts';

export interface SplitOption {
  readonly cut: number;
  readonly frozenLayers: number;
  readonly subchannels: number;
  /** Index into `problem.compressionLevels` (0: none). */
  readonly compression: number;
  /** The client's busy time in each aggregation period type (ctx.periods order). */
  readonly periodSeconds: readonly number[];
  /** The client's own busy time over the run (Σ count × period time). */
  readonly seconds: number;
  /** Device energy per round (energy over the run / R·E). */
  readonly joules: number;
  /** Server memory this client adds (its adapters' state, activations, logits, input buffer). */
  readonly serverBytes: number;
}

/** What may be restricted beyond the problem's own rules (the peers use this). */
export interface OptionFilter {
  readonly subchannels?: (clientIndex: number) => number | undefined;
  readonly cutFrozen?: (clientIndex: number, cut: number, frozenLayers: number) => boolean;
  /** A fixed compression level (peers that do not compress pass 0). */
  readonly compression?: (clientIndex: number) => number | undefined;
}

/** The decision of one client for an option (the compression named only when there is one). */
export function optionDecision(problem: SplitFinetuneProblem, o: SplitOption): ClientDecision {
  const d = { cut: o.cut, frozenLayers: o.frozenLayers, subchannels: o.subchannels };
  return o.compression === 0 ? d : { ...d, compression: problem.compressionLevels[o.compression].name };
}

/** Largest subchannel count one client can get when every other client needs at least one. */
export function maxSubchannelsPerClient(problem: SplitFinetuneProblem): number {
  return problem.subchannels - problem.clients.length + 1;
}

/** The (c, F) pairs the problem's own rules allow, before any device is considered. */
export function allowedPairs(problem: SplitFinetuneProblem): { cut: number; frozenLayers: number }[] {
  const pairs: { cut: number; frozenLayers: number }[] = [];
  for (let c = problem.cutMin; c <= problem.cutMax; c++)
    for (let F = problem.minFrozenLayers; F <= problem.maxFrozenLayers; F++) pairs.push({ cut: c, frozenLayers: F });
  return pairs;
}

/** Every option of client k that meets the per-client constraints, unpruned. */
export function clientOptions(
  problem: SplitFinetuneProblem,
  clientIndex: number,
  filter: OptionFilter = {},
  ctx: SplitContext = splitContext(problem),
): SplitOption[] {
  const client = problem.clients[clientIndex];
  const nMax = maxSubchannelsPerClient(problem);
  // A filter's count (a peer's split) or the input's fixed resource blocks (radio.resourceBlocks).
  const fixedN = filter.subchannels?.(clientIndex) ?? client.fixedSubchannels ?? undefined;
  const budget = client.energyBudgetJoulesPerRound ?? Infinity;
  const out: SplitOption[] = [];
  if (nMax < 1) return out;
  const figures = emptyRoundFigures(ctx.periods.length);
  const busyOf = (periods: readonly number[]) => ctx.periods.reduce((s, t, i) => s + t.count * periods[i], 0);
  const fixedQ = filter.compression?.(clientIndex);
  const levels = fixedQ === undefined ? client.compressionLevels : client.compressionLevels.filter((q) => q === fixedQ);
  for (const { cut, frozenLayers } of allowedPairs(problem)) {
    // The privacy floor: layers 1..minDeviceLayers never leave the device.
    if (cut < client.minDeviceLayers) continue;
    if (filter.cutFrozen && !filter.cutFrozen(clientIndex, cut, frozenLayers)) continue;
    for (const q of levels) {
      // Compression changes only the uplink bytes: memory (decompressed buffers) is the same for every level.
      const phys = optionPhysics(ctx, clientIndex, cut, frozenLayers, q);
      if (!withinLimit(phys.clientMemoryBytes, client.device.memoryBytes)) break;
      if (!withinLimit(sharedServerWeightBytes(ctx, cut) + phys.serverClientMemoryBytes, problem.server.memoryBytes))
        break;
      const nFrom = fixedN ?? 1;
      const nTo = fixedN ?? nMax;
      if (nFrom < 1 || nTo > nMax) break;
      for (let n = nFrom; n <= nTo; n++) {
        roundFigures(ctx, clientIndex, phys, n, figures);
        if (!withinLimit(figures.energyJoulesPerRound, budget)) continue;
        const periodSeconds = figures.periodSeconds.slice();
        out.push({
          cut,
          frozenLayers,
          subchannels: n,
          compression: q,
          periodSeconds,
          seconds: busyOf(periodSeconds),
          joules: figures.energyJoulesPerRound,
          serverBytes: phys.serverClientMemoryBytes,
        });
      }
    }
  }
  return out;
}

interface Criteria {
  readonly time: boolean;
  readonly energy: boolean;
}

function timesNoWorse(a: readonly number[], b: readonly number[], slack: (x: number) => number = (x) => x): boolean {
  for (let t = 0; t < a.length; t++) if (a[t] > slack(b[t])) return false;
  return true;
}

function dominates(a: SplitOption, b: SplitOption, k: Criteria): boolean {
  return (
    a.cut >= b.cut &&
    a.subchannels <= b.subchannels &&
    a.serverBytes <= b.serverBytes &&
    (!k.time || timesNoWorse(a.periodSeconds, b.periodSeconds)) &&
    (!k.energy || a.joules <= b.joules)
  );
}

function paretoFilter(options: readonly SplitOption[], k: Criteria): SplitOption[] {
  // Sorting on the criteria makes every dominator come first (a dominator is no slower in any
  // period, hence no slower in total), so one pass against the kept list suffices.
  const sorted = [...options].sort(
    (a, b) =>
      (k.time ? a.seconds - b.seconds : 0) ||
      (k.energy ? a.joules - b.joules : 0) ||
      a.serverBytes - b.serverBytes ||
      a.subchannels - b.subchannels ||
      b.cut - a.cut ||
      a.frozenLayers - b.frozenLayers ||
      a.compression - b.compression,
  );
  const kept: SplitOption[] = [];
  for (const o of sorted) if (!kept.some((q) => dominates(q, o, k))) kept.push(o);
  return kept;
}

/**
 * Drops options that another option of the same client beats or ties on every criterion that can
 * matter: a cut at least as deep (so the server loads no more layers), no more subchannels, no
 * more server memory, no longer in any aggregation period (where time counts) and no more energy
 * (where energy counts). Replacing a dominated option by its dominator keeps every constraint and
 * never worsens the objective, so the pruning is exact. Runs per subchannel count first (small
 * groups), then across counts.
 */
export function pruneDominated(problem: SplitFinetuneProblem, options: readonly SplitOption[]): SplitOption[] {
  const { timeCoefficient, energyCoefficient } = objectiveCoefficients(problem);
  const k: Criteria = { time: timeCoefficient > 0, energy: energyCoefficient > 0 };
  const byN = new Map<number, SplitOption[]>();
  for (const o of options) {
    const list = byN.get(o.subchannels);
    if (list) list.push(o);
    else byN.set(o.subchannels, [o]);
  }
  const survivors: SplitOption[] = [];
  for (const n of [...byN.keys()].sort((a, b) => a - b)) survivors.push(...paretoFilter(byN.get(n) ?? [], k));
  return paretoFilter(survivors, k);
}

export interface OptionTable {
  /** Per client, the options kept (pruned in per-client mode, complete in shared mode). */
  readonly options: readonly SplitOption[][];
  readonly generated: number;
  readonly kept: number;
}

/** The option lists the exact method and the MILP work on. */
export function optionTable(problem: SplitFinetuneProblem, filter: OptionFilter = {}): OptionTable {
  const ctx = splitContext(problem);
  let generated = 0;
  let kept = 0;
  const options = problem.clients.map((_, k) => {
    const all = clientOptions(problem, k, filter, ctx);
    generated += all.length;
    // In shared mode every client must take the same (c, F), so options of different pairs are not interchangeable.
    const list = problem.cutPolicy === 'per-client' ? pruneDominated(problem, all) : all;
    kept += list.length;
    return list;
  });
  return { options, generated, kept };
}

/**
 * The option of client k that equals or dominates its decided (c, F, n), if the decision passes
 * the per-client rules (a warm start is encoded through it: the point is at least as good).
 */
export function dominatingOption(
  problem: SplitFinetuneProblem,
  list: readonly SplitOption[],
  clientIndex: number,
  cut: number,
  frozenLayers: number,
  subchannels: number,
  compression = 0,
): SplitOption | undefined {
  const exact = list.find(
    (o) =>
      o.cut === cut &&
      o.frozenLayers === frozenLayers &&
      o.subchannels === subchannels &&
      o.compression === compression,
  );
  if (exact) return exact;
  if (problem.cutPolicy === 'shared') return undefined;
  const name = problem.compressionLevels[compression]?.name;
  const cost = decisionCost(splitContext(problem), clientIndex, {
    cut,
    frozenLayers,
    subchannels,
    ...(compression > 0 && name !== undefined ? { compression: name } : {}),
  });
  const { timeCoefficient, energyCoefficient } = objectiveCoefficients(problem);
  const relTol = (a: number) => a * (1 + 1e-12) + 1e-15;
  return list.find(
    (o) =>
      o.cut >= cut &&
      o.subchannels <= subchannels &&
      o.serverBytes <= relTol(cost.serverClientMemoryBytes) &&
      (timeCoefficient === 0 || timesNoWorse(o.periodSeconds, cost.periodSeconds, relTol)) &&
      (energyCoefficient === 0 || o.joules <= relTol(cost.energyJoulesPerRound)),
  );
}
