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
import { kvTables, serverStateOf, userLatencySeconds } from './cost.ts';
import type { KvDecision, KvProblem } from './schema.ts';

/** Memory rows are written in GB so that their coefficients stay near 1. */
const BYTES_PER_ROW_UNIT = 1e9;
/**
 * Time columns (T, W, P) and time rows are in milliseconds: a solver's absolute tolerances
 * (≈ 1e-7 on a column) then mean 1e-10 s, so slack left in a step-time column cannot move the
 * objective (in seconds, as evaluate's) past the API's 1e-6 cross-check when summed over users.
 */
const MS = 1e3;

interface Columns {
  readonly x: readonly (readonly { readonly cut: number; readonly col: number }[])[];
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
}

/**
 * Compiles the MILP: problem → model only (no peer, exact method or evaluate runs here). The
 * incumbent hint is not used: the chain hands it to the backend as a start through `encode`,
 * and a cut-off row on W would add nothing a started branch-and-bound does not already have.
 */
export function compileKv(problem: KvProblem, _hints?: CompileHints<KvDecision>): Compiled<KvDecision> {
  const tables = kvTables(problem);
  const L = tables.layers;
  const U = problem.users.length;
  const Tmax = tables.maxStepSeconds;
  const b = new ModelBuilder('kv-split-inference', 'min');

  const x = problem.users.map((_, u) =>
    tables.users[u]
      .filter((k) => k.staticViolation === null)
      .map((k) => ({ cut: k.cut, col: b.binary(`x_${u}_${k.cut}`) })),
  );
  const z = [-1];
  for (let t = 1; t <= L; t++) z.push(b.binary(`z_${t}`));
  const s = b.addVariable('S', { lower: 0, upper: Math.max(0, ...tables.workspaceBytes) / BYTES_PER_ROW_UNIT });
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

  problem.users.forEach((_, u) => {
    const all = x[u].map((e) => term(e.col, 1));
    if (problem.admission) b.lessEqual(`serve_${u}`, all, 1);
    else b.equal(`cut_${u}`, all, 1);
    for (let th = 1; th <= L; th++) {
      const terms = below(u, th, -1);
      if (terms.length > 0) b.greaterEqual(`load_${u}_${th}`, [term(z[th], 1), ...terms], 0);
    }
    // Work buffers sized by the longest prompt among the users the server serves.
    const server = below(u, L, -tables.workspaceBytes[u] / BYTES_PER_ROW_UNIT);
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
    x[u].forEach((e) => mem.push(term(e.col, tables.users[u][e.cut].serverKvBytes / BYTES_PER_ROW_UNIT))),
  );
  b.lessEqual('server_memory', mem, tables.serverMemoryBytes / BYTES_PER_ROW_UNIT);

  // Step time per row: the roofline over the batch, plus the call overhead when loaded.
  tables.rows.forEach((row, r) => {
    const zt = z[row.threshold];
    const overhead = row.calls * tables.perCallOverheadSeconds;
    const compute: Term[] = [term(t[r], 1), term(zt, -overhead * MS)];
    const memory: Term[] = [term(t[r], 1), term(zt, -(overhead + row.readBytes / tables.bandwidthBytesPerSecond) * MS)];
    problem.users.forEach((user, u) => {
      const v = user.variant;
      const adapterFlops = v !== null ? row.adapterFlopsPerToken[v] : 0;
      compute.push(
        ...below(u, row.threshold, (-(row.userFlops[u] + adapterFlops) / tables.computeFlopsPerSecond) * MS),
      );
      memory.push(...below(u, row.threshold, (-row.userTrafficBytes[u] / tables.bandwidthBytesPerSecond) * MS));
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
    ...x[u].map((e) => term(e.col, tables.users[u][e.cut].fixedSeconds * MS)),
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
      b.greaterEqual(
        `max_device_${u}`,
        [term(d as number, 1), ...serverCuts.map((e) => term(e.col, -tables.users[u][e.cut].fixedSeconds * MS))],
        0,
      );
      b.greaterEqual(
        `max_fixed_${u}`,
        [term(w as number, 1), ...x[u].map((e) => term(e.col, -tables.users[u][e.cut].fixedSeconds * MS))],
        0,
      );
    });
  } else {
    problem.users.forEach((_, u) => {
      const pu = b.addVariable(`P_${u}`, { lower: 0, upper: TmaxMs });
      p.push(pu);
      b.addObjective(pu, 1 / MS);
      x[u].forEach((e) => b.addObjective(e.col, tables.users[u][e.cut].fixedSeconds));
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
  const columns: Columns = { x, z, y, s, t, w, d, p };
  const decode = (values: readonly number[]): KvDecision => ({
    cuts: x.map((options) => {
      const chosen = options.find((e) => values[e.col] > 0.5);
      return chosen === undefined ? null : chosen.cut;
    }),
  });
  return { model, decode, encode: (decision) => encodeKv(problem, columns, model.variables.length, decision) };
}

/** A decision as a column vector (for warm starts); null when a cut has no column. */
function encodeKv(problem: KvProblem, columns: Columns, n: number, decision: KvDecision): number[] | null {
  const tables = kvTables(problem);
  const L = tables.layers;
  const values = new Array<number>(n).fill(0);
  for (let u = 0; u < problem.users.length; u++) {
    const c = decision.cuts[u];
    if (c === null && problem.admission) continue;
    const e = columns.x[u].find((k) => k.cut === c);
    if (e === undefined) return null;
    values[e.col] = 1;
  }
  if (decision.cuts.length !== problem.users.length) return null;
  const state = serverStateOf(problem, tables, decision.cuts);
  values[columns.s] = state.workspaceBytes / BYTES_PER_ROW_UNIT;
  tables.rows.forEach((row, r) => {
    if (state.rowLoaded[r]) values[columns.z[row.threshold]] = 1;
    values[columns.t[r]] = state.rowSeconds[r] * MS;
    if (row.kind === 'decoder')
      problem.variants.forEach((_, v) => {
        if (state.adapterLoaded[v][r] && columns.y[v][row.index] >= 0) values[columns.y[v][row.index]] = 1;
      });
  });
  const lat = decision.cuts.map((c, u) => (c === null ? 0 : userLatencySeconds(tables, u, c, state.stepSeconds)));
  if (columns.w !== null) values[columns.w] = Math.max(0, ...lat) * MS;
  if (columns.d !== null) {
    const serverFixed = decision.cuts.map((c, u) => (c !== null && c < L ? tables.users[u][c].fixedSeconds : 0));
    values[columns.d] = Math.max(0, ...serverFixed) * MS;
  }
  columns.p.forEach((col, u) => {
    const c = decision.cuts[u];
    values[col] = c !== null && c < L ? state.stepSeconds * MS : 0;
  });
  return values;
}
