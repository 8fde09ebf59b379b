import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';

// docs/api.md promises that its first ```ts block runs as is; this runs it and checks the
// values its comments state.
const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
// Inside the package directory, so that `from 'edgeplan'` resolves through package.json's exports.
const file = fileURLToPath(new URL('./.docs-example.tmp.ts', import.meta.url));
afterAll(() => rmSync(file, { force: true }));

it('the runnable example of docs/api.md runs and prints what its comments say', async () => {
  expect(block).toContain("from 'edgeplan'");
  writeFileSync(file, block);
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  });
  try {
    await import(/* @vite-ignore */ `${file}?t=${Date.now()}`);
  } finally {
    log.mockRestore();
  }
  expect(lines[0]).toBe('optimal highs 7');
  expect(lines[1]).toBe('{"values":{"a":1,"b":1,"c":0}}');
  expect(lines[2]).toBe('false row capacity: activity 6 exceeds its upper side 5');
  expect(lines[3]).toBe('true');
  expect(lines).toContain('all optimal rows agree: true');
  expect(lines).toContain('[[2,3],[5,7],[9,12]]');
}, 60_000);
