/**
 * model-caching: the models × servers placement matrix (a cell's colour is the share of the
 * model's bytes in blocks it shares with other models cached on that server — parameter sharing
 * made visible), storage per server (shared blocks stored once) against capacity, and the hit
 * ratio per user. The cached sets come from the breakdown evaluate computed.
 */
import type { CachingBreakdown } from '../../formulations/model-caching/evaluate.ts';
import { edgeServes } from '../../formulations/model-caching/cost.ts';
import type { Problem } from '../../formulations/model-caching/schema.ts';
import { bandHeight, chart, heatmap, stackedBars } from '../chart.ts';
import type { DrawInput, Figure } from '../types.ts';
import { bytesText, gb, isRecord, pct } from '../units.ts';

const MAX_USERS = 60;

export async function drawCaching(input: DrawInput<Problem>): Promise<Figure[]> {
  const raw = input.evaluation.breakdown;
  if (!isRecord(raw) || !Array.isArray(raw.servers)) return [];
  const b = raw as unknown as CachingBreakdown;
  const p = input.problem;
  const modelIndex = new Map(p.models.map((m, i) => [m.id, i]));
  const sets = b.servers.map((s) =>
    s.models.map((id) => modelIndex.get(id)).filter((i): i is number => i !== undefined),
  );
  const figures: Figure[] = [];

  const cells: { x: string; y: string; value: number; label: string }[] = [];
  const storage: { category: string; part: string; value: number }[] = [];
  b.servers.forEach((server, n) => {
    const uses = new Map<number, number>();
    for (const m of sets[n]) for (const blk of new Set(p.models[m].blocks)) uses.set(blk, (uses.get(blk) ?? 0) + 1);
    for (const m of sets[n]) {
      const shared = [...new Set(p.models[m].blocks)]
        .filter((blk) => p.parameterSharing && (uses.get(blk) ?? 0) > 1)
        .reduce((sum, blk) => sum + p.blocks[blk].sizeBytes, 0);
      const share = p.models[m].sizeBytes > 0 ? shared / p.models[m].sizeBytes : 0;
      cells.push({
        x: server.server,
        y: p.models[m].id,
        value: share,
        label: share > 0 ? `${pct(share)} shared` : 'cached',
      });
    }
    let sharedBytes = 0;
    let ownBytes = 0;
    for (const [blk, count] of uses) {
      if (p.parameterSharing && count > 1) sharedBytes += p.blocks[blk].sizeBytes;
      else ownBytes += p.blocks[blk].sizeBytes * (p.parameterSharing ? 1 : count);
    }
    if (!p.parameterSharing) ownBytes = server.storageBytes;
    storage.push({ category: server.server, part: 'blocks of one cached model', value: gb(ownBytes) });
    storage.push({ category: server.server, part: 'blocks shared by several (stored once)', value: gb(sharedBytes) });
  });
  figures.push(
    await heatmap({
      title: 'Which model is cached where: models × servers (colour: share of the model in shared blocks)',
      data: cells,
      xTitle: 'server',
      yTitle: 'model',
      valueTitle: 'shared share',
      xs: b.servers.map((s) => s.server),
      ys: p.models.map((m) => m.id),
      scheme: 'greens',
      caption: p.parameterSharing
        ? 'an empty cell is not cached; a dark cell shares most of its bytes with other models on that server'
        : 'parameter sharing is off: every cached model is stored whole',
    }),
  );
  figures.push(
    await stackedBars({
      title: 'Storage per server (GB) against capacity',
      data: storage.filter((d) => d.value > 0),
      capacity: b.servers.map((s) => ({ category: s.server, value: gb(s.capacityBytes) })),
      categoryTitle: 'server',
      valueTitle: 'GB',
      partTitle: 'stored',
      caption: b.servers
        .map((s) => `${s.server} ${bytesText(s.storageBytes)} of ${bytesText(s.capacityBytes)}`)
        .join('; '),
    }),
  );

  const perUser = p.users.map((u, ui) => {
    let hit = 0;
    u.requests.forEach((r, m) => {
      if (r > 0 && b.servers.some((_, n) => sets[n].includes(m) && edgeServes(p, ui, n, m))) hit += r;
    });
    return { user: u.id, hit, share: u.share };
  });
  const shown = [...perUser].sort((a, c) => c.share - a.share).slice(0, MAX_USERS);
  figures.push(
    await chart(
      `Hit ratio per user${perUser.length > MAX_USERS ? ` (the ${MAX_USERS} with most requests)` : ''}`,
      {
        width: 480,
        height: bandHeight(shown.length, 16),
        data: { values: shown },
        mark: 'bar',
        encoding: {
          y: { field: 'user', type: 'nominal', sort: null, title: 'user' },
          x: {
            field: 'hit',
            type: 'quantitative',
            title: 'share of its requests served at the edge',
            scale: { domain: [0, 1] },
          },
          tooltip: [{ field: 'user' }, { field: 'hit', format: '.3f' }, { field: 'share', format: '.3f' }],
        },
      },
      `overall ${pct(b.hitRatio)}${b.expectedLatencySeconds !== undefined ? `; expected latency ${b.expectedLatencySeconds.toPrecision(4)} s` : ''}`,
    ),
  );
  figures.push({
    kind: 'table',
    title: 'Per model: requests and the share served at the edge',
    header: ['model', 'share of requests', 'served at the edge'],
    rows: b.models.map((m) => [m.model, pct(m.requestShare), pct(m.servedShare)]),
  });
  return figures;
}
