/**
 * Per-client options (cut c, frozen prefix F, subchannels n) with every per-client constraint
 * applied (client memory, accuracy proxy, energy budget, the server memory the option alone would
 * need), and exact dominance pruning. The MILP and the exact method share these lists, so they
 * solve the same problem.
 */
import { decisionCost, emptyRoundFigures, objectiveCoefficients, optionPhysics, roundFigures, sharedServerWeightBytes, splitContext, type SplitContext } from './cost.ts';
import type { SplitFinetuneProblem } from './schema.ts';

export interface SplitOption {
  readonly cut: number;
  readonly frozenLayers: number;
  readonly subchannels: number;
  /** Amortised round time. */
  readonly seconds: number;
  /** Amortised device energy per round. */
  readonly joules: number;
  /** Server memory this client adds (its adapters' state, activations, logits, input buffer). */
  readonly serverBytes: number;
}

/** What may be restricted beyond the problem's own rules (the peers use this). */
export interface OptionFilter {
  readonly subchannels?: (clientIndex: number) => number | undefined;
  readonly cutFrozen?: (clientIndex: number, cut: number, frozenLayers: number) => boolean;
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
export function clientOptions(problem: SplitFinetuneProblem, clientIndex: number, filter: OptionFilter = {}, ctx: SplitContext = splitContext(problem)): SplitOption[] {
  const client = problem.clients[clientIndex];
  const nMax = maxSubchannelsPerClient(problem);
  const fixedN = filter.subchannels?.(clientIndex);
  const budget = client.energyBudgetJoulesPerRound ?? Infinity;
  const out: SplitOption[] = [];
  if (nMax < 1) return out;
  const figures = emptyRoundFigures();
  for (const { cut, frozenLayers } of allowedPairs(problem)) {
    if (filter.cutFrozen && !filter.cutFrozen(clientIndex, cut, frozenLayers)) continue;
    const phys = optionPhysics(ctx, clientIndex, cut, frozenLayers);
    if (phys.clientMemoryBytes > client.device.memoryBytes) continue;
    if (sharedServerWeightBytes(ctx, cut) + phys.serverClientMemoryBytes > problem.server.memoryBytes) continue;
    const nFrom = fixedN ?? 1;
    const nTo = fixedN ?? nMax;
    if (nFrom < 1 || nTo > nMax) continue;
    for (let n = nFrom; n <= nTo; n++) {
      roundFigures(ctx, clientIndex, phys, n, figures);
      if (figures.energyJoulesPerRound > budget) continue;
      out.push({ cut, frozenLayers, subchannels: n, seconds: figures.roundSeconds, joules: figures.energyJoulesPerRound, serverBytes: phys.serverClientMemoryBytes });
    }
  }
  return out;
}

interface Criteria {
  readonly time: boolean;
  readonly energy: boolean;
}

function dominates(a: SplitOption, b: SplitOption, k: Criteria): boolean {
  return (
    a.cut >= b.cut &&
    a.subchannels <= b.subchannels &&
    a.serverBytes <= b.serverBytes &&
    (!k.time || a.seconds <= b.seconds) &&
    (!k.energy || a.joules <= b.joules)
  );
}

function paretoFilter(options: readonly SplitOption[], k: Criteria): SplitOption[] {
  // Sorting on the criteria makes every dominator come first, so one pass against the kept list suffices.
  const sorted = [...options].sort(
    (a, b) =>
      (k.time ? a.seconds - b.seconds : 0) ||
      (k.energy ? a.joules - b.joules : 0) ||
      a.serverBytes - b.serverBytes ||
      a.subchannels - b.subchannels ||
      b.cut - a.cut ||
      a.frozenLayers - b.frozenLayers,
  );
  const kept: SplitOption[] = [];
  for (const o of sorted) if (!kept.some((q) => dominates(q, o, k))) kept.push(o);
  return kept;
}

/**
 * Drops options that another option of the same client beats or ties on every criterion that can
 * matter: a cut at least as deep (so the server loads no more layers), no more subchannels, no
 * more server memory, and no worse time / energy where the objective counts them. Replacing a
 * dominated option by its dominator keeps every constraint and never worsens the objective, so
 * the pruning is exact. Runs per subchannel count first (small groups), then across counts.
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
  for (const n of [...byN.keys()].sort((a, b) => a - b)) survivors.push(...paretoFilter(byN.get(n) as SplitOption[], k));
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

/** The option of client k that equals or dominates its decided (c, F, n), if the decision passes the per-client rules. */
export function dominatingOption(problem: SplitFinetuneProblem, list: readonly SplitOption[], clientIndex: number, cut: number, frozenLayers: number, subchannels: number): SplitOption | undefined {
  const ctx = splitContext(problem);
  const cost = decisionCost(ctx, clientIndex, { cut, frozenLayers, subchannels });
  const target: SplitOption = { cut, frozenLayers, subchannels, seconds: cost.roundSeconds, joules: cost.energyJoulesPerRound, serverBytes: cost.serverClientMemoryBytes };
  const exact = list.find((o) => o.cut === cut && o.frozenLayers === frozenLayers && o.subchannels === subchannels);
  if (exact) return exact;
  if (problem.cutPolicy === 'shared') return undefined;
  const { timeCoefficient, energyCoefficient } = objectiveCoefficients(problem);
  const k: Criteria = { time: timeCoefficient > 0, energy: energyCoefficient > 0 };
  const relTol = (a: number) => a * (1 + 1e-12) + 1e-15;
  return list.find(
    (o) =>
      o.cut >= target.cut &&
      o.subchannels <= target.subchannels &&
      o.serverBytes <= relTol(target.serverBytes) &&
      (!k.time || o.seconds <= relTol(target.seconds)) &&
      (!k.energy || o.joules <= relTol(target.joules)),
  );
}
