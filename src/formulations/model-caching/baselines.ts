/**
 * Peers, re-implemented from their published descriptions and scored by our evaluate (they value
 * choices with the cost functions only and never call the exact method):
 * - `trimcaching-greedy`: TrimCaching's successive greedy (Qu et al. 2024): servers one after
 *   another; each adds the model with the best marginal gain per extra stored byte (blocks it
 *   already holds are free), counting requests earlier servers already serve as won.
 * - `no-sharing-greedy`: the same greedy but believing every model costs its full size, as a
 *   cache that does not know about parameter sharing would.
 * - `most-popular`: each server caches the models most requested by the users it covers, in
 *   order, while they fit (classic popularity caching).
 */
import type { Baseline } from '../types.ts';
import { fitsStorage, storageBytes } from './cost.ts';
import { toDecision } from './decision.ts';
import { demandGroups, type DemandGroup } from './milp.ts';
import type { Decision, Problem } from './schema.ts';

/** Best gain already won for each demand group, given the sets chosen so far. */
function currentGain(groups: readonly DemandGroup[], sets: readonly Set<number>[]): number[] {
  return groups.map((g) =>
    g.options.reduce((best, o) => (sets[o.server].has(g.model) ? Math.max(best, o.gain) : best), 0),
  );
}

function successiveGreedy(problem: Problem, believedSize: (held: Set<number>, m: number) => number): Decision {
  const groups = demandGroups(problem);
  const sets = problem.servers.map(() => new Set<number>());
  const byServer = problem.servers.map((_, n) =>
    groups
      .map((g, gi) => ({ g, gi, gain: g.options.find((o) => o.server === n)?.gain ?? 0 }))
      .filter((e) => e.gain > 0),
  );
  for (let n = 0; n < problem.servers.length; n++) {
    const capacity = problem.servers[n].storageBytes;
    for (;;) {
      const won = currentGain(groups, sets);
      const used = believedSize(sets[n], -1);
      let best = -1;
      let bestDensity = 0;
      let bestGain = 0;
      for (let m = 0; m < problem.models.length; m++) {
        if (sets[n].has(m)) continue;
        let gain = 0;
        for (const e of byServer[n]) if (e.g.model === m) gain += e.g.mass * Math.max(0, e.gain - won[e.gi]);
        if (gain <= 0) continue;
        const extra = believedSize(sets[n], m) - used;
        if (!fitsStorage(used + extra, capacity)) continue;
        const density = extra <= 0 ? Infinity : gain / extra;
        if (density > bestDensity || (density === bestDensity && gain > bestGain)) {
          best = m;
          bestDensity = density;
          bestGain = gain;
        }
      }
      if (best < 0) break;
      sets[n].add(best);
    }
  }
  return toDecision(
    problem,
    sets.map((s) => [...s]),
  );
}

export const baselines: readonly Baseline<Problem, Decision>[] = [
  {
    name: 'trimcaching-greedy',
    description:
      'TrimCaching successive greedy: server by server, add the model with the best marginal hit gain per extra stored byte (shared blocks counted once)',
    run: (problem) => successiveGreedy(problem, (held, m) => storageBytes(problem, m < 0 ? held : [...held, m])),
  },
  {
    name: 'no-sharing-greedy',
    description: 'Successive greedy that charges every model its full size (caching without parameter sharing)',
    run: (problem) =>
      successiveGreedy(problem, (held, m) => {
        let s = 0;
        for (const k of held) s += problem.models[k].sizeBytes;
        return m < 0 ? s : s + problem.models[m].sizeBytes;
      }),
  },
  {
    name: 'most-popular',
    description:
      'Each server caches the models most requested by the users it covers, most popular first, while they fit',
    run: (problem) => {
      const groups = demandGroups(problem);
      const sets = problem.servers.map((s, n) => {
        const popularity = problem.models.map(() => 0);
        for (const g of groups) if (g.options.some((o) => o.server === n)) popularity[g.model] += g.mass;
        const order = problem.models
          .map((_, m) => m)
          .filter((m) => popularity[m] > 0)
          .sort((a, b) => popularity[b] - popularity[a] || a - b);
        const chosen: number[] = [];
        for (const m of order) if (fitsStorage(storageBytes(problem, [...chosen, m]), s.storageBytes)) chosen.push(m);
        return chosen;
      });
      return toDecision(problem, sets);
    },
  },
];
