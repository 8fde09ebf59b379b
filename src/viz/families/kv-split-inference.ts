/**
 * kv-split-inference: per user the cut and the per-token latency terms (device, uplink, server
 * step, downlink) as stacked bars; the server's memory — shared weights once, adapters, the KV
 * cache of each user — against its capacity.
 */
import type { KvBreakdown } from '../../formulations/kv-split-inference/evaluate.ts';
import { stackedBars } from '../chart.ts';
import type { DrawInput, Figure } from '../types.ts';
import { bytesText, gb, isRecord, ms, secondsText } from '../units.ts';

/** Above this many users the per-user KV slices are merged into one segment (a legend of 200 is no help). */
const MAX_KV_SEGMENTS = 24;

export async function drawKvSplit(input: DrawInput): Promise<Figure[]> {
  const raw = input.evaluation.breakdown;
  if (!isRecord(raw) || !Array.isArray(raw.users)) return [];
  const b = raw as unknown as KvBreakdown;
  const figures: Figure[] = [];
  const label = (u: KvBreakdown['users'][number]): string => `${u.user} (cut ${u.cut ?? '–'})`;
  const parts = ['device', 'uplink', 'server step', 'downlink'];
  figures.push(
    await stackedBars({
      title: 'Per-token decode latency per user (ms), by term; the label gives the cut',
      data: b.users
        .filter((u) => u.served)
        .flatMap((u) =>
          [
            { category: label(u), part: 'device', value: ms(u.deviceSeconds) },
            { category: label(u), part: 'uplink', value: ms(u.uplinkSeconds) },
            { category: label(u), part: 'server step', value: ms(u.usesServer ? u.serverStepSeconds : 0) },
            { category: label(u), part: 'downlink', value: ms(u.downlinkSeconds) },
          ].filter((d) => d.value > 0),
        ),
      categoryTitle: 'user',
      valueTitle: 'ms per token',
      partTitle: 'term',
      parts,
      caption:
        `objective (${b.objective}) ${secondsText(b.latencyObjectiveSeconds)}; server batch ${b.serverBatchUsers} users, ` +
        `step ${secondsText(b.serverStepSeconds)}` +
        (b.unservedUsers.length > 0 ? `; not served: ${b.unservedUsers.join(', ')}` : ''),
    }),
  );
  const mem = b.serverMemory;
  const users = b.users.filter((u) => u.serverKvBytes > 0);
  const kvParts =
    users.length <= MAX_KV_SEGMENTS
      ? users.map((u) => ({ category: 'server', part: `KV ${u.user}`, value: gb(u.serverKvBytes) }))
      : [{ category: 'server', part: `KV, ${users.length} users`, value: gb(mem.kvBytes) }];
  figures.push(
    await stackedBars({
      title: 'Server memory (GB): shared weights once, adapters, KV cache per user, workspace',
      data: [
        { category: 'server', part: 'shared weights', value: gb(mem.weightBytes) },
        { category: 'server', part: 'adapters', value: gb(mem.adapterBytes) },
        ...kvParts,
        { category: 'server', part: 'workspace', value: gb(mem.workspaceBytes) },
      ].filter((d) => d.value > 0),
      capacity: [{ category: 'server', value: gb(mem.capacityBytes) }],
      categoryTitle: '',
      valueTitle: 'GB',
      partTitle: 'held',
      caption: `${bytesText(mem.totalBytes)} of ${bytesText(mem.capacityBytes)}; server layers ${
        b.serverLayers.length > 0 ? `${b.serverLayers[0]}–${b.serverLayers[b.serverLayers.length - 1]}` : 'none'
      }${b.serverHead ? ' + head' : ''}`,
    }),
  );
  figures.push({
    kind: 'table',
    title: 'Per user',
    header: ['user', 'cut', 'served', 'latency per token', 'time to first token', 'device memory', 'server KV'],
    rows: b.users.map((u) => [
      u.user,
      u.cut === null ? '-' : String(u.cut),
      u.served ? 'yes' : 'no',
      u.latencySeconds === null ? '-' : secondsText(u.latencySeconds),
      u.ttftSeconds === null ? '-' : secondsText(u.ttftSeconds),
      bytesText(u.deviceMemoryBytes) + (u.deviceStreamsWeights ? ' (streams weights)' : ''),
      bytesText(u.serverKvBytes),
    ]),
  });
  return figures;
}
