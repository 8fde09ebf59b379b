/**
 * Words for people: why no layout exists (which stage is short of memory and by how much) and
 * what a decision does, including the serving flags it turns into.
 */
import type { Evaluation } from '../types.ts';
import { groupCost, kvBlockBytes } from './cost.ts';
import type { ParallelBreakdown } from './evaluate.ts';
import type { ParallelProblem } from './schema.ts';

const GB = (b: number): string => `${(b / 1e9).toFixed(2)} GB`;

/**
 * The smallest shortfall: with every server in the fleet's largest TP group (each of the best
 * device's servers on its host at the largest allowed degree) and the model split evenly over
 * the hosts' groups, the stage that needs the most memory per server, and by how much it misses.
 */
export function explainParallelInfeasible(p: ParallelProblem): string {
  const L = p.model.layers;
  const byHost = new Map<string, number[]>();
  p.servers.forEach((s, j) => byHost.set(`${s.host}|${s.device.id}|${s.usableBytes}`, [...(byHost.get(`${s.host}|${s.device.id}|${s.usableBytes}`) ?? []), j]));
  const groups = [...byHost.values()].map((m) => {
    const g = Math.max(...p.tpDegrees.filter((d) => d <= m.length), 0);
    return { rep: m[0], g };
  }).filter((x) => x.g > 0);
  if (groups.length === 0) return `no host has as many alike servers as the smallest TP degree (${p.tpDegrees[0]})`;
  // Hand out layers in proportion to each group's usable memory × degree.
  const cap = groups.map((x) => p.servers[x.rep].usableBytes * x.g);
  const total = cap.reduce((a, b) => a + b, 0);
  let first = 1;
  let worst = { excess: -Infinity, text: '' };
  groups.forEach((x, i) => {
    const share = i === groups.length - 1 ? L - first + 1 : Math.max(1, Math.round((L * cap[i]) / total));
    const last = Math.min(L, first + share - 1);
    if (first > L) return;
    const c = groupCost(p, x.rep, x.g, first, last, 1, 1, { bitsPerSecond: Infinity, latencySeconds: 0 }, groups.length);
    const kvExtra = p.mode.kind === 'kv-capacity' ? Math.ceil(p.mode.contextTokens / p.mode.blockTokens) * kvBlockBytes(p, x.g, first, last) : 0;
    const need = c.memoryBytes + kvExtra;
    const usable = p.servers[x.rep].usableBytes;
    if (need - usable > worst.excess)
      worst = {
        excess: need - usable,
        text: `layers ${first}–${last} on a ${x.g}-way group of ${p.servers[x.rep].device.id} (${p.servers[x.rep].host}) need ${GB(need)} per server, ${GB(usable)} usable: short by ${GB(need - usable)}`,
      };
    first = last + 1;
  });
  const weights = `the fleet has ${GB(p.servers.reduce((a, s) => a + s.usableBytes, 0))} usable in all`;
  return worst.excess > 0
    ? `no layout fits: even spread over the largest TP group of every host, ${worst.text}; ${weights}`
    : `no layout satisfies the link and group rules (TP floor ${p.tpMinBitsPerSecond} bit/s, degrees ${p.tpDegrees.join(', ')}); ${weights}`;
}

export function describeParallel(p: ParallelProblem, ev: Evaluation<ParallelBreakdown | null>): string {
  const b = ev.breakdown;
  if (!b) return ev.violations.map((v) => v.message).join('\n');
  const lines = b.stages.map((s) => {
    const who = s.groups.map((g) => `[${g.servers.join(' ')}]${g.samples !== null ? `×${g.samples}` : ''}`).join(' ');
    const mem = Math.max(...s.groups.map((g) => g.memoryBytes));
    const blocks = s.kvBlocks !== null ? `, ${s.kvBlocks} KV blocks` : '';
    return `stage ${s.stage}: layers ${s.firstLayer}–${s.lastLayer} on tp ${s.tensorParallel} × dp ${s.dataParallel} ${who}: ${(s.seconds * 1e3).toFixed(3)} ms, ${GB(mem)}/server${blocks}`;
  });
  lines.push(
    `serving: VLLM_PP_LAYER_PARTITION=${b.serving.ppLayerPartition}` +
      (b.serving.uniformTensorParallel
        ? ` --pipeline-parallel-size ${b.stages.length} --tensor-parallel-size ${b.serving.tensorParallelPerStage[0]}`
        : ` (TP per stage ${b.serving.tensorParallelPerStage.join(',')}: uneven TP)`),
  );
  if (b.kvBlocks !== null) lines.push(`KV capacity: ${b.kvBlocks} blocks, ${b.concurrentSequences} full-context sequences`);
  return lines.join('\n');
}
