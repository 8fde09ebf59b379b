/**
 * pipeline-placement: the layer strip coloured by server, memory per server against capacity,
 * the hops (bytes and seconds), and for training one iteration's 1F1B/GPipe timeline.
 */
import type { PipelineBreakdown } from '../../formulations/pipeline-placement/evaluate.ts';
import type { PipelineProblem } from '../../formulations/pipeline-placement/schema.ts';
import { intervals, stackedBars } from '../chart.ts';
import { simulatePipeline } from '../schedule.ts';
import type { DrawInput, Figure } from '../types.ts';
import { bytesText, gb, isRecord, ms, pct, secondsText } from '../units.ts';

function breakdownOf(input: DrawInput): PipelineBreakdown | null {
  const b = input.evaluation.breakdown;
  return isRecord(b) && Array.isArray(b.stages) ? (b as unknown as PipelineBreakdown) : null;
}

export async function drawPipeline(input: DrawInput<PipelineProblem>): Promise<Figure[]> {
  const b = breakdownOf(input);
  if (b === null) return [];
  const problem = input.problem;
  const training = b.objectiveKind === 'training';
  const servers = b.stages.map((s) => s.server);
  const figures: Figure[] = [];

  figures.push(
    await intervals({
      title: `Layers 1–${problem.model.layers} of ${problem.model.id} by server`,
      data: b.stages.map((s) => ({
        row: 'layers',
        start: s.firstLayer - 0.5,
        end: s.lastLayer + 0.5,
        group: s.server,
        label: s.firstLayer === s.lastLayer ? `${s.firstLayer}` : `${s.firstLayer}–${s.lastLayer}`,
      })),
      rowTitle: '',
      xTitle: 'layer',
      groupTitle: 'server',
      groups: servers,
      band: 44,
      integerAxis: true,
      caption: b.stages
        .map((s) => `stage ${s.stage}: ${s.server} holds layers ${s.firstLayer}–${s.lastLayer}`)
        .join('; '),
    }),
  );

  const stateName = training ? 'weights + gradients + optimizer state' : 'weights';
  const parts = [stateName, 'KV cache', 'activations', 'runtime / other'];
  const memory = b.stages.flatMap((s) => {
    const other = Math.max(0, s.memoryBytes - s.stateBytes - s.kvBytes - s.activationBytes);
    return [
      { category: s.server, part: stateName, value: gb(s.stateBytes) },
      { category: s.server, part: 'KV cache', value: gb(s.kvBytes) },
      { category: s.server, part: 'activations', value: gb(s.activationBytes) },
      { category: s.server, part: 'runtime / other', value: gb(other) },
    ].filter((d) => d.value > 0);
  });
  figures.push(
    await stackedBars({
      title: 'Memory per server (GB) against capacity (black tick)',
      data: memory,
      capacity: b.stages.map((s) => ({ category: s.server, value: gb(s.capacityBytes) })),
      categoryTitle: 'server',
      valueTitle: 'GB',
      partTitle: 'held',
      parts,
      caption: b.stages
        .map((s) => `${s.server} ${bytesText(s.memoryBytes)} of ${bytesText(s.capacityBytes)}`)
        .join('; '),
    }),
  );

  figures.push(
    await stackedBars({
      title: `Time per stage (ms${training ? ', one micro-batch forward + backward' : ''})`,
      data: b.stages.flatMap((s) => [
        { category: s.server, part: 'compute', value: ms(s.computeSeconds) },
        ...(s.commSeconds > 0 ? [{ category: s.server, part: 'hop to next stage', value: ms(s.commSeconds) }] : []),
      ]),
      categoryTitle: 'server',
      valueTitle: 'ms',
      partTitle: 'time',
      parts: ['compute', 'hop to next stage'],
    }),
  );

  const hops = b.stages
    .slice(0, -1)
    .map((s, i) => [`${s.server} → ${b.stages[i + 1].server}`, bytesText(s.hopBytes), secondsText(s.commSeconds)]);
  if (b.returnSeconds > 0)
    hops.push([`${servers[servers.length - 1]} → ${servers[0]} (return)`, '-', secondsText(b.returnSeconds)]);
  if (hops.length > 0)
    figures.push({
      kind: 'table',
      title: 'Links: what each hop carries and how long it takes',
      header: ['hop', 'bytes per step', training ? 'seconds (activations + gradients)' : 'seconds'],
      rows: hops,
    });

  if (training && problem.mode.kind === 'training') {
    const { microBatches, schedule } = problem.mode;
    const timeline = simulatePipeline(b.stages, microBatches, schedule);
    const name = schedule === '1f1b' ? '1F1B' : 'GPipe';
    const rowOf = (s: number): string => `${s + 1} ${servers[s]}`;
    figures.push(
      await intervals({
        title: `One iteration, ${name} schedule, ${microBatches} micro-batches (ms); gaps are the bubble`,
        data: timeline.ops.map((o) => ({
          row: rowOf(o.stage),
          start: ms(o.start),
          end: ms(o.end),
          group: o.pass,
          label: String(o.microBatch + 1),
        })),
        rows: b.stages.map((_, s) => rowOf(s)),
        rowTitle: 'stage',
        xTitle: 'ms',
        groupTitle: 'pass',
        groups: ['forward', 'backward'],
        width: 860,
        caption:
          `simulated iteration ${secondsText(timeline.makespanSeconds)} (cost model: ` +
          `${secondsText(b.iterationSeconds)}); idle share per stage ` +
          timeline.idleFraction.map((f, s) => `${servers[s]} ${pct(f)}`).join(', ') +
          '; each stage time is split 1 : 2 between forward and backward',
      }),
    );
  }
  return figures;
}
