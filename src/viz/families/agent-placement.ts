/**
 * agent-placement: a users × modules matrix coloured by where each module runs (the device or a
 * server); per user the critical path of one interaction (each module's run and the transfers and
 * waits between them, ending with the result's trip back) as bars on a time axis; each server's
 * memory against its capacity. Drawn from evaluate's breakdown (its per-module start and finish).
 */
import type { AgentBreakdown } from '../../formulations/agent-placement/evaluate.ts';
import type { Problem } from '../../formulations/agent-placement/schema.ts';
import { bandHeight, chart, intervals, stackedBars } from '../chart.ts';
import type { DrawInput, Figure } from '../types.ts';
import { bytesText, gb, isRecord, pct, secondsText } from '../units.ts';

type UserBreakdown = AgentBreakdown['users'][number];
interface Span {
  row: string;
  start: number;
  end: number;
  group: string;
  label: string;
}

/**
 * The chain of modules that sets a user's latency, walked back from the final module that finishes
 * last: each module's predecessor is the input that finished last (its start waits for it). The gaps
 * are transfers (or waiting for them); the spans end at the user's latency, so the bar is its length.
 */
export function criticalPath(problem: Problem, userIndex: number, u: UserBreakdown): Span[] {
  const modules = problem.tasks[problem.users[userIndex].task].modules;
  const finals = modules.map((m, k) => k).filter((k) => modules[k].final);
  if (finals.length === 0 || u.modules.length !== modules.length) return [];
  let k = finals.reduce((a, c) => (u.modules[c].finishSeconds > u.modules[a].finishSeconds ? c : a), finals[0]);
  const spans: Span[] = [];
  const row = u.user;
  if (u.latencySeconds > u.modules[k].finishSeconds)
    spans.push({ row, start: u.modules[k].finishSeconds, end: u.latencySeconds, group: 'transfer', label: '' });
  for (;;) {
    const m = u.modules[k];
    spans.push({ row, start: m.startSeconds, end: m.finishSeconds, group: m.module, label: m.at });
    const inputs = modules[k].inputs;
    const before =
      inputs.length === 0
        ? undefined
        : inputs.reduce((a, c) => (u.modules[c].finishSeconds > u.modules[a].finishSeconds ? c : a), inputs[0]);
    const readyAt = before === undefined ? 0 : u.modules[before].finishSeconds;
    if (m.startSeconds > readyAt)
      spans.push({ row, start: readyAt, end: m.startSeconds, group: 'transfer', label: '' });
    if (before === undefined) break;
    k = before;
  }
  return spans.reverse();
}

export async function drawAgentPlacement(input: DrawInput<Problem>): Promise<Figure[]> {
  const raw = input.evaluation.breakdown;
  if (!isRecord(raw) || !Array.isArray(raw.users) || !Array.isArray(raw.servers)) return [];
  const b = raw as unknown as AgentBreakdown;
  const p = input.problem;
  const figures: Figure[] = [];
  const locations = ['device', ...p.servers.map((s) => s.id)];
  // Modules of every task, in task order (tasks may share module names; a column per distinct name).
  const moduleNames = [...new Set(p.tasks.flatMap((t) => t.modules.map((m) => m.id)))];
  const users = b.users.map((u) => u.user);
  const cells = b.users.flatMap((u) => u.modules.map((m) => ({ user: u.user, module: m.module, at: m.at })));
  figures.push(
    await chart(
      'Where each user runs each module (users × modules, coloured by location)',
      {
        width: Math.max(160, moduleNames.length * 110),
        height: bandHeight(users.length, 24),
        data: { values: cells },
        encoding: {
          x: { field: 'module', type: 'ordinal', title: 'module', sort: moduleNames, axis: { labelAngle: 0 } },
          y: { field: 'user', type: 'ordinal', title: 'user', sort: users },
        },
        layer: [
          {
            mark: { type: 'rect', stroke: 'white' },
            encoding: {
              color: {
                field: 'at',
                type: 'nominal',
                title: 'runs on',
                sort: locations,
                scale: { domain: locations, scheme: 'set2' },
              },
              tooltip: [{ field: 'user' }, { field: 'module' }, { field: 'at' }],
            },
          },
          { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'at' } } },
        ],
      },
      `${p.parameterSharing ? 'modules on one server share the blocks of a common base model; ' : ''}` +
        `network ${Number((b.networkBitsPerSecond / 1e6).toPrecision(4))} Mbit/s over all users`,
    ),
  );
  figures.push(
    await intervals({
      title: 'Per-user latency (s): the critical path of one interaction, module by module',
      data: b.users.flatMap((u, i) => criticalPath(p, i, u)),
      rows: users,
      rowTitle: 'user',
      xTitle: 'seconds',
      groupTitle: 'on the path',
      groups: [...moduleNames, 'transfer'],
      caption:
        `a module's bar is labelled with where it runs; "transfer" is moving inputs, outputs or the result ` +
        `(or waiting for them); worst ${secondsText(b.worstLatencySeconds)}, rate-weighted mean ` +
        `${secondsText(b.meanLatencySeconds)} (objective: ${b.objective})`,
    }),
  );
  figures.push(
    await stackedBars({
      title: 'Memory per server (GB): model blocks and KV caches against capacity',
      data: b.servers.map((s) => ({ category: s.location, part: 'blocks + KV', value: gb(s.memoryBytes) })),
      capacity: b.servers.map((s) => ({ category: s.location, value: gb(s.capacityBytes) })),
      categoryTitle: 'server',
      valueTitle: 'GB',
      partTitle: 'held',
      caption: b.servers
        .map(
          (s) =>
            `${s.location} ${bytesText(s.memoryBytes)} of ${bytesText(s.capacityBytes)}` +
            (s.utilisation !== undefined ? `, busy ${pct(s.utilisation)}` : ''),
        )
        .join('; '),
    }),
  );
  figures.push({
    kind: 'table',
    title: 'Per user',
    header: ['user', 'latency', 'network per interaction', 'device memory', ...moduleNames],
    rows: b.users.map((u, i) => [
      u.user,
      secondsText(u.latencySeconds),
      bytesText(u.networkBytes),
      b.devices[i] === undefined
        ? '-'
        : `${bytesText(b.devices[i].memoryBytes)} of ${bytesText(b.devices[i].capacityBytes)}`,
      ...moduleNames.map((name) => u.modules.find((m) => m.module === name)?.at ?? '-'),
    ]),
  });
  return figures;
}
