/**
 * split-moe: per class its cut (MoE layers on the device, the rest remote) and its per-token
 * latency split into dense parts, device experts, access link and expert calls; which server holds
 * replicas of which expert (counted over layers) and how many experts each server holds per layer;
 * each server's expert memory against its limit. Drawn from evaluate's breakdown and the decision.
 */
import type { SplitMoeBreakdown } from '../../formulations/split-moe/evaluate.ts';
import type { SplitMoeDecision, SplitMoeProblem } from '../../formulations/split-moe/schema.ts';
import { heatmap, intervals, stackedBars } from '../chart.ts';
import type { DrawInput, Figure } from '../types.ts';
import { expertMemoryBars } from './moe-placement.ts';
import { bytesText, isRecord, ms, pct, secondsText } from '../units.ts';

export async function drawSplitMoe(input: DrawInput<SplitMoeProblem>): Promise<Figure[]> {
  const raw = input.evaluation.breakdown;
  const decision = input.decision as SplitMoeDecision;
  if (!isRecord(raw) || !Array.isArray(raw.classes) || !Array.isArray(decision.placement)) return [];
  const b = raw as unknown as SplitMoeBreakdown;
  const p = input.problem;
  const L = p.layers;
  const serverName = (s: number): string => p.servers[s]?.name ?? `server ${s}`;
  const servers = p.servers.map((_, s) => serverName(s));
  const classLabel = (c: SplitMoeBreakdown['classes'][number]): string => `${c.name} (cut ${c.cut})`;
  const figures: Figure[] = [];

  // The cut: layers 0 … cut − 1 run their experts on the device, the rest call the class's access server.
  figures.push(
    await intervals({
      title: `Where each class runs its ${L} MoE layers' experts (the cut)`,
      data: b.classes.flatMap((c, u) => {
        const cut = Math.max(0, Math.min(c.cut, L));
        const access = serverName(p.classes[u]?.server ?? 0);
        return [
          ...(cut > 0 ? [{ row: c.name, start: 0, end: cut, group: 'device', label: `${cut} on device` }] : []),
          ...(cut < L
            ? [{ row: c.name, start: cut, end: L, group: 'remote', label: `${L - cut} remote via ${access}` }]
            : []),
        ];
      }),
      rowTitle: 'class',
      xTitle: 'MoE layer',
      groupTitle: 'experts run',
      groups: ['device', 'remote'],
      integerAxis: true,
      caption: b.classes
        .map((c, u) => `${c.name}: ${c.users} users, access ${serverName(p.classes[u]?.server ?? 0)}`)
        .join('; '),
    }),
  );

  const parts = ['dense', 'device experts', 'access link', 'expert calls'];
  figures.push(
    await stackedBars({
      title: 'Per-token latency per class (ms), by term; the label gives the cut',
      data: b.classes.flatMap((c) =>
        [
          { category: classLabel(c), part: 'dense', value: ms(c.denseSeconds) },
          { category: classLabel(c), part: 'device experts', value: ms(c.deviceExpertSeconds) },
          { category: classLabel(c), part: 'access link', value: ms(c.linkSeconds) },
          { category: classLabel(c), part: 'expert calls', value: ms(c.expertCallSeconds) },
        ].filter((d) => d.value > 0),
      ),
      categoryTitle: 'class',
      valueTitle: 'ms per token',
      partTitle: 'term',
      parts,
      caption:
        `objective (${b.objective}): ${b.units}; ` +
        b.classes
          .map(
            (c) =>
              `${c.name} ${secondsText(c.latencySeconds)}` +
              (c.droppedShare > 0 ? `, drops ${pct(c.droppedShare)}` : ''),
          )
          .join('; '),
    }),
  );

  // Replicas counted over the layers: a matrix of layers × experts × servers does not fit a page.
  const expertName = (e: number): string => `e${e}`;
  const perExpert = Array.from({ length: p.experts }, () => new Array<number>(p.servers.length).fill(0));
  const perLayer = Array.from({ length: L }, () => new Array<number>(p.servers.length).fill(0));
  const placement: SplitMoeDecision['placement'] = decision.placement;
  placement.forEach((row, l) =>
    row.forEach((holders, e) =>
      holders.forEach((s) => {
        if (perExpert[e] !== undefined && s >= 0 && s < p.servers.length) {
          perExpert[e][s] += 1;
          perLayer[l][s] += 1;
        }
      }),
    ),
  );
  figures.push(
    await heatmap({
      title: `Replicas, experts × servers: in how many of the ${L} layers a server holds the expert`,
      data: perExpert.flatMap((row, e) =>
        row.map((n, s) => ({ x: expertName(e), y: serverName(s), value: n, label: String(n) })),
      ),
      xTitle: 'expert',
      yTitle: 'server',
      valueTitle: 'layers',
      xs: Array.from({ length: p.experts }, (_, e) => expertName(e)),
      ys: servers,
      caption: `${L} in a cell: the server holds that expert in every layer`,
    }),
  );
  figures.push(
    await heatmap({
      title: `Experts held per server and layer (of ${p.experts})`,
      data: perLayer.flatMap((row, l) =>
        row.map((n, s) => ({ x: String(l), y: serverName(s), value: n, label: String(n) })),
      ),
      xTitle: 'MoE layer',
      yTitle: 'server',
      valueTitle: 'experts',
      xs: Array.from({ length: L }, (_, l) => String(l)),
      ys: servers,
      scheme: 'greens',
    }),
  );
  figures.push(
    await expertMemoryBars(
      b.servers,
      b.servers
        .map((s) => `${s.name} ${s.experts} experts, ${bytesText(s.memoryBytes)} of ${bytesText(s.memoryLimitBytes)}`)
        .join('; '),
    ),
  );
  figures.push({
    kind: 'table',
    title: 'Per class',
    header: ['class', 'users', 'cut', 'latency per token', 'network per token', 'dropped share', 'device memory'],
    rows: b.classes.map((c) => [
      c.name,
      String(c.users),
      String(c.cut),
      secondsText(c.latencySeconds),
      bytesText(c.networkBytesPerToken),
      pct(c.droppedShare),
      bytesText(c.deviceBytes),
    ]),
  });
  return figures;
}
