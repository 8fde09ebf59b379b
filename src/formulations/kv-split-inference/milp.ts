/**
 * kv-split-inference as a MILP.
 *
 * Columns: x[u][c] one-hot cut per user (only cuts allowed for the user on its own: device memory,
 * TTFT, latency SLO before server time); z[t] "the server runs rows with threshold t" (t = l:
 * layer l, layer 1 with the embedding lookup; the head shares z[L]: the server samples for
 * exactly the users that use it, and a user at cut L uses no server row at all);
 * y[v][l] variant v's adapter in layer l; S the work buffers (the largest over server users);
 * T[r] the step time of server row r over the batch;
 * W and D (max objective) or P[u] (sum objective: the step time user u waits, T·[c_u < L]).
 *
 * Rows: z[t] ≥ Σ_{c<t} x[u][c] for every user (a layer is loaded once if anyone needs it);
 * y[v][l] ≥ Σ_{c<l} x[u][c] for the users of v; S ≥ buffers_u·Σ_{c<L} x[u][c];
 * server memory; per row T[r] ≥ compute time and
 * T[r] ≥ memory time (weights read once + adapters + every participating user's traffic), each
 * plus the call overhead; the max objective without big-M (W ≥ D + T, D ≥ each server user's
 * device + link time, W ≥ each user's device + link time); the sum objective and the SLOs with
 * big-M = the step time with every user at cut 0 (the largest step time any decision can have,
 * since step time is monotone in the cuts).
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import type { Compiled, CompileHints } from '../types.ts';
import { blocksFor } from '../../cost/radio.ts';
import {
  assess,
  decisionShare,
  formatProblems,
  kvDecisionOf,
  kvFormatIndices,
  kvTables,
  kvTablesFor,
  radioWorkSeconds,
  serverStateOf,
  userLatencySeconds,
  type UserCutCost,
} from './cost.ts';
import type { KvDecision, KvProblem } from './schema.ts';
import { buildKvThreeTier } from './milp-three-tier.ts';

/** Memory rows are written in GB so that their coefficients stay near 1. */
const BYTES_PER_ROW_UNIT = 1e9;
/**
 * Time columns (T, W, P) and time rows are in milliseconds: a solver's absolute tolerances
 * (≈ 1e-7 on a column) then mean 1e-10 s, so slack left in a step-time column cannot move the
 * objective (in seconds, as evaluate's) past the API's 1e-6 cross-check when summed over users.
 */
const MS = 1e3;

/**
 * One column of user u: cut `cut` with its KV in format `f` (index into problem.kvFormats; 0
 * without formats), and that (cut, format)'s costs.
 */
interface XEntry {
  readonly cut: number;
  readonly f: number;
  readonly col: number;
  readonly cost: UserCutCost;
}

interface Columns {
  readonly x: readonly (readonly XEntry[])[];
  /** z[t] for t = 1..L (index 0 unused); the head row uses z[L]. */
  readonly z: readonly number[];
  /** y[v][l] for l = 1..L (index 0 unused); -1 when the variant has no user. */
  readonly y: readonly (readonly number[])[];
  /** Work buffers (GB). */
  readonly s: number;
  readonly t: readonly number[];
  readonly w: number | null;
  readonly d: number | null;
  readonly p: readonly number[];
  readonly cell: readonly (CellColumns | null)[];
}

/**
 * Compiles the MILP: problem → model only (no peer, exact method or evaluate runs here). The
 * incumbent hint is used only with a cell: its objective (from the cost functions) bounds every
 * at-least-as-good decision's radio time, hence floors each share (fewer chords, a tighter
 * relaxation); the chain also hands it to the backend as a start through `encode`.
 */
export function compileKv(problem: KvProblem, _hints?: CompileHints<KvDecision>): Compiled<KvDecision> {
  if (problem.cloud !== null) {
    // The incumbent's objective (cost functions) bounds every user's latency in a better decision.
    const start = _hints?.incumbent !== undefined ? assess(problem, kvTables(problem), _hints.incumbent) : null;
    return buildKvThreeTier(problem, start?.feasible ? start.objective : Infinity);
  }
  if (problem.cell !== null && problem.cell.allocation === 'continuous')
    throw new Error(
      'a continuous cell share has no exact single-MILP form (the radio time is work / share); the exact method ' +
        'solves it by outer approximation, or give the cell resourceBlocks (whole blocks are exact in the MILP)',
    );
  // A cell's share floor comes from the incumbent's objective (valued by the cost functions).
  const incumbent =
    problem.cell !== null && _hints?.incumbent !== undefined
      ? assess(problem, kvTables(problem), _hints.incumbent)
      : null;
  return buildKv(problem, { kind: 'chords', objectiveCutoff: incumbent?.feasible ? incumbent.objective : Infinity });
}

/**
 * How the radio time of a cell user, work / share, enters the model: `chords` (resource-block
 * cells: the share is an integer column n, and the chords of N/n between consecutive integers are
 * exact at every whole n), or `tangents` at given shares (continuous cells: a relaxation, 1/s is
 * convex so each tangent is below it; the exact method tightens it by outer approximation).
 */
export type RadioPieces =
  | {
      readonly kind: 'chords';
      /**
       * A decision at least as good as this objective has radio time work / share ≤ it, so share ≥
       * work / cut-off: a floor on the blocks, and chords are needed only above it (Infinity: none).
       */
      readonly objectiveCutoff: number;
    }
  | {
      readonly kind: 'tangents';
      /** Per user: the shares at which 1/s is linearised. */
      readonly points: readonly (readonly number[])[];
      /** As for chords: every decision at least as good has share ≥ work / it (Infinity: none). */
      readonly objectiveCutoff: number;
    };

/** Per user: the cell columns (share and radio time), or null outside the cell. */
interface CellColumns {
  readonly share: number;
  readonly radio: number;
}

export function buildKv(
  problem: KvProblem,
  pieces: RadioPieces,
): Compiled<KvDecision> & { cellColumns: readonly (CellColumns | null)[] } {
  const tables = kvTables(problem);
  const L = tables.layers;
  const U = problem.users.length;
  const Tmax = tables.maxStepSeconds;
  const b = new ModelBuilder('kv-split-inference', 'min');

  // KV formats as a decision: one column per (cut, format), each with its format's costs; without
  // formats the one "format" is the problem itself (formatTables[0] === tables).
  const hasFormats = !!problem.kvFormats;
  const formatTables = formatProblems(problem).map((p) => kvTables(p));
  const x = problem.users.map((_, u) =>
    formatTables.flatMap((ft, f) =>
      ft.users[u]
        .filter((k) => k.staticViolation === null)
        .map((k): XEntry => ({
          cut: k.cut,
          f,
          cost: k,
          col: b.binary(hasFormats ? `x_${u}_${f}_${k.cut}` : `x_${u}_${k.cut}`),
        })),
    ),
  );
  const z = [-1];
  for (let t = 1; t <= L; t++) z.push(b.binary(`z_${t}`));
  const workspaceMax = Math.max(0, ...formatTables.flatMap((ft) => ft.workspaceBytes));
  const s = b.addVariable('S', { lower: 0, upper: workspaceMax / BYTES_PER_ROW_UNIT });
  const variantHasUser = problem.variants.map((_, v) => problem.users.some((u) => u.variant === v));
  const y = problem.variants.map((_, v) => {
    const cols = [-1];
    for (let l = 1; l <= L; l++) cols.push(variantHasUser[v] ? b.binary(`y_${v}_${l}`) : -1);
    return cols;
  });
  const t = tables.rows.map((_, r) => b.addVariable(`T_${r}`, { lower: 0, upper: tables.maxRowSeconds[r] * MS }));
  const stepTerms = t.map((col) => term(col, 1));

  const below = (u: number, threshold: number, coef = 1): Term[] =>
    x[u].filter((e) => e.cut < threshold).map((e) => term(e.col, coef));
  /** As `below`, with a coefficient per column (its format's KV-dependent cost). */
  const belowBy = (u: number, threshold: number, coef: (e: XEntry) => number): Term[] =>
    x[u].filter((e) => e.cut < threshold).map((e) => term(e.col, coef(e)));

  // The cell: per user a share column (whole blocks, or a fraction) and its radio time θ (ms).
  const cell = problem.cell;
  const blocks = cell !== null && cell.allocation === 'resource-blocks' ? (cell.resourceBlocks as number) : null;
  const cellColumns: (CellColumns | null)[] = problem.users.map((user, u) => {
    if (cell === null || user.radio === null) return null;
    const fixed = user.radio.fixedShare;
    const unit = blocks ?? 1;
    const share =
      fixed !== null
        ? b.addVariable(`share_${u}`, {
            type: blocks !== null ? 'integer' : 'continuous',
            lower: fixed * unit,
            upper: fixed * unit,
          })
        : b.addVariable(`share_${u}`, { type: blocks !== null ? 'integer' : 'continuous', lower: 0, upper: unit });
    const radio = b.addVariable(`radio_${u}`, { lower: 0 });
    // Cuts grouped by their radio work (cut 0: the token downlink; 1..L−1: hidden state up too).
    const byWork = new Map<number, number[]>();
    for (const e of x[u]) {
      const w = radioWorkSeconds(tables, u, e.cut);
      if (w > 0) byWork.set(w, [...(byWork.get(w) ?? []), e.col]);
    }
    // Least share (in the column's unit) of each work group: one block, and work / cut-off.
    const cutoff = pieces.objectiveCutoff;
    const least = new Map<number, number>();
    for (const w of byWork.keys()) {
      const byCutoff = Number.isFinite(cutoff) ? w / cutoff : 0;
      least.set(w, blocks !== null ? Math.max(1, Math.ceil(byCutoff * blocks * (1 - 1e-9))) : byCutoff);
    }
    if (byWork.size > 0 && fixed === null && (blocks !== null || Number.isFinite(cutoff))) {
      const floor: Term[] = [];
      for (const [w, cols] of byWork) for (const col of cols) floor.push(term(col, -(least.get(w) as number)));
      b.greaterEqual(`share_floor_${u}`, [term(share, 1), ...floor], 0);
    }
    // TTFT: the least share of the chosen cut.
    const ttft = x[u].filter((e) => e.cost.minShare > 0);
    if (ttft.length > 0 && fixed === null)
      b.greaterEqual(
        `ttft_share_${u}`,
        [
          term(share, 1),
          ...ttft.map((e) => {
            const need = e.cost.minShare;
            return term(e.col, -(blocks !== null ? blocksFor(need, blocks) : need));
          }),
        ],
        0,
      );
    // Lines below 1/share (in the column's unit: N/n for blocks), each switched on by its cut group.
    const linesFor = (w: number): { a: number; b: number }[] => {
      const lines: { a: number; b: number }[] = [];
      if (fixed !== null) lines.push({ a: 1 / fixed, b: 0 });
      else if (pieces.kind === 'chords' && blocks !== null) {
        // With n ≥ the group's floor m, the chords over [m, N] interpolate N/n exactly at every whole n.
        for (let k = least.get(w) as number; k < blocks; k++)
          lines.push({ a: blocks / k + blocks / (k + 1), b: blocks / (k * (k + 1)) });
        if (lines.length === 0) lines.push({ a: 1, b: 0 });
      } else if (pieces.kind === 'tangents') for (const p of pieces.points[u]) lines.push({ a: 2 / p, b: 1 / (p * p) });
      return lines;
    };
    let i = 0;
    for (const [w, cols] of byWork) {
      const wm = w * MS;
      for (const line of linesFor(w)) {
        // θ ≥ w·(a − b·share) when a cut of this group is chosen; ≤ 0 otherwise (the line's value at 0 is w·a).
        b.greaterEqual(
          `radio_${u}_${i++}`,
          [term(radio, 1), term(share, wm * line.b), ...cols.map((col) => term(col, -wm * line.a))],
          0,
        );
      }
    }
    return { share, radio };
  });
  const cellCap = cellColumns.flatMap((c) => (c !== null ? [term(c.share, 1)] : []));
  if (cellCap.length > 0) b.lessEqual('cell_capacity', cellCap, blocks ?? 1);
  const radioTerm = (u: number): Term[] => {
    const c = cellColumns[u];
    return c === null ? [] : [term(c.radio, 1)];
  };

  problem.users.forEach((_, u) => {
    const all = x[u].map((e) => term(e.col, 1));
    if (problem.admission) b.lessEqual(`serve_${u}`, all, 1);
    else b.equal(`cut_${u}`, all, 1);
    for (let th = 1; th <= L; th++) {
      const terms = below(u, th, -1);
      if (terms.length > 0) b.greaterEqual(`load_${u}_${th}`, [term(z[th], 1), ...terms], 0);
    }
    // Work buffers sized by the longest prompt among the users the server serves.
    const server = belowBy(u, L, (e) => -formatTables[e.f].workspaceBytes[u] / BYTES_PER_ROW_UNIT);
    if (server.length > 0) b.greaterEqual(`buffers_${u}`, [term(s, 1), ...server], 0);
    const v = problem.users[u].variant;
    if (v !== null) {
      for (let l = 1; l <= L; l++) {
        const terms = below(u, l, -1);
        if (terms.length > 0) b.greaterEqual(`adapter_${u}_${l}`, [term(y[v][l], 1), ...terms], 0);
      }
    }
  });
  // Loaded rows form a suffix: valid, and it tightens the relaxation.
  for (let th = 1; th < L; th++) b.lessEqual(`suffix_${th}`, [term(z[th], 1), term(z[th + 1], -1)], 0);
  problem.variants.forEach((_, v) => {
    if (!variantHasUser[v]) return;
    for (let l = 1; l <= L; l++) b.lessEqual(`adapter_within_${v}_${l}`, [term(y[v][l], 1), term(z[l], -1)], 0);
  });

  // Server memory (GB).
  const mem: Term[] = [];
  tables.rows.forEach((row) => mem.push(term(z[row.threshold], row.residentBytes / BYTES_PER_ROW_UNIT)));
  mem.push(term(s, 1));
  problem.variants.forEach((_, v) => {
    if (!variantHasUser[v]) return;
    tables.rows.forEach((row) => {
      if (row.kind === 'decoder' && row.adapterBytes[v] > 0)
        mem.push(term(y[v][row.index], row.adapterBytes[v] / BYTES_PER_ROW_UNIT));
    });
  });
  problem.users.forEach((_, u) =>
    x[u].forEach((e) => mem.push(term(e.col, e.cost.serverKvBytes / BYTES_PER_ROW_UNIT))),
  );
  b.lessEqual('server_memory', mem, tables.serverMemoryBytes / BYTES_PER_ROW_UNIT);

  // KV formats: the total accuracy budget over served users (the knapsack that couples them).
  const kvFormats = problem.kvFormats ?? null;
  const budget = problem.kvAccuracyBudget ?? Infinity;
  if (kvFormats !== null && Number.isFinite(budget)) {
    const spend = problem.users.flatMap((_, u) =>
      x[u].filter((e) => kvFormats[e.f].accuracyCost > 0).map((e) => term(e.col, kvFormats[e.f].accuracyCost)),
    );
    if (spend.length > 0) b.lessEqual('kv_accuracy_budget', spend, budget);
  }

  // Step time per row: the roofline over the batch, plus the call overhead when loaded.
  tables.rows.forEach((row, r) => {
    const zt = z[row.threshold];
    const overhead = row.calls * tables.perCallOverheadSeconds;
    const compute: Term[] = [term(t[r], 1), term(zt, -overhead * MS)];
    const memory: Term[] = [term(t[r], 1), term(zt, -(overhead + row.readBytes / tables.bandwidthBytesPerSecond) * MS)];
    problem.users.forEach((user, u) => {
      const v = user.variant;
      const adapterFlops = v !== null ? row.adapterFlopsPerToken[v] : 0;
      const rowOf = (e: XEntry): typeof row => formatTables[e.f].rows[r];
      compute.push(
        ...belowBy(
          u,
          row.threshold,
          (e) => (-(rowOf(e).userFlops[u] + adapterFlops) / tables.computeFlopsPerSecond) * MS,
        ),
      );
      memory.push(
        ...belowBy(u, row.threshold, (e) => (-rowOf(e).userTrafficBytes[u] / tables.bandwidthBytesPerSecond) * MS),
      );
    });
    if (row.kind === 'decoder') {
      problem.variants.forEach((_, v) => {
        if (variantHasUser[v] && row.adapterBytes[v] > 0)
          memory.push(term(y[v][row.index], (-row.adapterBytes[v] / tables.bandwidthBytesPerSecond) * MS));
      });
    }
    b.greaterEqual(`step_compute_${r}`, compute, 0);
    b.greaterEqual(`step_memory_${r}`, memory, 0);
  });

  // Latency of user u (ms): Σ_c fixed·x + T·[c < L], with T·[c < L] ≥ T − Tmax·(1 − Σ_{c<L} x).
  const TmaxMs = Tmax * MS;
  const latencyTerms = (u: number): Term[] => [
    ...x[u].map((e) => term(e.col, e.cost.fixedSeconds * MS)),
    ...radioTerm(u),
    ...stepTerms,
    ...below(u, L, TmaxMs),
  ];
  let w: number | null = null;
  const p: number[] = [];
  let d: number | null = null;
  if (problem.objective === 'max') {
    // No big-M: W ≥ D + T with D ≥ every server user's device + link time (device-only users
    // contribute 0 through their missing c = L term), and W ≥ every user's device + link time
    // (this covers device-only users). For integral x this is exactly
    // max(max_server fixed + T, max_device fixed): without server users every z, hence every
    // T_r, may be 0 (device-only users take part in no row, the head included).
    w = b.addVariable('W', { lower: 0 });
    d = b.addVariable('D', { lower: 0 });
    b.addObjective(w, 1 / MS);
    b.greaterEqual('max_step', [term(w, 1), term(d, -1), ...stepTerms.map((e) => term(e.variable, -1))], 0);
    problem.users.forEach((_, u) => {
      const serverCuts = x[u].filter((e) => e.cut < L);
      // A device-only user (cut L) sends nothing, so its radio time may be 0: adding θ is exact.
      const radio = radioTerm(u).map((e) => term(e.variable, -1));
      b.greaterEqual(
        `max_device_${u}`,
        [term(d as number, 1), ...serverCuts.map((e) => term(e.col, -e.cost.fixedSeconds * MS)), ...radio],
        0,
      );
      b.greaterEqual(
        `max_fixed_${u}`,
        [term(w as number, 1), ...x[u].map((e) => term(e.col, -e.cost.fixedSeconds * MS)), ...radio],
        0,
      );
    });
  } else {
    problem.users.forEach((_, u) => {
      const pu = b.addVariable(`P_${u}`, { lower: 0, upper: TmaxMs });
      p.push(pu);
      b.addObjective(pu, 1 / MS);
      x[u].forEach((e) => b.addObjective(e.col, e.cost.fixedSeconds));
      for (const e of radioTerm(u)) b.addObjective(e.variable, 1 / MS);
      b.greaterEqual(
        `wait_${u}`,
        [term(pu, 1), ...stepTerms.map((e) => term(e.variable, -1)), ...below(u, L, -TmaxMs)],
        -TmaxMs,
      );
    });
  }
  problem.users.forEach((user, u) => {
    if (user.latencySloSeconds !== null) b.lessEqual(`slo_${u}`, latencyTerms(u), (user.latencySloSeconds + Tmax) * MS);
  });
  if (problem.admission) {
    b.addObjectiveConstant(tables.unservedPenaltySeconds * U);
    problem.users.forEach((_, u) => x[u].forEach((e) => b.addObjective(e.col, -tables.unservedPenaltySeconds)));
  }

  const model = b.build();
  const columns: Columns = { x, z, y, s, t, w, d, p, cell: cellColumns };
  const decode = (values: readonly number[]): KvDecision => {
    const picked = x.map((options) => options.find((e) => values[e.col] > 0.5));
    const cuts = picked.map((chosen) => (chosen === undefined ? null : chosen.cut));
    if (kvFormats !== null) {
      // An unserved user (admission) keeps the default format's id: it spends nothing either way.
      const ids = picked.map((chosen) => kvFormats[chosen?.f ?? 0].id);
      return { cuts, kvFormats: ids };
    }
    if (cell === null) return { cuts };
    const shares = cellColumns.map((c, u) => {
      if (c === null) return 0;
      const v = values[c.share];
      // Whole blocks: round the solver's near-integer value; fractions: clip into [0, 1].
      const cut = cuts[u];
      const used = cut !== null && radioWorkSeconds(tables, u, cut) > 0;
      const fixed = problem.users[u].radio?.fixedShare ?? null;
      if (fixed !== null) return fixed;
      if (!used) return 0;
      return blocks !== null ? Math.round(v) / blocks : Math.min(1, Math.max(0, v));
    });
    return kvDecisionOf(problem, cuts, shares);
  };
  return {
    model,
    decode,
    encode: (decision) => encodeKv(problem, columns, model.variables.length, decision),
    cellColumns,
  };
}

/** A decision as a column vector (for warm starts); null when a cut has no column. */
function encodeKv(problem: KvProblem, columns: Columns, n: number, decision: KvDecision): number[] | null {
  const errors: string[] = [];
  const formats = kvFormatIndices(problem, decision, errors);
  if (errors.length > 0) return null;
  const tables = kvTablesFor(problem, formats);
  const L = tables.layers;
  const values = new Array<number>(n).fill(0);
  for (let u = 0; u < problem.users.length; u++) {
    const c = decision.cuts[u];
    if (c === null && problem.admission) continue;
    const f = formats === null ? 0 : formats[u];
    const e = columns.x[u].find((k) => k.cut === c && k.f === f);
    if (e === undefined) return null;
    values[e.col] = 1;
  }
  if (decision.cuts.length !== problem.users.length) return null;
  const state = serverStateOf(problem, tables, decision.cuts);
  const shares = problem.users.map((_, u) => decisionShare(problem, decision, u));
  const unit = problem.cell?.allocation === 'resource-blocks' ? (problem.cell.resourceBlocks as number) : 1;
  columns.cell.forEach((c, u) => {
    if (c === null) return;
    const cut = decision.cuts[u];
    values[c.share] = Math.round(shares[u] * unit * 1e9) / 1e9;
    const work = cut === null || cut === undefined ? 0 : radioWorkSeconds(tables, u, cut);
    values[c.radio] = work > 0 ? (shares[u] > 0 ? (work / shares[u]) * MS : 0) : 0;
  });
  values[columns.s] = state.workspaceBytes / BYTES_PER_ROW_UNIT;
  tables.rows.forEach((row, r) => {
    if (state.rowLoaded[r]) values[columns.z[row.threshold]] = 1;
    values[columns.t[r]] = state.rowSeconds[r] * MS;
    if (row.kind === 'decoder')
      problem.variants.forEach((_, v) => {
        if (state.adapterLoaded[v][r] && columns.y[v][row.index] >= 0) values[columns.y[v][row.index]] = 1;
      });
  });
  const lat = decision.cuts.map((c, u) =>
    c === null ? 0 : userLatencySeconds(tables, u, c, state.stepSeconds, shares[u]),
  );
  if (columns.w !== null) values[columns.w] = Math.max(0, ...lat) * MS;
  if (columns.d !== null) {
    const serverFixed = decision.cuts.map((c, u) =>
      c !== null && c < L ? userLatencySeconds(tables, u, c, 0, shares[u]) : 0,
    );
    values[columns.d] = Math.max(0, ...serverFixed) * MS;
  }
  columns.p.forEach((col, u) => {
    const c = decision.cuts[u];
    values[col] = c !== null && c < L ? state.stepSeconds * MS : 0;
  });
  return values;
}
