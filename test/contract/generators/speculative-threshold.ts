/**
 * Contract generator for speculative-threshold: one or two channel states (i.i.d. or Markov),
 * draft lengths up to 3, i.i.d. or per-position acceptance or a two-row threshold table, measured
 * draft and verify times, and device energies drawn over six orders of magnitude (nJ to mJ per
 * draft token) so that budget rows in raw joules would sit below solver tolerances. Half the seeds
 * carry an energy budget placed between the least and the largest energy per token of any policy
 * (some just below the least: infeasible). Objectives: time, energy or weighted.
 * Brute force enumerates every per-state policy (choice per state) and values it with the option
 * table of cost.ts, feasibility by the tolerance policy's budget test — never the MILP or Dinkelbach.
 */
import { picksMeetBudget, policyRatio, roundTable } from '../../../src/formulations/speculative-threshold/cost.ts';
import { speculativeThresholdFormulation as F } from '../../../src/formulations/speculative-threshold/index.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

type Raw = Record<string, unknown>;
interface RawLink {
  uplinkBitsPerSecond: number;
  downlinkBitsPerSecond: number;
  latencySeconds: number;
}
type RawState = { name: string; link: RawLink };

const between = (rand: () => number, lo: number, hi: number): number => lo + (hi - lo) * rand();
const logBetween = (rand: () => number, lo: number, hi: number): number =>
  Math.exp(between(rand, Math.log(lo), Math.log(hi)));

/** Every per-state policy's (ratio, joules per token, feasible), by the option table. */
function enumerate(raw: unknown, visit: (ratio: number, feasible: boolean, joulesPerToken: number) => void): void {
  const p = F.parse(raw);
  const n = roundTable(p).choices.length;
  const S = p.states.length;
  const picks = new Array<number>(S).fill(0);
  for (let code = 0; code < n ** S; code++) {
    let c = code;
    for (let s = 0; s < S; s++) {
      picks[s] = c % n;
      c = Math.floor(c / n);
    }
    const r = policyRatio(p, picks);
    visit(r.ratio, picksMeetBudget(p, picks), r.joules / r.tokens);
  }
}

function tiny(seed: number): unknown {
  const rand = mulberry32(seed * 7919 + 11);
  const S = rand() < 0.5 ? 1 : 2;
  const states: RawState[] = Array.from({ length: S }, (_, i) => ({
    name: `s${i}`,
    link: {
      uplinkBitsPerSecond: logBetween(rand, 1e5, 1e8),
      downlinkBitsPerSecond: logBetween(rand, 1e6, 1e8),
      latencySeconds: between(rand, 0, 0.08),
    },
  }));
  let channel: Raw = { states };
  if (S === 2) {
    const a = between(rand, 0.1, 0.9);
    const b = between(rand, 0.1, 0.9);
    channel =
      rand() < 0.5
        ? { states, probabilities: [a, 1 - a] }
        : {
            states,
            transitionMatrix: [
              [1 - a, a],
              [b, 1 - b],
            ],
          };
  }
  const kind = Math.floor(rand() * 3);
  const alpha = (): number => between(rand, 0.3, 0.95);
  const acceptance =
    kind === 0
      ? { alpha: alpha() }
      : kind === 1
        ? { perPosition: [alpha(), alpha()] }
        : {
            thresholds: [
              { threshold: 0, alpha: alpha(), continueProbability: 1 },
              { threshold: 0.5, alpha: alpha(), continueProbability: between(rand, 0.3, 0.95) },
            ],
          };
  // Draft energy per token from 1 nJ to 10 mJ, the radio from 1 µW to 2 W: budgets of nJ … mJ.
  const joulesPerToken = logBetween(rand, 1e-9, 1e-2);
  const transmitPowerWatts = logBetween(rand, 1e-6, 2);
  const objective = [
    'time',
    'energy',
    { weighted: { secondsWeight: between(rand, 0.1, 1), joulesWeight: between(rand, 0.1, 1) / joulesPerToken / 100 } },
  ][Math.floor(rand() * 3)];
  const raw: Raw = {
    kind: 'speculative-threshold',
    draft: {
      model: 'llama-3.2-1b',
      device: { id: 'phone', transmitPowerWatts },
      secondsPerToken: logBetween(rand, 1e-3, 3e-2),
      joulesPerToken,
    },
    target: {
      model: 'llama-2-7b',
      server: 'rtx-3090',
      verifySeconds: { fixedSeconds: between(rand, 5e-3, 5e-2), perTokenSeconds: between(rand, 0, 1e-3) },
    },
    acceptance,
    payload: { topK: Math.floor(rand() * 9) },
    channel,
    draftTokens: { min: 0, max: 1 + Math.floor(rand() * 3) },
    objective,
  };
  if (rand() < 0.5) {
    let least = Infinity;
    let most = 0;
    enumerate(raw, (_r, _f, j) => {
      least = Math.min(least, j);
      most = Math.max(most, j);
    });
    // One seed in five just below the least reachable energy (infeasible), the rest in between.
    const budget = rand() < 0.2 ? least * (1 - 1e-3) : least + (most - least) * between(rand, 0, 0.8);
    raw.energyBudgetJoulesPerToken = budget;
  }
  return raw;
}

function bruteForce(raw: unknown): BruteForce {
  let best = Infinity;
  enumerate(raw, (ratio, feasible) => {
    if (feasible && ratio < best) best = ratio;
  });
  return best < Infinity ? { status: 'optimal', objective: best } : { status: 'infeasible' };
}

const withLinks = (raw: unknown, edit: (l: RawLink) => RawLink): unknown => {
  const r = raw as Raw & { channel: Raw & { states: RawState[] } };
  return { ...r, channel: { ...r.channel, states: r.channel.states.map((s) => ({ ...s, link: edit(s.link) })) } };
};

const relaxations: Relaxation[] = [
  {
    name: 'a 50% larger energy budget (or none)',
    apply: (raw) => {
      const r = raw as Raw;
      if (typeof r.energyBudgetJoulesPerToken !== 'number') return { ...r };
      return { ...r, energyBudgetJoulesPerToken: r.energyBudgetJoulesPerToken * 1.5 };
    },
  },
  {
    name: 'twice the uplink and downlink rates',
    apply: (raw) =>
      withLinks(raw, (l) => ({
        ...l,
        uplinkBitsPerSecond: l.uplinkBitsPerSecond * 2,
        downlinkBitsPerSecond: l.downlinkBitsPerSecond * 2,
      })),
  },
  {
    name: 'half the link latency',
    apply: (raw) => withLinks(raw, (l) => ({ ...l, latencySeconds: l.latencySeconds / 2 })),
  },
  {
    name: 'one more allowed draft length',
    apply: (raw) => {
      const r = raw as Raw & { draftTokens: { min: number; max: number } };
      return { ...r, draftTokens: { ...r.draftTokens, max: r.draftTokens.max + 1 } };
    },
  },
];

const generator: ContractGenerator = {
  kind: 'speculative-threshold',
  tiny,
  bruteForce,
  relaxations,
  seeds: 12,
};

export default generator;
