/** The family's words on a decision (`describe`); a caching problem is never infeasible (the empty cache fits). */
import type { Evaluation } from '../types.ts';
import type { CachingBreakdown } from './evaluate.ts';
import type { Decision, Problem } from './schema.ts';

/** Narrows evaluate's breakdown (the Formulation interface hands it over untyped). */
function isCachingBreakdown(b: unknown): b is CachingBreakdown {
  return typeof b === 'object' && b !== null && 'hitRatio' in b && 'servers' in b;
}

export function describe(problem: Problem, _decision: Decision, evaluation: Evaluation): string {
  const b = evaluation.breakdown;
  if (!isCachingBreakdown(b)) return '';
  const lines: string[] = [];
  const hits = `${(b.hitRatio * 100).toFixed(2)}%`;
  if (b.expectedLatencySeconds !== undefined) {
    // The optimised metric first; the hit ratio beside it counts only servers faster than the cloud.
    const latency = `expected serve latency ${b.expectedLatencySeconds.toFixed(4)} s (cloud ${problem.cloudLatencySeconds} s)`;
    lines.push(`${latency}, ${hits} of requests served at the edge`);
  } else {
    lines.push(`expected hit ratio ${hits}`);
  }
  for (const s of b.servers) {
    const gb = `${(s.storageBytes / 1e9).toFixed(2)} / ${(s.capacityBytes / 1e9).toFixed(2)} GB`;
    lines.push(`${s.server}: ${s.models.length} models, ${gb} — ${s.models.join(', ') || '(empty)'}`);
  }
  return lines.join('\n');
}
