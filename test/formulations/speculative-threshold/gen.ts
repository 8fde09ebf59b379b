/** Random small speculative-threshold problems for property tests (raw JSON, as a user writes it). */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';

export const example = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../../../problems/speculative-threshold/${name}.json`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>;

export interface RawLink {
  uplinkBitsPerSecond: number;
  downlinkBitsPerSecond: number;
  latencySeconds: number;
}

export const linkArb: fc.Arbitrary<RawLink> = fc.record({
  uplinkBitsPerSecond: fc.double({ min: 1e5, max: 1e8, noNaN: true }),
  downlinkBitsPerSecond: fc.double({ min: 1e5, max: 1e8, noNaN: true }),
  latencySeconds: fc.double({ min: 0, max: 0.1, noNaN: true }),
});

const alphaArb = fc.double({ min: 0.05, max: 0.98, noNaN: true });

export const acceptanceArb = fc.oneof(
  fc.record({ alpha: alphaArb }),
  fc.record({ perPosition: fc.array(alphaArb, { minLength: 1, maxLength: 4 }) }),
  fc
    .uniqueArray(fc.double({ min: 0, max: 0.9, noNaN: true }), {
      minLength: 1,
      maxLength: 3,
      comparator: (a, b) => a === b,
    })
    .chain((taus) =>
      fc
        .tuple(
          ...taus.map((tau) =>
            fc.record({
              threshold: fc.constant(tau),
              alpha: alphaArb,
              continueProbability: fc.double({ min: 0.2, max: 1, noNaN: true }),
            }),
          ),
        )
        .map((thresholds) => ({ thresholds })),
    ),
);

/** A row-stochastic matrix with every entry positive (irreducible), rows normalised. */
function matrixArb(n: number): fc.Arbitrary<number[][]> {
  return fc
    .array(fc.array(fc.double({ min: 0.05, max: 1, noNaN: true }), { minLength: n, maxLength: n }), {
      minLength: n,
      maxLength: n,
    })
    .map((rows) =>
      rows.map((r) => {
        const s = r.reduce((a, b) => a + b, 0);
        const out = r.map((v) => v / s);
        // Make the row sum to 1 to the last bit so that parse's tolerance is never the question.
        out[n - 1] = 1 - out.slice(0, n - 1).reduce((a, b) => a + b, 0);
        return out;
      }),
    );
}

function probabilitiesArb(n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min: 0.05, max: 1, noNaN: true }), { minLength: n, maxLength: n }).map((r) => {
    const s = r.reduce((a, b) => a + b, 0);
    const out = r.map((v) => v / s);
    out[n - 1] = 1 - out.slice(0, n - 1).reduce((a, b) => a + b, 0);
    return out;
  });
}

export interface GenOptions {
  maxStates?: number;
  maxDraft?: number;
  budget?: boolean;
  objective?: boolean;
}

/** A problem with measured (overridden) draft and verify times so that c varies widely. */
export function problemArb(opts: GenOptions = {}): fc.Arbitrary<Record<string, unknown>> {
  const maxStates = opts.maxStates ?? 3;
  const maxDraft = opts.maxDraft ?? 6;
  return fc.integer({ min: 1, max: maxStates }).chain((n) =>
    fc
      .record({
        links: fc.array(linkArb, { minLength: n, maxLength: n }),
        chain:
          n === 1
            ? fc.constant({})
            : fc.oneof(
                matrixArb(n).map((m) => ({ transitionMatrix: m })),
                probabilitiesArb(n).map((p) => ({ probabilities: p })),
              ),
        acceptance: acceptanceArb,
        draftSeconds: fc.double({ min: 1e-3, max: 3e-2, noNaN: true }),
        verifyFixed: fc.double({ min: 5e-3, max: 5e-2, noNaN: true }),
        verifyPerToken: fc.double({ min: 0, max: 1e-3, noNaN: true }),
        topK: fc.integer({ min: 0, max: 16 }),
        maxDraft: fc.integer({ min: 0, max: maxDraft }),
        budget: opts.budget ? fc.double({ min: 0.005, max: 0.2, noNaN: true }) : fc.constant(undefined),
        objective: opts.objective
          ? fc.oneof(
              fc.constant('time'),
              fc.constant('energy'),
              fc.record({
                weighted: fc.record({
                  secondsWeight: fc.double({ min: 0.1, max: 1, noNaN: true }),
                  joulesWeight: fc.double({ min: 0.1, max: 1, noNaN: true }),
                }),
              }),
            )
          : fc.constant('time'),
      })
      .map((g) => ({
        kind: 'speculative-threshold',
        draft: { model: 'llama-3.2-1b', device: 'phone', secondsPerToken: g.draftSeconds },
        target: {
          model: 'llama-2-7b',
          server: 'rtx-3090',
          verifySeconds: { fixedSeconds: g.verifyFixed, perTokenSeconds: g.verifyPerToken },
        },
        acceptance: g.acceptance,
        payload: { topK: g.topK },
        channel: { states: g.links.map((link, i) => ({ name: `s${i}`, link })), ...g.chain },
        draftTokens: { min: 0, max: g.maxDraft },
        ...(g.budget !== undefined ? { energyBudgetJoulesPerToken: g.budget } : {}),
        objective: g.objective,
      })),
  );
}
