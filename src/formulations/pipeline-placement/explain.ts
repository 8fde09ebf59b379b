/**
 * Why no placement exists, in domain words: a layer that fits nowhere, a source too small for
 * layer 1, memory short in total for the allowed number of servers, or missing links.
 */
import { stageMemoryBytes, tablesOf } from './cost.ts';
import type { PipelineProblem } from './schema.ts';

const GBf = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;

export function explainPipelineInfeasible(problem: PipelineProblem): string {
  const t = tablesOf(problem);
  const n = t.servers;
  const L = t.layers;
  const reasons: string[] = [];
  const cap = t.capacityBytes;
  const name = (j: number): string => problem.servers[j].name;
  for (let l = 1; l <= L; l++) {
    let fits = false;
    let least = Infinity;
    for (let j = 0; j < n; j++) {
      const m = stageMemoryBytes(t, j, l, l, 1);
      least = Math.min(least, m - cap[j]);
      if (m <= cap[j]) fits = true;
    }
    if (!fits) {
      reasons.push(`layer ${l}${l === 1 ? ' (with the embedding)' : l === L ? ' (with norm and head)' : ''} fits on no server: it is ${GBf(least)} larger than the best server's free memory`);
      break;
    }
  }
  if (problem.source !== null) {
    const s = problem.source;
    const m = stageMemoryBytes(t, s, 1, 1, problem.stages ?? problem.maxStages);
    if (m > cap[s]) reasons.push(`the source ${name(s)} must hold layer 1 with the embedding (${GBf(m)}) but has ${GBf(cap[s])}`);
    const reachable = problem.servers.some((_, j) => j !== s && Number.isFinite(t.comm[s * n + j]));
    if (!reachable && stageMemoryBytes(t, s, 1, L, 1) > cap[s]) reasons.push(`the model does not fit on the source ${name(s)} alone and the source has no link to any other server`);
  }
  // Least memory the whole model needs (every layer where it is smallest, one micro-batch in flight)
  // against the largest capacity the allowed number of servers can offer.
  let need = 0;
  for (let l = 1; l <= L; l++) {
    let least = Infinity;
    for (let j = 0; j < n; j++) least = Math.min(least, stageMemoryBytes(t, j, l, l, 1));
    need += least;
  }
  const K = problem.stages ?? problem.maxStages;
  // With a pinned source, the source is one of the K servers.
  const src = problem.source;
  const others = cap.filter((_, j) => j !== src).sort((x, y) => y - x);
  const offer = src === null ? others.slice(0, K).reduce((x, y) => x + y, 0) : cap[src] + others.slice(0, K - 1).reduce((x, y) => x + y, 0);
  const who = src === null ? `the ${K} largest allowed servers offer` : K === 1 ? 'the source alone offers' : `the source and the ${K === 2 ? 'largest other server' : `${K - 1} largest other servers`} offer`;
  if (need > offer) reasons.push(`the layers need at least ${GBf(need)} in total, ${who} ${GBf(offer)} (short by ${GBf(need - offer)})`);
  if (reasons.length === 0) {
    reasons.push(
      `no contiguous split fits: memory is enough in total but not in whole stages under the stage limit (${K}), the in-flight activations of the schedule, or the links available between servers`,
    );
  }
  return reasons.join('; ');
}
