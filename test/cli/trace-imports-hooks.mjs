// The hooks of trace-imports.mjs: every resolved URL is appended to EDGEPLAN_TRACE_FILE.
import { appendFileSync } from 'node:fs';

const file = process.env.EDGEPLAN_TRACE_FILE;

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (file !== undefined && file !== '') appendFileSync(file, `${result.url}\n`);
  return result;
}
