/**
 * split-finetune: per client its cut, frozen prefix and subchannels (a table and a layer strip),
 * and the round-time breakdown as stacked bars; the server's memory against its capacity.
 */
import type { SplitFinetuneBreakdown } from '../../formulations/split-finetune/evaluate.ts';
import type { SplitFinetuneProblem } from '../../formulations/split-finetune/schema.ts';
import { intervals, stackedBars } from '../chart.ts';
import type { DrawInput, Figure } from '../types.ts';
import { bytesText, gb, isRecord, ms, pct, secondsText } from '../units.ts';

export async function drawSplitFinetune(input: DrawInput<SplitFinetuneProblem>): Promise<Figure[]> {
  const raw = input.evaluation.breakdown;
  if (!isRecord(raw) || !Array.isArray(raw.clients)) return [];
  const b = raw as unknown as SplitFinetuneBreakdown;
  const total = input.problem.model.layers;
  const figures: Figure[] = [];
  figures.push({
    kind: 'table',
    title: 'Per client: cut, frozen prefix, subchannels',
    header: [
      'client',
      'device',
      'cut (layers on device)',
      'frozen layers',
      'trainable params',
      'subchannels',
      'memory',
    ],
    rows: b.clients.map((c) => [
      c.client,
      c.device,
      `${c.cut} of ${total}`,
      `${c.frozenLayers} (${pct(c.freezingRatio)})`,
      `${c.trainableParams} (${pct(c.trainableParamFraction)})`,
      `${c.subchannels} of ${b.subchannels}`,
      `${bytesText(c.clientMemoryBytes)} of ${bytesText(c.deviceMemoryBytes)}`,
    ]),
  });
  figures.push(
    await intervals({
      title: `Where each client's layers run (1–${total}): frozen on device, trained on device, on the server`,
      data: b.clients.flatMap((c) => {
        const parts = [];
        if (c.frozenLayers > 0)
          parts.push({
            row: c.client,
            start: 0.5,
            end: Math.min(c.frozenLayers, c.cut) + 0.5,
            group: 'device, frozen',
          });
        if (c.cut > c.frozenLayers)
          parts.push({ row: c.client, start: c.frozenLayers + 0.5, end: c.cut + 0.5, group: 'device, trained' });
        if (c.frozenLayers > c.cut)
          parts.push({ row: c.client, start: c.cut + 0.5, end: c.frozenLayers + 0.5, group: 'server, frozen' });
        const serverFrom = Math.max(c.cut, c.frozenLayers);
        if (serverFrom < total)
          parts.push({ row: c.client, start: serverFrom + 0.5, end: total + 0.5, group: 'server, trained' });
        return parts.map((p) => ({ ...p, label: `${Math.round(p.start + 0.5)}–${Math.round(p.end - 0.5)}` }));
      }),
      rowTitle: 'client',
      xTitle: 'layer',
      groupTitle: 'runs on',
      groups: ['device, frozen', 'device, trained', 'server, frozen', 'server, trained'],
      integerAxis: true,
      caption: `cut = layers on the device; the server keeps layers from ${b.server.lowestServerLayer} up loaded`,
    }),
  );
  const parts = [
    'device forward',
    'uplink',
    'server',
    'gradient downlink',
    'device backward',
    'adapter aggregation (each)',
  ];
  figures.push(
    await stackedBars({
      title: 'Round time per client in the first epoch (ms), by phase',
      data: b.clients.flatMap((c) =>
        [
          { category: c.client, part: parts[0], value: ms(c.clientForwardSeconds) },
          { category: c.client, part: parts[1], value: ms(c.uplinkSeconds) },
          { category: c.client, part: parts[2], value: ms(c.serverSeconds) },
          { category: c.client, part: parts[3], value: ms(c.gradientDownlinkSeconds) },
          { category: c.client, part: parts[4], value: ms(c.clientBackwardSeconds) },
          { category: c.client, part: parts[5], value: ms(c.aggregationSeconds) },
        ].filter((d) => d.value > 0),
      ),
      categoryTitle: 'client',
      valueTitle: 'ms',
      partTitle: 'phase',
      parts,
      caption:
        `average round ${secondsText(b.roundSeconds)} (barrier waits included), bottleneck ${b.bottleneckClient}; ` +
        `${b.rounds} rounds, total ${secondsText(b.totalSeconds)}, device energy ${Number(b.totalDeviceEnergyJoules.toPrecision(4))} J. ` +
        'Later epochs: ' +
        b.clients.map((c) => `${c.client} ${secondsText(c.laterRoundSeconds)}`).join(', ') +
        ' per round (cached frozen activations).',
    }),
  );
  figures.push(
    await stackedBars({
      title: 'Server memory (GB) against capacity',
      data: [
        { category: 'server', part: 'shared weights', value: gb(b.server.sharedWeightBytes) },
        { category: 'server', part: 'per-client state', value: gb(b.server.perClientBytes) },
      ].filter((d) => d.value > 0),
      capacity: [{ category: 'server', value: gb(b.server.capacityBytes) }],
      categoryTitle: '',
      valueTitle: 'GB',
      partTitle: 'held',
      caption: `${bytesText(b.server.memoryBytes)} of ${bytesText(b.server.capacityBytes)}`,
    }),
  );
  return figures;
}
