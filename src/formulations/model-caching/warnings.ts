/**
 * Plausibility remarks (never refusals) on a caching problem: values off by orders of magnitude
 * (src/formulations/plausibility.ts), request probabilities that had to be normalised, and
 * requested models that no server able to serve the user can ever hold.
 */
import { collectWarnings, plausibility } from '../plausibility.ts';
import type { InputWarning } from '../types.ts';
import { fitsStorage, requestMass } from './cost.ts';
import type { Problem } from './schema.ts';

/** Request sums farther than this from 1 are reported (rounded probabilities stay quiet). */
const REQUEST_SUM_SLACK = 1e-3;

export function warnings(problem: Problem): InputWarning[] {
  const checks: (InputWarning | null)[] = [];
  problem.servers.forEach((s, i) => {
    checks.push(plausibility(`$.servers[${i}].storageBytes`, s.storageBytes, 'memoryBytes'));
  });
  // Blocks the user wrote (family blocks come from the catalog; a small LoRA adapter is legitimately < 1 MB).
  problem.blocks.slice(0, problem.writtenBlocks).forEach((b, i) => {
    checks.push(plausibility(`$.blocks[${i}].sizeBytes`, b.sizeBytes, 'memoryBytes'));
  });
  for (const { path, link } of problem.links) {
    checks.push(plausibility(`${path}.downlinkBitsPerSecond`, link.downlinkBitsPerSecond, 'bitsPerSecond'));
    checks.push(plausibility(`${path}.latencySeconds`, link.latencySeconds, 'seconds'));
  }
  if (problem.cloudLatencySeconds !== null) {
    checks.push(plausibility('$.cloudLatencySeconds', problem.cloudLatencySeconds, 'seconds'));
  }
  const out = collectWarnings(checks);
  problem.users.forEach((u, i) => {
    if (Math.abs(u.writtenRequestSum - 1) > REQUEST_SUM_SLACK) {
      out.push({
        path: `$.users[${i}].requests`,
        message:
          `request probabilities sum to ${u.writtenRequestSum}, not 1; ` +
          'they were normalised (each divided by the sum)',
      });
    }
    problem.models.forEach((m, k) => {
      if (requestMass(problem, i, k) === 0) return;
      const covering = problem.servers.filter((_, n) => problem.latencySeconds[i][n][k] !== null);
      if (covering.length === 0) return;
      if (covering.some((s) => fitsStorage(m.sizeBytes, s.storageBytes))) return;
      const largest = Math.max(...covering.map((s) => s.storageBytes));
      out.push({
        path: `$.users[${i}].requests[${JSON.stringify(m.id)}]`,
        message:
          `model "${m.id}" (${(m.sizeBytes / 1e9).toFixed(2)} GB) is larger than every server that can serve user ` +
          `"${u.id}" (largest ${(largest / 1e9).toFixed(2)} GB): these requests always miss`,
      });
    });
  });
  return out;
}
