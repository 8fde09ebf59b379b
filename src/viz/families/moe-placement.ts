/**
 * moe-placement: experts × servers heat map of the expected tokens each replica serves (the
 * bottleneck layer, where the objective is decided), the busy time per layer and server, and each
 * server's memory against its limit.
 */
import type { MoeBreakdown } from '../../formulations/moe-placement/evaluate.ts';
import type { MoePlacementDecision, MoePlacementProblem, Replica } from '../../formulations/moe-placement/schema.ts';
import { heatmap, stackedBars } from '../chart.ts';
import type { DrawInput, Figure } from '../types.ts';
import { bytesText, gb, isRecord, ms, numText } from '../units.ts';

/** Each server's expert memory (GB) against its limit; split-moe draws the same figure. */
export function expertMemoryBars(
  servers: readonly { readonly name: string; readonly memoryBytes: number; readonly memoryLimitBytes: number }[],
  caption: string,
): Promise<Figure> {
  return stackedBars({
    title: 'Expert memory per server (GB) against its limit',
    data: servers.map((s) => ({ category: s.name, part: 'experts', value: gb(s.memoryBytes) })),
    capacity: servers.map((s) => ({ category: s.name, value: gb(s.memoryLimitBytes) })),
    categoryTitle: 'server',
    valueTitle: 'GB',
    partTitle: 'held',
    caption,
  });
}

export async function drawMoe(input: DrawInput<MoePlacementProblem>): Promise<Figure[]> {
  const raw = input.evaluation.breakdown;
  const decision = input.decision as MoePlacementDecision;
  if (!isRecord(raw) || !Array.isArray(raw.layers) || !Array.isArray(decision.placement)) return [];
  const b = raw as unknown as MoeBreakdown;
  const p = input.problem;
  const serverName = (s: number): string => p.servers[s]?.name ?? `server ${s}`;
  const servers = p.servers.map((_, s) => serverName(s));
  const figures: Figure[] = [];
  const worst = b.layers.reduce((w, l) => (l.value > w.value ? l : w), b.layers[0]);
  const layer = worst?.layer ?? 0;
  const expertName = (e: number): string => (e < p.routedExperts ? `e${e}` : `shared ${e - p.routedExperts}`);
  const cells: { x: string; y: string; value: number; label: string }[] = [];
  const row: readonly (readonly Replica[])[] = decision.placement[layer] ?? [];
  row.forEach((replicas, e) => {
    const tokens = p.batchTokens * (e < p.routedExperts ? p.topK * (p.popularity[layer]?.[e] ?? 0) : 1);
    for (const r of replicas) {
      const load = tokens * r.share;
      cells.push({
        x: expertName(e),
        y: serverName(r.server),
        value: load,
        label: numText(Number(load.toPrecision(2))),
      });
    }
  });
  figures.push(
    await heatmap({
      title: `Layer ${layer} (the slowest): expected tokens each replica serves, experts × servers`,
      data: cells,
      xTitle: 'expert',
      yTitle: 'server',
      valueTitle: 'tokens per batch',
      xs: Array.from({ length: p.experts }, (_, e) => expertName(e)),
      ys: servers,
      caption:
        `a cell is a replica; an expert on several servers is replicated, its tokens split by the shares. ` +
        `${b.replicasPerLayer[layer] ?? '?'} replicas in this layer; objective ${b.units}`,
    }),
  );
  figures.push(
    await heatmap({
      title: `Busy time per layer and server (ms per decode step); the slowest server sets the layer's time`,
      data: b.layers.flatMap((l) =>
        l.servers.map((s) => ({
          x: serverName(s.server),
          y: `layer ${l.layer}`,
          value: ms(s.seconds),
          label: Number(ms(s.seconds).toPrecision(2)).toString(),
        })),
      ),
      xTitle: 'server',
      yTitle: 'layer',
      valueTitle: 'ms',
      xs: servers,
      ys: b.layers.map((l) => `layer ${l.layer}`),
      scheme: 'oranges',
    }),
  );
  figures.push(
    await expertMemoryBars(
      b.servers,
      b.servers.map((s) => `${s.name} ${s.replicas} replicas, ${bytesText(s.memoryBytes)}`).join('; '),
    ),
  );
  const load = b.servers.map((s) => ({
    category: s.name,
    part: 'tokens per step, all layers',
    value: b.layers.reduce((sum, l) => sum + (l.servers.find((x) => x.server === s.server)?.tokens ?? 0), 0),
  }));
  figures.push(
    await stackedBars({
      title: 'Load per server: expected tokens per decode step, summed over layers',
      data: load,
      categoryTitle: 'server',
      valueTitle: 'tokens',
      partTitle: '',
    }),
  );
  return figures;
}
