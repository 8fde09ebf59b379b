/**
 * parallel-placement: what a Megatron/vLLM practitioner draws for a PP × TP (× DP) plan — the layer
 * strip coloured by stage (each stage named by its TP/DP groups and their servers), memory per
 * server against what it may use, the time of each stage split into compute, tensor-parallel
 * all-reduce, the hop to the next stage and the data-parallel gradient sync, the launch settings
 * (VLLM_PP_LAYER_PARTITION, TP per stage), and for training one iteration's 1F1B/GPipe timeline.
 */
import type { ParallelBreakdown, StageReport } from '../../formulations/parallel-placement/evaluate.ts';
import type { ParallelProblem } from '../../formulations/parallel-placement/schema.ts';
import { intervals, stackedBars } from '../chart.ts';
import { simulatePipeline } from '../schedule.ts';
import type { DrawInput, Figure } from '../types.ts';
import { bytesText, gb, isRecord, ms, pct, secondsText } from '../units.ts';

function breakdownOf(input: DrawInput): ParallelBreakdown | null {
  const b = input.evaluation.breakdown;
  return isRecord(b) && Array.isArray(b.stages) ? (b as unknown as ParallelBreakdown) : null;
}

/** `stage 2 TP2×DP1` — the stage's shape, as Megatron writes it. */
function stageName(s: StageReport): string {
  return `stage ${s.stage} TP${s.tensorParallel}×DP${s.dataParallel}`;
}

export async function drawParallel(input: DrawInput<ParallelProblem>): Promise<Figure[]> {
  const b = breakdownOf(input);
  if (b === null) return [];
  const problem = input.problem;
  const training = problem.mode.kind === 'training';
  const names = b.stages.map(stageName);
  const figures: Figure[] = [];

  figures.push(
    await intervals({
      title: `Layers 1–${problem.model.layers} of ${problem.model.id} by stage`,
      data: b.stages.map((s, i) => ({
        row: 'layers',
        start: s.firstLayer - 0.5,
        end: s.lastLayer + 0.5,
        group: names[i],
        label: s.firstLayer === s.lastLayer ? `${s.firstLayer}` : `${s.firstLayer}–${s.lastLayer}`,
      })),
      rowTitle: '',
      xTitle: 'layer',
      groupTitle: 'stage',
      groups: names,
      band: 44,
      integerAxis: true,
      caption: b.stages
        .map((s) => `stage ${s.stage}: layers ${s.firstLayer}–${s.lastLayer} on ${groupsText(s)}`)
        .join('; '),
    }),
  );

  // Every server of a TP group holds the same shard, so each server gets its group's figures.
  const stateName = training ? 'weights + gradients + optimizer state' : 'weights';
  const parts = [stateName, 'KV cache', 'activations', 'runtime / other'];
  const perServer = b.stages.flatMap((s) =>
    s.groups.flatMap((g) => g.servers.map((server) => ({ server, stage: s.stage, g }))),
  );
  figures.push(
    await stackedBars({
      title: 'Memory per server (GB) against what it may use (black tick)',
      data: perServer.flatMap(({ server, g }) =>
        [
          { category: server, part: stateName, value: gb(g.stateBytes) },
          { category: server, part: 'KV cache', value: gb(g.kvBytes) },
          { category: server, part: 'activations', value: gb(g.activationBytes) },
          {
            category: server,
            part: 'runtime / other',
            value: gb(Math.max(0, g.memoryBytes - g.stateBytes - g.kvBytes - g.activationBytes)),
          },
        ].filter((d) => d.value > 0),
      ),
      capacity: perServer.map(({ server, g }) => ({ category: server, value: gb(g.usableBytes) })),
      categoryTitle: 'server',
      valueTitle: 'GB',
      partTitle: 'held',
      parts,
      caption: perServer
        .map(
          ({ server, stage, g }) =>
            `${server} (stage ${stage}) ${bytesText(g.memoryBytes)} of ${bytesText(g.usableBytes)}`,
        )
        .join('; '),
    }),
  );

  // The slowest group sets a stage's time; its compute and all-reduce are what the bars split.
  const timeParts = ['compute', 'tensor-parallel all-reduce', 'hop to next stage', 'data-parallel sync'];
  figures.push(
    await stackedBars({
      title: training
        ? 'Time per stage (ms): one micro-batch forward + backward, the hop; the data-parallel sync once per iteration'
        : 'Time per stage (ms)',
      data: b.stages.flatMap((s, i) => {
        const slowest = s.groups.reduce((a, g) => (g.seconds > a.seconds ? g : a), s.groups[0]);
        return [
          { category: names[i], part: 'compute', value: ms(slowest.computeSeconds) },
          { category: names[i], part: 'tensor-parallel all-reduce', value: ms(slowest.tensorParallelSeconds) },
          { category: names[i], part: 'hop to next stage', value: ms(s.hopSeconds) },
          { category: names[i], part: 'data-parallel sync', value: ms(s.dataParallelSeconds) },
        ].filter((d) => d.value > 0);
      }),
      categoryTitle: 'stage',
      valueTitle: 'ms',
      partTitle: 'time',
      parts: timeParts,
      caption: `sum of stages ${secondsText(b.sumSeconds)}, bottleneck ${secondsText(b.bottleneckSeconds)}`,
    }),
  );

  figures.push({
    kind: 'table',
    title: 'Groups and launch settings',
    header: ['stage', 'layers', 'TP × DP', 'groups (servers)', 'device', 'stage time'],
    rows: b.stages.map((s) => [
      String(s.stage),
      `${s.firstLayer}–${s.lastLayer}`,
      `${s.tensorParallel} × ${s.dataParallel}`,
      groupsText(s),
      [...new Set(s.groups.map((g) => g.device))].join(', '),
      secondsText(s.seconds),
    ]),
    caption:
      `vLLM: VLLM_PP_LAYER_PARTITION=${b.serving.ppLayerPartition}, tensor-parallel size per stage ` +
      `${b.serving.tensorParallelPerStage.join(', ')}` +
      (b.serving.uniformTensorParallel ? '' : ' (not uniform: vLLM needs one TP size for all stages)') +
      (b.concurrentSequences !== null ? `; ${b.concurrentSequences} sequences fit at once` : ''),
  });

  if (problem.mode.kind === 'training') {
    const { microBatches, schedule } = problem.mode;
    const stages = b.stages.map((s) => ({ computeSeconds: s.seconds, commSeconds: s.hopSeconds }));
    const timeline = simulatePipeline(stages, microBatches, schedule);
    const name = schedule === '1f1b' ? '1F1B' : 'GPipe';
    figures.push(
      await intervals({
        title: `One iteration, ${name} schedule, ${microBatches} micro-batches (ms); gaps are the bubble`,
        data: timeline.ops.map((o) => ({
          row: names[o.stage],
          start: ms(o.start),
          end: ms(o.end),
          group: o.pass,
          label: String(o.microBatch + 1),
        })),
        rows: names,
        rowTitle: 'stage',
        xTitle: 'ms',
        groupTitle: 'pass',
        groups: ['forward', 'backward'],
        width: 860,
        caption:
          `simulated pipeline ${secondsText(timeline.makespanSeconds)} before the data-parallel sync ` +
          `(${secondsText(b.dataParallelSeconds)}); idle share per stage ` +
          timeline.idleFraction.map((f, s) => `${s + 1}: ${pct(f)}`).join(', ') +
          '; each stage time is split 1 : 2 between forward and backward',
      }),
    );
  }
  return figures;
}

function groupsText(s: StageReport): string {
  return s.groups.map((g) => (g.servers.length === 1 ? g.servers[0] : `[${g.servers.join(' + ')}]`)).join(', ');
}
