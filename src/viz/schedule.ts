/**
 * One training iteration of a pipeline, simulated op by op for the timeline picture: GPipe (all
 * forwards, then all backwards) or 1F1B (PipeDream-Flush: S − s warm-up forwards on stage s, then
 * one forward / one backward alternately, then the remaining backwards). Each op starts when its
 * stage is free and its input has arrived (the previous stage's forward plus the hop, or the next
 * stage's backward plus the hop back). The cost model reports one time per stage and micro-batch
 * (forward and backward together); the picture splits it 1 : 2 between forward and backward, the
 * usual FLOP ratio, and the hop time in halves (activations forward, gradients back).
 */

export interface StageTimes {
  /** Forward + backward of one micro-batch on this stage. */
  readonly computeSeconds: number;
  /** To the next stage and back (activations + gradients); 0 for the last stage. */
  readonly commSeconds: number;
}

export interface Op {
  readonly stage: number;
  readonly microBatch: number;
  readonly pass: 'forward' | 'backward';
  readonly start: number;
  readonly end: number;
}

export interface Timeline {
  readonly ops: readonly Op[];
  readonly makespanSeconds: number;
  /** Per stage: the share of the makespan it sits idle (the bubble). */
  readonly idleFraction: readonly number[];
}

/** The order in which one stage runs its ops. */
function stageOrder(stage: number, stages: number, microBatches: number, schedule: 'gpipe' | '1f1b') {
  const order: { pass: 'forward' | 'backward'; microBatch: number }[] = [];
  if (schedule === 'gpipe') {
    for (let m = 0; m < microBatches; m++) order.push({ pass: 'forward', microBatch: m });
    for (let m = 0; m < microBatches; m++) order.push({ pass: 'backward', microBatch: m });
    return order;
  }
  const warmup = Math.min(stages - stage - 1, microBatches);
  let f = 0;
  let b = 0;
  for (; f < warmup; f++) order.push({ pass: 'forward', microBatch: f });
  while (f < microBatches) {
    order.push({ pass: 'forward', microBatch: f++ });
    order.push({ pass: 'backward', microBatch: b++ });
  }
  while (b < microBatches) order.push({ pass: 'backward', microBatch: b++ });
  return order;
}

export function simulatePipeline(
  stages: readonly StageTimes[],
  microBatches: number,
  schedule: 'gpipe' | '1f1b',
): Timeline {
  const S = stages.length;
  const fwd = stages.map((s) => s.computeSeconds / 3);
  const bwd = stages.map((s) => (2 * s.computeSeconds) / 3);
  const hop = stages.map((s) => s.commSeconds / 2);
  const orders = stages.map((_, s) => stageOrder(s, S, microBatches, schedule));
  const next = new Array<number>(S).fill(0);
  const free = new Array<number>(S).fill(0);
  const fEnd = stages.map(() => new Array<number>(microBatches).fill(NaN));
  const bEnd = stages.map(() => new Array<number>(microBatches).fill(NaN));
  const ops: Op[] = [];
  let remaining = S * 2 * microBatches;
  while (remaining > 0) {
    let progressed = false;
    for (let s = 0; s < S; s++) {
      while (next[s] < orders[s].length) {
        const { pass, microBatch: m } = orders[s][next[s]];
        let ready: number;
        if (pass === 'forward') ready = s === 0 ? 0 : fEnd[s - 1][m] + hop[s - 1];
        else ready = s === S - 1 ? fEnd[s][m] : bEnd[s + 1][m] + hop[s];
        if (Number.isNaN(ready)) break;
        const start = Math.max(ready, free[s]);
        const end = start + (pass === 'forward' ? fwd[s] : bwd[s]);
        (pass === 'forward' ? fEnd : bEnd)[s][m] = end;
        free[s] = end;
        ops.push({ stage: s, microBatch: m, pass, start, end });
        next[s]++;
        remaining--;
        progressed = true;
      }
    }
    // Every schedule above is deadlock-free; this guards the loop against a future edit that is not.
    if (!progressed) throw new Error('pipeline schedule deadlocked');
  }
  const makespanSeconds = Math.max(0, ...ops.map((o) => o.end));
  const idleFraction = stages.map((_, s) => {
    const busy = ops.filter((o) => o.stage === s).reduce((sum, o) => sum + (o.end - o.start), 0);
    return makespanSeconds > 0 ? 1 - busy / makespanSeconds : 0;
  });
  return { ops, makespanSeconds, idleFraction };
}
