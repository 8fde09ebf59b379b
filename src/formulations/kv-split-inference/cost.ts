/**
 * The kv-split-inference cost model, built on src/cost. Everything a decision's cost depends on is
 * tabulated once per problem:
 *
 * - per user u and cut c ∈ 0..L: the device's per-token decode time (the roofline of layers 1..c
 *   at batch 1 with the user's full context, streaming weights from storage when they do not fit),
 *   the uplink and downlink per token, the device's memory need, the server-side KV bytes, the
 *   time to first token, and whether the cut is allowed at all for this user on its own
 *   (device memory, TTFT SLO, latency SLO before any server time);
 * - per server row (decoder layers 1..L, layer 1 with the embedding lookup; head): the bytes it keeps resident, the
 *   weight bytes one batched decode step reads (once for the whole batch: parameter sharing),
 *   each user's FLOPs and KV/activation traffic in it, and the per-variant LoRA adapter.
 *
 * The server's step time is the roofline of each row over the whole batch, summed over loaded
 * rows. Every server quantity is monotone non-increasing in every user's cut, which the exact
 * method (exact.ts) rests on.
 *
 * Device-only rule: a user at cut L runs every layer and the head on its own device and uses no
 * server resource at all — no head row, no workspace, no KV, no step time. A user takes part in
 * a server row iff it is served and its cut is below the row's threshold (layer l: l; head: L).
 */
import { layerTable, rowWork, type LayerRow, type LayerTable, type Workload } from '../../cost/layers.ts';
import { uplinkSeconds, downlinkSeconds } from '../../cost/link.ts';
import {
  activationBytesPerToken,
  activationDtypeOf,
  adapterDtypeOf,
  embeddingParams,
  headParams,
  kvBytesPerTokenPerLayer,
  layerParams,
} from '../../cost/model.ts';
import { inferenceWorkBufferBytes } from '../../cost/inference-memory.ts';
import { runtimeWorkspaceBytes } from '../../cost/memory.ts';
import { runtimeKvTokens } from '../../cost/runtime.ts';
import { loraForwardFlopsPerToken, loraParamsPerLayer } from '../../cost/training.ts';
import { bytesPerValue } from '../../cost/units.ts';
import { allocateShares, cellWorkSeconds, shareOf, type ShareDemand } from '../../cost/radio.ts';
import { withinLimit } from '../tolerance.ts';
import type { KvDecision, KvProblem } from './schema.ts';
import { assessThreeTier } from './three-tier.ts';

export interface UserCutCost {
  readonly cut: number;
  /** Per-token decode time of layers 1..cut (and the head when cut = L) on the user's device. */
  readonly deviceSeconds: number;
  readonly deviceStreams: boolean;
  /** Weights + KV the device holds for this cut. */
  readonly deviceResidentBytes: number;
  /** What must fit in device memory: everything resident, or (streaming) KV + the largest row. */
  readonly deviceNeedBytes: number;
  /** Dedicated link: the whole uplink time per token. Cell user: only the per-transfer latency. */
  readonly uplinkSeconds: number;
  readonly downlinkSeconds: number;
  /**
   * Cell user: seconds the per-token uplink / downlink bits take on the whole cell; with share s
   * they take work / s (0 for a dedicated link, where the time is all in uplinkSeconds).
   */
  readonly uplinkWorkSeconds: number;
  readonly downlinkWorkSeconds: number;
  /** device + uplink + downlink (a cell user's: without the share-dependent work). */
  readonly fixedSeconds: number;
  /** KV cache of the server-side layers for prompt + output tokens. */
  readonly serverKvBytes: number;
  /** Time to first token (a cell user's: at the whole cell; with share s, ttftSeconds − ttftWork + ttftWork / s). */
  readonly ttftSeconds: number;
  /** Cell user: the part of the time to first token that is radio work at share 1 (0 otherwise). */
  readonly ttftWorkSeconds: number;
  /** Cell user: the least share meeting its TTFT limit at this cut (0 without a limit or a cell). */
  readonly minShare: number;
  /** Device memory (or streaming being off) rules this cut out for this user, or null. */
  readonly deviceMemoryViolation: string | null;
  /** The user's privacy floor (minDeviceLayers) rules this cut out, or null. */
  readonly privacyViolation: string | null;
  /** The user's time-to-first-token limit rules this cut out, or null. */
  readonly ttftViolation: string | null;
  /** Device and link time alone already exceed the user's latency SLO, or null. */
  readonly fixedSloViolation: string | null;
  /** Why this cut cannot be used by this user whatever the others do (the first of the above), or null. */
  readonly staticViolation: string | null;
}

export type ServerRowKind = 'decoder' | 'head';

export interface ServerRow {
  readonly kind: ServerRowKind;
  /** 1..L decoder (layer 1 also does the embedding lookup), L + 1 head. */
  readonly index: number;
  /**
   * A served user takes part in this row iff its cut is below `threshold`: layer l → l; the head
   * → L (a user at cut L runs the head on its device and uses no server row).
   */
  readonly threshold: number;
  /** Kernel calls per step (layer 1: the embedding lookup and the layer). */
  readonly calls: number;
  readonly residentBytes: number;
  /** Weight bytes a batched step reads once, whatever the batch size. */
  readonly readBytes: number;
  /** LoRA adapter bytes per variant in this row (0 outside decoder rows). */
  readonly adapterBytes: readonly number[];
  readonly adapterFlopsPerToken: readonly number[];
  /** Per user: forward FLOPs of one decode token in this row (without adapter FLOPs). */
  readonly userFlops: readonly number[];
  /** Per user: bytes moved besides shared weights (KV read, hidden states, logits, lookups). */
  readonly userTrafficBytes: readonly number[];
}

/** A tier's effective rates: what its GPU computes and reads per second, and what one kernel call costs. */
export interface TierRates {
  readonly computeFlopsPerSecond: number;
  readonly bandwidthBytesPerSecond: number;
  readonly perCallOverheadSeconds: number;
}

/**
 * The cost model's time of one server row in a batched decode step: the roofline of the batch's
 * FLOPs and bytes in that row on the tier's rates, plus the row's kernel-call overheads. One
 * formula for every tier and every reader — the search's server state (serverStateOf, the cloud's
 * rowSecondsOf) and evaluate's own tier loads; which users and adapters a row carries is each
 * reader's own business. The MILP writes the same roofline as linear rows of its own (milp.ts).
 */
export function rowRooflineSeconds(row: ServerRow, flops: number, trafficBytes: number, rates: TierRates): number {
  return (
    Math.max(flops / rates.computeFlopsPerSecond, trafficBytes / rates.bandwidthBytesPerSecond) +
    row.calls * rates.perCallOverheadSeconds
  );
}

export interface KvTables extends TierRates {
  readonly layers: number;
  readonly users: readonly (readonly UserCutCost[])[];
  readonly rows: readonly ServerRow[];
  /**
   * Per user: the work buffers the server reserves for this user's prompt; the server reserves
   * the largest over the users it actually serves (cut < L), none when it serves nobody.
   */
  readonly workspaceBytes: readonly number[];
  readonly serverMemoryBytes: number;
  /** Step time with every user served at cut 0: an upper bound on any decision's step time. */
  readonly maxStepSeconds: number;
  /** Step time of each row with every user at cut 0 (per-row big-M of the MILP). */
  readonly maxRowSeconds: readonly number[];
  /** Objective penalty per unserved user under admission: above any latency objective. */
  readonly unservedPenaltySeconds: number;
}

function decodeWorkload(contextTokens: number): Workload {
  return { batch: 1, tokens: 1, contextTokens, logitsTokens: 1 };
}

function prefillWorkload(promptTokens: number): Workload {
  return { batch: 1, tokens: promptTokens, contextTokens: promptTokens, logitsTokens: 1 };
}

/**
 * Work buffers the server reserves for a prompt: FasterTransformer's prefill buffers
 * (src/cost/inference-memory.ts) for `prefillBatchSequences` prompts of that length, reused by
 * every layer, so they do not grow with the number of server layers. The server sizes them for
 * the longest prompt among the users it serves.
 */
export function serverWorkspaceBytes(
  problem: Pick<KvProblem, 'model' | 'prefillBatchSequences' | 'serverRuntime'>,
  promptTokens: number,
): number {
  // Under a named runtime the workspace follows its attention kernel (no s² buffers for fused
  // kernels, chunked prefill): the same function `edgeplan memory` uses (src/cost/memory.ts).
  const runtime = problem.serverRuntime ?? null;
  if (runtime !== null)
    return runtimeWorkspaceBytes(problem.model, runtime, problem.prefillBatchSequences, promptTokens);
  return inferenceWorkBufferBytes(problem.model, problem.prefillBatchSequences, promptTokens);
}

/** Sum of `rows[i].seconds` over the given indices, in order (rangeCost's own order). */
function sumSeconds(rows: readonly LayerRow[], indices: readonly number[]): number {
  let s = 0;
  for (const i of indices) s += rows[i].seconds;
  return s;
}

/**
 * Costs of every cut for user u. The whole-model layer tables are built once per workload, with
 * and without weight streaming, and each cut sums its rows — the same sums as rangeCost over
 * layers 1..c, without rebuilding a range per cut.
 */
function userCutCosts(problem: KvProblem, u: number, serverPrefill: LayerTable): UserCutCost[] {
  const model = problem.model;
  const L = model.layers;
  const user = problem.users[u];
  const context = user.promptTokens + user.outputTokens;
  const decodeResident = layerTable(model, user.device, decodeWorkload(context), { residentBytes: 0 }).rows;
  const decodeStreamed = layerTable(model, user.device, decodeWorkload(context), { residentBytes: Infinity }).rows;
  const prefillResident = layerTable(model, user.device, prefillWorkload(user.promptTokens), { residentBytes: 0 }).rows;
  const prefillStreamed = layerTable(model, user.device, prefillWorkload(user.promptTokens), {
    residentBytes: Infinity,
  }).rows;
  const kvPerLayerBytes = decodeResident[1].kvBytes;
  // The server allocates each user's cache as its runtime does (paged: whole blocks); exact without one.
  const runtime = problem.serverRuntime ?? null;
  const serverKvPerLayerBytes =
    runtime === null ? kvPerLayerBytes : runtimeKvTokens(runtime, context) * kvBytesPerTokenPerLayer(model);
  const costs: UserCutCost[] = [];
  let residentBytes = decodeResident[0].memoryBytes;
  let kvBytes = 0;
  let largestRow = decodeResident[0].weightBytes;
  const deviceRows: number[] = [0];
  for (let c = 0; c <= L; c++) {
    let deviceSeconds = 0;
    let deviceStreams = false;
    let deviceResidentBytes = 0;
    let deviceNeedBytes = 0;
    let devicePrefillSeconds = 0;
    if (c >= 1) {
      residentBytes += decodeResident[c].memoryBytes;
      kvBytes += decodeResident[c].kvBytes;
      largestRow = Math.max(largestRow, decodeResident[c].weightBytes);
      deviceRows.push(c);
      const rows = c === L ? [...deviceRows, L + 1] : deviceRows;
      const resident = c === L ? residentBytes + decodeResident[L + 1].memoryBytes : residentBytes;
      const largest = c === L ? Math.max(largestRow, decodeResident[L + 1].weightBytes) : largestRow;
      deviceStreams = resident > user.device.memoryBytes;
      deviceSeconds = sumSeconds(deviceStreams ? decodeStreamed : decodeResident, rows);
      devicePrefillSeconds = sumSeconds(deviceStreams ? prefillStreamed : prefillResident, rows);
      deviceResidentBytes = resident;
      deviceNeedBytes = deviceStreams ? kvBytes + largest : resident;
    }
    const upBytes = c >= 1 && c < L ? activationBytesPerToken(model) : 0;
    const downBytes = c < L ? problem.tokenBytes : 0;
    const cell = user.radio !== null && problem.cell !== null ? { cell: problem.cell, radio: user.radio } : null;
    // A cell user's transfer is latency + work / share; the latency part is fixed, the work is not.
    const lat = user.link.latencySeconds;
    const up = cell === null ? uplinkSeconds(user.link, upBytes) : upBytes > 0 ? lat : 0;
    const down = cell === null ? downlinkSeconds(user.link, downBytes) : downBytes > 0 ? lat : 0;
    const upWork = cell === null ? 0 : cellWorkSeconds(cell.cell, cell.radio, upBytes, 0);
    const downWork = cell === null ? 0 : cellWorkSeconds(cell.cell, cell.radio, 0, downBytes);
    let ttftSeconds = devicePrefillSeconds;
    let ttftWorkSeconds = 0;
    if (c < L) {
      const promptUpBytes =
        c === 0 ? user.promptTokens * problem.tokenBytes : user.promptTokens * activationBytesPerToken(model);
      const serverRowsUsed: number[] = c === 0 ? [0] : [];
      for (let l = c + 1; l <= L + 1; l++) serverRowsUsed.push(l);
      ttftSeconds +=
        (cell === null ? uplinkSeconds(user.link, promptUpBytes) : lat) +
        sumSeconds(serverPrefill.rows, serverRowsUsed) +
        down;
      if (cell !== null) {
        ttftWorkSeconds = cellWorkSeconds(cell.cell, cell.radio, promptUpBytes, downBytes);
        ttftSeconds += ttftWorkSeconds;
      }
    }
    const fixedSeconds = deviceSeconds + up + down;
    // The least share meeting the TTFT limit: ttft − work + work / s ≤ limit.
    const shareCap = user.radio?.fixedShare ?? 1;
    let minShare = 0;
    let ttftOk = user.ttftSloSeconds === null || withinLimit(ttftSeconds, user.ttftSloSeconds);
    if (cell !== null && user.ttftSloSeconds !== null && ttftWorkSeconds > 0) {
      const room = user.ttftSloSeconds - (ttftSeconds - ttftWorkSeconds);
      minShare = room > 0 ? ttftWorkSeconds / room : Infinity;
      ttftOk = Number.isFinite(minShare) && withinLimit(minShare, shareCap);
    }
    const fixedOk =
      user.latencySloSeconds === null ||
      withinLimit(fixedSeconds + (upWork + downWork) / shareCap, user.latencySloSeconds);
    const deviceMemoryViolation =
      deviceStreams && !problem.deviceWeightStreaming
        ? `its ${c} device layers need ${gb(deviceResidentBytes)} of weights and KV, the ${user.device.name} has ${gb(user.device.memoryBytes)} (streaming is off)`
        : !withinLimit(deviceNeedBytes, user.device.memoryBytes)
          ? `its ${c} device layers need ${gb(deviceNeedBytes)} (KV cache plus one streamed layer), the ${user.device.name} has ${gb(user.device.memoryBytes)}`
          : null;
    const whole =
      cell === null ? '' : user.radio?.fixedShare != null ? ' with its fixed share' : ' even with the whole cell';
    const ttftAtCap = ttftSeconds - ttftWorkSeconds + ttftWorkSeconds / shareCap;
    const ttftViolation =
      !ttftOk && user.ttftSloSeconds !== null
        ? `time to first token ${ms(ttftAtCap)}${whole} exceeds its limit of ${ms(user.ttftSloSeconds)}`
        : null;
    const fixedAtCap = fixedSeconds + (upWork + downWork) / shareCap;
    const fixedSloViolation =
      !fixedOk && user.latencySloSeconds !== null
        ? `device and link time alone, ${ms(fixedAtCap)} per token${whole}, exceed its SLO of ${ms(user.latencySloSeconds)}`
        : null;
    const privacyViolation =
      c < user.minDeviceLayers
        ? `its privacy floor keeps at least ${user.minDeviceLayers} layers on the device (raw data and the first layers' activations never leave it)`
        : null;
    const staticViolation = privacyViolation ?? deviceMemoryViolation ?? ttftViolation ?? fixedSloViolation;
    costs.push({
      cut: c,
      deviceSeconds,
      deviceStreams,
      deviceResidentBytes,
      deviceNeedBytes,
      uplinkSeconds: up,
      downlinkSeconds: down,
      uplinkWorkSeconds: upWork,
      downlinkWorkSeconds: downWork,
      fixedSeconds,
      serverKvBytes: (L - c) * serverKvPerLayerBytes,
      ttftSeconds,
      ttftWorkSeconds,
      minShare,
      deviceMemoryViolation,
      privacyViolation,
      ttftViolation,
      fixedSloViolation,
      staticViolation,
    });
  }
  return costs;
}

function serverRows(problem: KvProblem): ServerRow[] {
  const model = problem.model;
  const L = model.layers;
  const beta = bytesPerValue(model.dtype);
  const V = problem.variants.length;
  const none = new Array<number>(V).fill(0);
  const rows: ServerRow[] = [];
  const perUser = (kind: 'embedding' | ServerRowKind, index: number): { flops: number[]; traffic: number[] } => {
    const flops: number[] = [];
    const traffic: number[] = [];
    for (const user of problem.users) {
      const work = rowWork(model, kind, index, decodeWorkload(user.promptTokens + user.outputTokens));
      flops.push(work.flops);
      // The embedding lookup reads only the user's row, so its "weight" bytes are per-user traffic.
      traffic.push(work.memoryTrafficBytes + (kind === 'embedding' ? work.weightBytes : 0));
    }
    return { flops, traffic };
  };
  // A tied head and the embedding share one matrix; it is kept with the head, which is loaded
  // whenever the server runs anything, so the embedding adds only position embeddings.
  const positionParams = model.positionEmbedding === 'learned' ? model.maxContext * model.hiddenSize : 0;
  const embeddingResident = (model.tiedEmbeddings ? positionParams : embeddingParams(model)) * beta;
  const headResident = (headParams(model) + (model.tiedEmbeddings ? model.vocabSize * model.hiddenSize : 0)) * beta;
  // The server runs the embedding exactly when it runs layer 1 (some user at cut 0), so the lookup
  // is folded into layer 1's row: its few bytes of traffic join the layer's memory term. (As a row
  // of its own, its per-user coefficients, ~1e-8 s, sit at solver tolerance.)
  const emb = perUser('embedding', 0);
  const adapterBytes = problem.variants.map((v) => loraParamsPerLayer(model, v.lora) * beta);
  const adapterFlops = problem.variants.map((v) => loraForwardFlopsPerToken(model, v.lora));
  for (let l = 1; l <= L; l++) {
    const d = perUser('decoder', l);
    const bytes = layerParams(model, l) * beta;
    const first = l === 1;
    rows.push({
      kind: 'decoder',
      index: l,
      threshold: l,
      calls: first ? 2 : 1,
      residentBytes: bytes + (first ? embeddingResident : 0),
      readBytes: bytes,
      adapterBytes,
      adapterFlopsPerToken: adapterFlops,
      userFlops: first ? d.flops.map((f, u) => f + emb.flops[u]) : d.flops,
      userTrafficBytes: first ? d.traffic.map((t, u) => t + emb.traffic[u]) : d.traffic,
    });
  }
  const h = perUser('head', L + 1);
  const headRead = rowWork(model, 'head', L + 1, decodeWorkload(1)).weightBytes;
  // Threshold L, not L + 1: a user at cut L samples its tokens on its own device.
  rows.push({
    kind: 'head',
    index: L + 1,
    threshold: L,
    calls: 1,
    residentBytes: headResident,
    readBytes: headRead,
    adapterBytes: none,
    adapterFlopsPerToken: none,
    userFlops: h.flops,
    userTrafficBytes: h.traffic,
  });
  return rows;
}

const cache = new WeakMap<KvProblem, KvTables>();

export function kvTables(problem: KvProblem): KvTables {
  const hit = cache.get(problem);
  if (hit) return hit;
  const users = problem.users.map((user, u) =>
    userCutCosts(
      problem,
      u,
      layerTable(problem.model, problem.server, prefillWorkload(user.promptTokens), { residentBytes: 0 }),
    ),
  );
  const rows = serverRows(problem);
  const partial = {
    layers: problem.model.layers,
    users,
    rows,
    workspaceBytes: problem.users.map((user) => serverWorkspaceBytes(problem, user.promptTokens)),
    serverMemoryBytes: problem.server.memoryBytes,
    computeFlopsPerSecond: problem.server.peakFlopsPerSecond * problem.server.computeEfficiency,
    bandwidthBytesPerSecond: problem.server.memoryBandwidthBytesPerSecond * problem.server.bandwidthEfficiency,
    perCallOverheadSeconds: problem.server.perCallOverheadSeconds,
  };
  const allAtZero = problem.users.map(() => 0);
  const worst = serverStateOf(
    problem,
    { ...partial, maxStepSeconds: 0, maxRowSeconds: [], unservedPenaltySeconds: 0 },
    allAtZero,
  );
  // A cell user's radio time is largest at its least share: one resource block (continuous cells
  // with admission are refused at parse time: a share has no positive floor there).
  const leastShare = problem.cell?.resourceBlocks != null ? 1 / problem.cell.resourceBlocks : 1;
  const maxFixed = users.map((costs) =>
    Math.max(...costs.map((k) => k.fixedSeconds + (k.uplinkWorkSeconds + k.downlinkWorkSeconds) / leastShare)),
  );
  const latencyBound =
    problem.objective === 'max'
      ? Math.max(...maxFixed) + worst.stepSeconds
      : maxFixed.reduce((s, v) => s + v, 0) + problem.users.length * worst.stepSeconds;
  const tables: KvTables = {
    ...partial,
    maxStepSeconds: worst.stepSeconds,
    maxRowSeconds: worst.rowSeconds,
    // Strictly above any latency objective, so one more served user always wins (lexicographic).
    unservedPenaltySeconds: Math.ceil(latencyBound) + 1,
  };
  cache.set(problem, tables);
  return tables;
}

/**
 * KV formats as a decision: one problem per format, the model's KV stored in that format (its
 * hidden states and adapters keep the model's own formats), so every KV quantity of the tables —
 * device KV memory and read traffic, server KV bytes, the KV part of each row's step traffic,
 * a runtime's paged KV — scales with the format. Without kvFormats: the problem itself.
 */
const formatProblemCache = new WeakMap<KvProblem, readonly KvProblem[]>();
export function formatProblems(problem: KvProblem): readonly KvProblem[] {
  const formats = problem.kvFormats ?? null;
  if (formats === null) return [problem];
  const hit = formatProblemCache.get(problem);
  if (hit) return hit;
  const model = problem.model;
  const problems = formats.map((f): KvProblem => ({
    ...problem,
    model: { ...model, kvDtype: f.id, activationDtype: activationDtypeOf(model), adapterDtype: adapterDtypeOf(model) },
    kvFormats: null,
    kvAccuracyBudget: Infinity,
  }));
  formatProblemCache.set(problem, problems);
  return problems;
}

/** The format a decision without `kvFormats` gives every user: the least accuracy cost (the first such). */
export function defaultKvFormat(problem: KvProblem): number {
  const formats = problem.kvFormats ?? [];
  let best = 0;
  formats.forEach((f, i) => {
    if (f.accuracyCost < formats[best].accuracyCost) best = i;
  });
  return best;
}

/**
 * Per user the index of its KV format in `problem.kvFormats` (null without formats). Unknown
 * ids and a wrong length are reported in `errors` and read as the default format.
 */
export function kvFormatIndices(problem: KvProblem, decision: KvDecision, errors: string[] = []): number[] | null {
  const formats = problem.kvFormats ?? null;
  if (formats === null) {
    if (decision.kvFormats !== undefined)
      errors.push('the decision gives KV formats, but the problem declares no kvFormats');
    return null;
  }
  const fallback = defaultKvFormat(problem);
  const given = decision.kvFormats;
  if (given === undefined) return problem.users.map(() => fallback);
  if (given.length !== problem.users.length)
    errors.push(`the decision gives ${given.length} KV formats for ${problem.users.length} users`);
  return problem.users.map((user, u) => {
    const id = given[u];
    if (id === undefined) return fallback;
    const i = formats.findIndex((f) => f.id === id);
    if (i < 0) {
      errors.push(`${user.name}'s KV format "${id}" is not one of $.kvFormats`);
      return fallback;
    }
    return i;
  });
}

/** Accuracy-proxy cost the formats spend over the served users. */
export function kvAccuracyUsed(
  problem: KvProblem,
  formats: readonly number[] | null,
  cuts: readonly (number | null)[],
): number {
  if (formats === null || !problem.kvFormats) return 0;
  const list = problem.kvFormats;
  return formats.reduce(
    (sum, f, u) => (cuts[u] === null || cuts[u] === undefined ? sum : sum + list[f].accuracyCost),
    0,
  );
}

/**
 * The cost tables of a format assignment: each user's cut costs, its row FLOPs and traffic and its
 * work buffers from its format's tables; shared quantities (weights, server, the big-M bounds)
 * from the problem's own tables, whose KV is the largest (every bytesFactor ≤ 1).
 */
const mergedCache = new WeakMap<KvProblem, Map<string, KvTables>>();
export function kvTablesFor(problem: KvProblem, formats: readonly number[] | null): KvTables {
  const base = kvTables(problem);
  if (formats === null || !problem.kvFormats) return base;
  const key = formats.join(',');
  let byKey = mergedCache.get(problem);
  if (byKey === undefined) {
    byKey = new Map();
    mergedCache.set(problem, byKey);
  }
  const hit = byKey.get(key);
  if (hit) return hit;
  const per = formatProblems(problem).map((p) => kvTables(p));
  const merged: KvTables = {
    ...base,
    users: problem.users.map((_, u) => per[formats[u]].users[u]),
    rows: base.rows.map((row, r) => ({
      ...row,
      userFlops: row.userFlops.map((_, u) => per[formats[u]].rows[r].userFlops[u]),
      userTrafficBytes: row.userTrafficBytes.map((_, u) => per[formats[u]].rows[r].userTrafficBytes[u]),
    })),
    workspaceBytes: problem.users.map((_, u) => per[formats[u]].workspaceBytes[u]),
  };
  if (byKey.size > 4096) byKey.clear();
  byKey.set(key, merged);
  return merged;
}

export interface ServerState {
  /** Per row: whether the server loads it. */
  readonly rowLoaded: readonly boolean[];
  /** Per row: step time of the row over the batch (0 when not loaded). */
  readonly rowSeconds: readonly number[];
  /** adapterLoaded[v][r]: variant v's adapter in row r. */
  readonly adapterLoaded: readonly (readonly boolean[])[];
  readonly stepSeconds: number;
  readonly weightBytes: number;
  readonly adapterBytes: number;
  readonly kvBytes: number;
  readonly workspaceBytes: number;
  readonly memoryBytes: number;
  /** Users whose cut is below L (they take part in every server step). */
  readonly batchUsers: number;
}

/** Whether user u with cut c (null: not served) uses the server at all. */
export function usesServer(tables: KvTables, c: number | null): c is number {
  return c !== null && c < tables.layers;
}

/** Server weights, adapters, KV, workspace and step time for given cuts (null: not served). */
export function serverStateOf(problem: KvProblem, tables: KvTables, cuts: readonly (number | null)[]): ServerState {
  const V = problem.variants.length;
  const rowLoaded: boolean[] = [];
  const rowSeconds: number[] = [];
  const adapterLoaded: boolean[][] = problem.variants.map(() => []);
  let weightBytes = 0;
  let adapterBytes = 0;
  let kvBytes = 0;
  let batchUsers = 0;
  let workspaceBytes = 0;
  cuts.forEach((c, u) => {
    if (!usesServer(tables, c)) return;
    batchUsers++;
    kvBytes += tables.users[u][c].serverKvBytes;
    workspaceBytes = Math.max(workspaceBytes, tables.workspaceBytes[u]);
  });
  // Plain index loops: the exact method calls this thousands of times per solve.
  const U = cuts.length;
  const variantOf = problem.users.map((user) => user.variant);
  const variantUsed = new Array<boolean>(V);
  for (const row of tables.rows) {
    let loaded = false;
    let flops = 0;
    let traffic = row.readBytes;
    variantUsed.fill(false);
    for (let u = 0; u < U; u++) {
      const c = cuts[u];
      if (c === null || c >= row.threshold) continue;
      loaded = true;
      flops += row.userFlops[u];
      traffic += row.userTrafficBytes[u];
      const v = variantOf[u];
      if (v !== null && row.adapterBytes[v] > 0) {
        variantUsed[v] = true;
        flops += row.adapterFlopsPerToken[v];
      }
    }
    for (let v = 0; v < V; v++) {
      adapterLoaded[v].push(variantUsed[v]);
      if (variantUsed[v]) {
        adapterBytes += row.adapterBytes[v];
        traffic += row.adapterBytes[v];
      }
    }
    rowLoaded.push(loaded);
    if (!loaded) {
      rowSeconds.push(0);
      continue;
    }
    weightBytes += row.residentBytes;
    rowSeconds.push(rowRooflineSeconds(row, flops, traffic, tables));
  }
  const stepSeconds = rowSeconds.reduce((s, t) => s + t, 0);
  return {
    rowLoaded,
    rowSeconds,
    adapterLoaded,
    stepSeconds,
    weightBytes,
    adapterBytes,
    kvBytes,
    workspaceBytes,
    memoryBytes: weightBytes + adapterBytes + kvBytes + workspaceBytes,
    batchUsers,
  };
}

/** Seconds user u's per-token radio bits at cut c take on the whole cell (0: dedicated link or no transfer). */
export function radioWorkSeconds(tables: KvTables, u: number, c: number): number {
  const k = tables.users[u][c];
  return k.uplinkWorkSeconds + k.downlinkWorkSeconds;
}

/**
 * Per-token latency of user u at cut c given the server step time and, for a cell user, its
 * share of the cell (default: the whole cell, a best case).
 */
export function userLatencySeconds(tables: KvTables, u: number, c: number, stepSeconds: number, share = 1): number {
  const k = tables.users[u][c];
  const work = k.uplinkWorkSeconds + k.downlinkWorkSeconds;
  const radio = work > 0 ? (share > 0 ? work / share : Infinity) : 0;
  return c < tables.layers ? k.fixedSeconds + radio + stepSeconds : k.fixedSeconds + radio;
}

/** The share (fraction of the cell) a decision gives user u: 0 without a cell or when absent. */
export function decisionShare(problem: KvProblem, decision: KvDecision, u: number): number {
  const cell = problem.cell;
  if (cell === null || problem.users[u].radio === null) return 0;
  if (cell.allocation === 'resource-blocks') return shareOf(cell, decision.resourceBlocks?.[u] ?? 0);
  return decision.cellShares?.[u] ?? 0;
}

/**
 * The best shares for given cuts (fractions, one per user; 0 outside the cell): the allocation
 * minimising the objective with the server step fixed by the cuts, subject to each user's TTFT
 * and latency-SLO least shares. Null when even those least shares exceed the cell. Used by the
 * peers, the warm start and the exact method's upper bounds — never by evaluate.
 */
export function bestShares(problem: KvProblem, tables: KvTables, cuts: readonly (number | null)[]): number[] | null {
  const cell = problem.cell;
  if (cell === null) return problem.users.map(() => 0);
  const step = serverStateOf(problem, tables, cuts).stepSeconds;
  const demands: ShareDemand[] = problem.users.map((user, u) => {
    const c = cuts[u];
    if (user.radio === null || c === null || c === undefined)
      return { work: 0, offset: 0, minShare: 0, fixedShare: user.radio?.fixedShare ?? null };
    const k = tables.users[u][c];
    const work = k.uplinkWorkSeconds + k.downlinkWorkSeconds;
    const offset = k.fixedSeconds + (c < tables.layers ? step : 0);
    let minShare = k.minShare;
    if (user.latencySloSeconds !== null && work > 0) {
      const room = user.latencySloSeconds - offset;
      minShare = Math.max(minShare, room > 0 ? work / room : Infinity);
    }
    return { work, offset, minShare, fixedShare: user.radio.fixedShare };
  });
  return allocateShares(cell, demands, problem.objective);
}

/** A decision from cuts and shares (fractions), in the cell's vocabulary. */
export function kvDecisionOf(
  problem: KvProblem,
  cuts: readonly (number | null)[],
  shares: readonly number[] | null,
): KvDecision {
  const cell = problem.cell;
  if (cell === null || shares === null) return { cuts: [...cuts] };
  if (cell.allocation === 'resource-blocks')
    return { cuts: [...cuts], resourceBlocks: shares.map((s) => Math.round(s * (cell.resourceBlocks as number))) };
  return { cuts: [...cuts], cellShares: [...shares] };
}

/**
 * The fair split a network gives when it is not co-planned with the cuts (what the peers get):
 * fixed shares kept, the rest of the cell divided equally among the other served users that
 * transmit (resource-block cells: whole blocks, the remainder to the first users).
 */
export function equalShares(problem: KvProblem, tables: KvTables, cuts: readonly (number | null)[]): number[] {
  const cell = problem.cell;
  if (cell === null) return problem.users.map(() => 0);
  const fixed = problem.users.map((user) => user.radio?.fixedShare ?? null);
  const talks = problem.users.map((user, u) => {
    const c = cuts[u];
    return (
      user.radio !== null && fixed[u] === null && c !== null && c !== undefined && radioWorkSeconds(tables, u, c) > 0
    );
  });
  const m = talks.filter((t) => t).length;
  const left = Math.max(0, 1 - fixed.reduce<number>((a, f) => a + (f ?? 0), 0));
  if (cell.allocation === 'resource-blocks') {
    const N = cell.resourceBlocks as number;
    const blocks = Math.round(left * N);
    let extra = m > 0 ? blocks % m : 0;
    return problem.users.map((_, u) => {
      if (fixed[u] !== null) return fixed[u] as number;
      if (!talks[u]) return 0;
      const n = Math.floor(blocks / m) + (extra > 0 ? 1 : 0);
      if (extra > 0) extra--;
      return n / N;
    });
  }
  return problem.users.map((_, u) => (fixed[u] !== null ? (fixed[u] as number) : talks[u] ? left / m : 0));
}

/** Latency objective plus the admission penalty, from per-user latencies (null: not served). */
export function objectiveOf(
  problem: KvProblem,
  tables: KvTables,
  latencies: readonly (number | null)[],
): { latencyObjective: number; unserved: number; objective: number } {
  let latencyObjective = 0;
  let unserved = 0;
  for (const t of latencies) {
    if (t === null) {
      unserved++;
      continue;
    }
    latencyObjective = problem.objective === 'max' ? Math.max(latencyObjective, t) : latencyObjective + t;
  }
  return { latencyObjective, unserved, objective: latencyObjective + unserved * tables.unservedPenaltySeconds };
}

/** The constraint groups of the family, as the explanations name them. */
export type ConstraintGroup = 'device-memory' | 'ttft' | 'latency-slo' | 'server-memory';

/** Whether cut k is open to its user on its own, with the given groups switched off. */
export function cutAllowed(k: UserCutCost, relaxed: ReadonlySet<ConstraintGroup> = NO_RELAXATION): boolean {
  return (
    // The privacy floor is never relaxed: it is the user's rule, not a resource.
    k.privacyViolation === null &&
    (k.deviceMemoryViolation === null || relaxed.has('device-memory')) &&
    (k.ttftViolation === null || relaxed.has('ttft')) &&
    (k.fixedSloViolation === null || relaxed.has('latency-slo'))
  );
}

export const NO_RELAXATION: ReadonlySet<ConstraintGroup> = new Set();

export interface Assessment {
  readonly feasible: boolean;
  /** Latency objective + admission penalty (what the MILP and the exact method minimise). */
  readonly objective: number;
  /** What is broken, in domain words (empty when feasible). */
  readonly reasons: readonly string[];
}

/**
 * Feasibility and objective of a decision from the cost tables — what peers, the exact method and
 * the warm start use to value a decision (evaluate re-checks independently). For a cell problem
 * whose decision carries no shares, the best shares for the cuts are used.
 */
export function assess(problem: KvProblem, tables: KvTables, decision: KvDecision): Assessment {
  if (problem.cloud !== null) return assessThreeTier(problem, decision);
  const cuts = decision.cuts;
  const reasons: string[] = [];
  // KV formats: the decision's own tables (the caller's are the problem's, at the model's KV format).
  const formats = kvFormatIndices(problem, decision, reasons);
  if (formats !== null) {
    tables = kvTablesFor(problem, formats);
    const used = kvAccuracyUsed(problem, formats, cuts);
    const budget = problem.kvAccuracyBudget ?? Infinity;
    if (!withinLimit(used, budget))
      reasons.push(`the KV formats spend ${used.toFixed(4)} of accuracy, the budget is ${budget}`);
  }
  const L = tables.layers;
  const valid = problem.users.map((user, u): number | null => {
    const c = cuts[u];
    if (c === undefined || c === null) {
      if (!problem.admission) reasons.push(`${user.name} is not served (admission is off)`);
      return null;
    }
    if (!Number.isInteger(c) || c < 0 || c > L) {
      reasons.push(`${user.name}'s cut ${c} is outside 0..${L}`);
      return null;
    }
    const k = tables.users[u][c];
    if (k.staticViolation !== null) reasons.push(`${user.name} at cut ${c}: ${k.staticViolation}`);
    return c;
  });
  let shares: number[] = problem.users.map(() => 0);
  if (problem.cell !== null) {
    const given = decision.cellShares !== undefined || decision.resourceBlocks !== undefined;
    const best = given
      ? problem.users.map((_, u) => decisionShare(problem, decision, u))
      : bestShares(problem, tables, valid);
    if (best === null) reasons.push('the cell cannot give every user the share its limits need');
    else shares = best;
    const total = shares.reduce((a, b) => a + b, 0);
    if (!withinLimit(total, 1)) reasons.push(`the shares sum to ${total.toFixed(6)}, more than the cell`);
    problem.users.forEach((user, u) => {
      const c = valid[u];
      const fixed = user.radio?.fixedShare ?? null;
      if (fixed !== null && Math.abs(shares[u] - fixed) > 1e-9)
        reasons.push(`${user.name}'s share is fixed at ${fixed}`);
      if (c === null || user.radio === null) return;
      const k = tables.users[u][c];
      if (k.staticViolation === null && k.ttftWorkSeconds > 0 && !withinLimit(k.minShare, shares[u]))
        reasons.push(`${user.name}'s share is below the ${k.minShare.toFixed(6)} its TTFT limit needs`);
    });
  }
  const state = serverStateOf(problem, tables, valid);
  if (!withinLimit(state.memoryBytes, tables.serverMemoryBytes))
    reasons.push(
      `the server needs ${gb(state.memoryBytes)}, the ${problem.server.name} has ${gb(tables.serverMemoryBytes)}`,
    );
  const latencies = valid.map((c, u) => {
    if (c === null) return null;
    const t = userLatencySeconds(tables, u, c, state.stepSeconds, shares[u]);
    const slo = problem.users[u].latencySloSeconds;
    if (slo !== null && !withinLimit(t, slo))
      reasons.push(`${problem.users[u].name}'s per-token latency ${ms(t)} exceeds its SLO of ${ms(slo)}`);
    return t;
  });
  return { feasible: reasons.length === 0, objective: objectiveOf(problem, tables, latencies).objective, reasons };
}

export function gb(bytes: number): string {
  return Math.abs(bytes) >= 1e9 || bytes === 0 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export function ms(seconds: number): string {
  return `${(seconds * 1e3).toFixed(2)} ms`;
}
