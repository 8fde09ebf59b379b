/**
 * The LoRA block (`loraSchema` / `loraFields` in src/formulations/zod-primitives.ts) is one definition for the five
 * families that have one. For each, a bundled example with a broken block is refused naming the same JSON path as
 * before the families shared it, with the one wording; a block without `targets` means q and v; and a valid block
 * parses as it did.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFormulation } from '../../src/formulations/registry.ts';
import { MAX_LORA_RANK } from '../../src/formulations/zod-primitives.ts';
import { runCli, ROOT } from '../support/cli.ts';
import { errorOf } from '../support/errors.ts';

type Raw = Record<string, unknown>;
type Block = Record<string, unknown>;

interface FamilyCase {
  readonly kind: string;
  readonly file: string;
  /** The example with a LoRA block, and that block (mutable, inside the returned document). */
  readonly prepare: (raw: Raw) => Block;
  /** The JSON path of the block's fields. */
  readonly path: string;
}

const asList = (x: unknown): Raw[] => x as Raw[];

const CASES: readonly FamilyCase[] = [
  {
    kind: 'agent-placement',
    file: 'agent-placement/assistant-3-modules.json',
    prepare: (raw) => asList(asList(raw.tasks)[0].modules)[2].lora as Block,
    path: '$.tasks[0].modules[2].lora',
  },
  {
    kind: 'model-caching',
    file: 'model-caching/lora-10-bases-10-servers-200-users.json',
    // model-caching spreads the fields into its lora family object.
    prepare: (raw) => asList(raw.families)[0],
    path: '$.families[0]',
  },
  {
    kind: 'kv-split-inference',
    file: 'kv-split-inference/llama-2-7b-16-phones-5g.json',
    prepare: (raw) => {
      raw.variants = [{ name: 'v', lora: { rank: 8, targets: ['q', 'v'] } }];
      return asList(raw.variants)[0].lora as Block;
    },
    path: '$.variants[0].lora',
  },
  {
    kind: 'pipeline-placement',
    file: 'pipeline-placement/gpt2-medium-training-8-servers.json',
    prepare: (raw) => {
      const mode = raw.mode as Raw;
      mode.trained = 'lora';
      mode.lora = { rank: 8, targets: ['q', 'v'] };
      return mode.lora as Block;
    },
    path: '$.mode.lora',
  },
  {
    kind: 'split-finetune',
    file: 'split-finetune/gpt2-medium-3-clients.json',
    prepare: (raw) => raw.lora as Block,
    path: '$.lora',
  },
];

function example(c: FamilyCase): { raw: Raw; block: Block } {
  const raw = JSON.parse(readFileSync(join(ROOT, 'problems', c.file), 'utf8')) as Raw;
  return { raw, block: c.prepare(raw) };
}

describe.each(CASES)('the LoRA block of $kind', (c) => {
  it('is refused with the same path and the one wording', async () => {
    const F = await loadFormulation(c.kind as never);
    const refused = (change: (b: Block) => void): string => {
      const { raw, block } = example(c);
      change(block);
      return errorOf(() => F.parse(raw)).message;
    };
    expect(refused((b) => (b.rank = 0))).toBe(`${c.path}.rank: must be positive`);
    expect(refused((b) => (b.rank = 2.5))).toBe(`${c.path}.rank: must be a whole number`);
    expect(refused((b) => (b.rank = MAX_LORA_RANK + 1))).toBe(`${c.path}.rank: must be at most ${MAX_LORA_RANK}`);
    expect(refused((b) => (b.targets = []))).toBe(`${c.path}.targets: at least one adapted matrix`);
    expect(refused((b) => (b.targets = ['q', 'qkv'])).startsWith(`${c.path}.targets[1]: `)).toBe(true);
  });

  it('defaults targets to q and v, and parses a valid block as before', async () => {
    const F = await loadFormulation(c.kind as never);
    const given = example(c);
    given.block.targets = ['q', 'v'];
    const omitted = example(c);
    delete omitted.block.targets;
    expect(JSON.stringify(F.parse(omitted.raw))).toBe(JSON.stringify(F.parse(given.raw)));
    const wider = example(c);
    wider.block.targets = ['q', 'k', 'v', 'o'];
    expect(JSON.stringify(F.parse(wider.raw))).not.toBe(JSON.stringify(F.parse(given.raw)));
  });
});

describe('the LoRA block from the CLI', () => {
  it('bad input is one line naming the path, exit 2', async () => {
    const c = CASES[4];
    const { raw, block } = example(c);
    block.targets = [];
    const dir = mkdtempSync(join(tmpdir(), 'edgeplan-lora-'));
    const file = join(dir, 'bad-lora.json');
    writeFileSync(file, JSON.stringify(raw));
    const run = await runCli(['solve', file]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('$.lora.targets: at least one adapted matrix');
  });
});
