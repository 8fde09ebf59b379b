#!/usr/bin/env node
// The edgeplan command. The sources are TypeScript run through tsx (no compile step), so that
// `npm ci && npx edgeplan …` works on a fresh clone with nothing else to build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
