/**
 * One rule for a memory budget beside a device under a runtime, in the three families that take such a budget
 * (src/cost/runtime-budget.ts; docs/cost-model.md, "Runtimes in the families"): the device is what its runtime
 * leaves; a budget above that (or above the device's memory, without a runtime) is bad input at the budget's path; a
 * runtime that leaves nothing is bad input at the runtime's path; no budget means all that is left. Never capped.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProblem, resolveDevice } from '../../src/api.ts';
import { loadCatalog } from '../../src/catalog/index.ts';
import { runtimeUsableBytes } from '../../src/cost/runtime.ts';
import { runCli } from '../support/cli.ts';

type Raw = Record<string, unknown> & { servers: Record<string, unknown>[] };
const FAMILIES = [
  { kind: 'moe-placement', file: 'mixtral-8x7b-6-servers.json', field: 'expertMemoryBytes' },
  { kind: 'split-moe', file: 'mixtral-3-classes-2-servers.json', field: 'expertMemoryBytes' },
  { kind: 'agent-placement', file: 'assistant-3-modules.json', field: 'memoryBytes' },
] as const;

const example = (kind: string, file: string): Raw =>
  JSON.parse(readFileSync(new URL(`../../problems/${kind}/${file}`, import.meta.url), 'utf8')) as Raw;
/**
 * The example with its first server's budget replaced (undefined: none) and extra top-level fields; the other servers
 * take their default (their example budgets may exceed what a runtime leaves, which is not under test here).
 */
function variant(f: (typeof FAMILIES)[number], budget: number | undefined, extra: Record<string, unknown> = {}): Raw {
  const raw = example(f.kind, f.file);
  raw.servers = raw.servers.map(({ [f.field]: _, ...server }) => server);
  if (budget !== undefined) raw.servers[0] = { ...raw.servers[0], [f.field]: budget };
  return { ...raw, ...extra };
}
/** The first server's budget and device as parsed (the families name the budget differently). */
function firstServer(raw: unknown): { budget: number; deviceBytes: number } {
  const server = (parseProblem(raw).problem as { servers: Record<string, unknown>[] }).servers[0];
  const budget = (server.expertMemoryBytes ?? server.memoryBytes) as number;
  return { budget, deviceBytes: (server.device as { memoryBytes: number }).memoryBytes };
}

const vllm = loadCatalog().runtimes.get('vllm')!;
const greedy = { id: 'vllm', gpuOverheadBytes: 200e9, unifiedOverheadBytes: 200e9 };

describe.each(FAMILIES)('$kind: a memory budget under a runtime', (f) => {
  const device = resolveDevice(example(f.kind, f.file).servers[0].device as string, '$');
  const left = runtimeUsableBytes(device.memoryBytes, vllm, device.unifiedMemory === true);
  const at = `$.servers[0].${f.field}`;

  it('no budget: all the memory the runtime leaves; a budget within it: kept as given', () => {
    expect(firstServer(variant(f, undefined, { runtime: 'vllm' }))).toEqual({ budget: left, deviceBytes: left });
    expect(firstServer(variant(f, left - 1e9, { runtime: 'vllm' })).budget).toBe(left - 1e9);
    expect(firstServer(variant(f, undefined)).budget).toBe(device.memoryBytes);
  });

  it('a budget above what the runtime leaves, or above the device, is bad input at its path', () => {
    expect(() => parseProblem(variant(f, left + 1e9, { runtime: 'vllm' }))).toThrow(
      new RegExp(`^\\$\\.servers\\[0\\]\\.${f.field}: ${left + 1e9} bytes exceeds the memory runtime "vllm" leaves`),
    );
    expect(() => parseProblem(variant(f, device.memoryBytes + 1e9))).toThrow(
      `${at}: ${device.memoryBytes + 1e9} bytes exceeds the device memory of ${device.name}`,
    );
  });

  it('a runtime that leaves no memory is bad input at the runtime’s path', () => {
    expect(() => parseProblem(variant(f, undefined, { runtime: greedy }))).toThrow(
      /^\$\.runtime: runtime "vllm" leaves no memory on /,
    );
    const raw = variant(f, undefined);
    raw.servers[0] = { ...raw.servers[0], runtime: greedy };
    expect(() => parseProblem(raw)).toThrow(/^\$\.servers\[0\]\.runtime: runtime "vllm" leaves no memory on /);
  });
});

describe('edgeplan solve: an over-budget server is one line and exit 2', () => {
  it('moe-placement (the family that used to cap it silently)', async () => {
    const f = FAMILIES[0];
    const dir = mkdtempSync(join(tmpdir(), 'edgeplan-budget-'));
    writeFileSync(join(dir, 'over.json'), JSON.stringify(variant(f, 75e9, { runtime: 'vllm' })));
    const run = await runCli(['solve', 'over.json'], {}, dir);
    rmSync(dir, { recursive: true, force: true });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^edgeplan: \$\.servers\[0\]\.expertMemoryBytes: 75000000000 bytes exceeds the memory/);
    expect(lines[0]).toMatch(/\(in over\.json\)$/);
  });
});
