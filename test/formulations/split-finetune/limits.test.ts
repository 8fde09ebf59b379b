/**
 * Counts that size the solve are capped: 1e9 subchannels used to be accepted and exhaust the heap
 * while the exact method listed one option per subchannel count (fuzz finding).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSplitFinetune, SPLIT_FINETUNE_MAXIMA } from '../../../src/formulations/split-finetune/schema.ts';
import { errorOf } from '../../support/errors.ts';

const example = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../problems/split-finetune/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

describe('split-finetune size limits', () => {
  it.each(['gpt2-medium-3-clients', 'llama-2-7b-10-clients-5g', 'llama-2-13b-phones-fixed-cut-infeasible'])(
    '%s with a billion subchannels is an InputError at $.subchannels',
    (name) => {
      const e = errorOf(() => parseSplitFinetune({ ...example(name), subchannels: 1_000_000_000 }));
      expect(e.path).toBe('$.subchannels');
      expect(e.rule).toBe(`must be at most ${SPLIT_FINETUNE_MAXIMA.subchannels} (absurd size)`);
      expect(e.exitCode).toBe(2);
    },
  );

  it('the subchannel limit itself is accepted when the option table stays small', () => {
    const p = parseSplitFinetune({
      ...example('gpt2-medium-3-clients'),
      subchannels: SPLIT_FINETUNE_MAXIMA.subchannels,
    });
    expect(p.subchannels).toBe(4096);
  });

  it('an option table beyond the limit (10 clients × 32 × 32 pairs × ~4000 counts) is refused', () => {
    const e = errorOf(() => parseSplitFinetune({ ...example('llama-2-7b-10-clients-5g'), subchannels: 4000 }));
    expect(e.path).toBe('$.subchannels');
    expect(e.rule).toMatch(/options; at most 10000000 \(absurd size/);
    // A narrower cut range brings the same subchannel count back within the limit.
    const p = parseSplitFinetune({
      ...example('llama-2-7b-10-clients-5g'),
      subchannels: 4000,
      cutRange: { min: 4, max: 8 },
    });
    expect(p.cutMax - p.cutMin + 1).toBe(5);
  });

  it('more clients than the limit are refused at $.clients', () => {
    const raw = example('gpt2-medium-3-clients');
    const clients = raw.clients as unknown[];
    const many = Array.from({ length: SPLIT_FINETUNE_MAXIMA.clients + 1 }, (_, i) => clients[i % clients.length]);
    const e = errorOf(() => parseSplitFinetune({ ...raw, clients: many, subchannels: 4096 }));
    expect(e.path).toBe('$.clients');
    expect(e.rule).toMatch(/at most 1024 clients/);
  });
});
