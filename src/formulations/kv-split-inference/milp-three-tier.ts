/**
 * kv-split-inference with a cloud tier as a MILP (docs/formulations/kv-split-inference.md,
 * "Three tiers"). Each cut is a staircase of binaries, so that every tier's participation is one
 * column and the model stays sparse (O(U·L) columns, O(U·L) non-zeros per tier row family):
 *
 * - a[u][t] = [c1_u < t] and b[u][t] = [c2_u < t] for t = 1..L, non-decreasing in t
 *   (a[u][0] = 0, a[u][L+1] = 1 implicitly); the order c1 ≤ c2 is b[u][t] ≤ a[u][t];
 *   a cut c not allowed for u on its own (device memory, privacy floor, latency SLO before any
 *   shared time) is a[u][c+1] = a[u][c];
 * - [c1 < t ≤ c2] = a − b is u's part in edge row t and [c2 < t] = b its part in cloud row t
 *   (thresholds as in milp.ts: layer l → l, head → L); ze[t], zc[t] load the rows; e[u] ≥ every
 *   edge part sizes the edge's work buffers;
 * - a cut-indexed cost f(c1) is the telescoping sum f(L) + Σ_t (f(t − 1) − f(t))·a[u][t];
 * - edge KV = Σ_l kv·(a[u][l] − b[u][l]), cloud KV = Σ_l kv·b[u][l];
 * - backhaul B = Σ_u (down·b[u][L] + up·(b[u][L] − b[u][1])) (the token down for every cloud
 *   user, the hidden state up unless the cloud runs everything), price = p/L · Σ_t b[u][t];
 * - latency: every user that reaches the edge (c1 < L, a[u][L] = 1) waits T_e; a cloud user
 *   (b[u][L] = 1) also waits B + T_c. Max objective without big-M on the step times: W ≥ D1 + T_e
 *   with D1 ≥ every edge user's fixed time, W ≥ D2 + T_e + B + T_c with D2 ≥ every cloud user's
 *   fixed time (switched off by 1 − b[u][L], M = its own largest fixed time), W ≥ every user's
 *   fixed time. Sum objective and SLOs: λ_u ≥ F + T_e − M_e(1 − a[u][L]) and
 *   λ_u ≥ F + T_e + B + T_c − M_e(1 − a[u][L]) − M_c(1 − b[u][L]), M_e the edge step with every
 *   user at cut 0, M_c every user's backhaul bits + the cloud step with every user at c2 = 0.
 * - objective: W or Σ λ_u, plus priceWeight · price.
 *
 * Times in milliseconds and memory in GB, as in milp.ts.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import { kvTables } from './cost.ts';
import type { KvDecision, KvProblem } from './schema.ts';
import { cloudCutsOf, cloudTables, threeTierStateOf } from './three-tier.ts';

const GB = 1e9;
const MS = 1e3;

/** A linear expression: terms plus a constant. */
interface Expr {
  readonly terms: Term[];
  readonly constant: number;
}

/**
 * `objectiveCutoff`: the objective of a known feasible decision (the chain's incumbent, valued by
 * the cost functions). Every user's latency in a decision at least as good is at most it (max:
 * the largest latency; sum: one term; the price term is ≥ 0), so a cut whose device + link time
 * alone exceeds it is left out, and the big-M of each wait shrinks to it.
 */
export function buildKvThreeTier(problem: KvProblem, objectiveCutoff = Infinity): Compiled<KvDecision> {
  const tables = kvTables(problem);
  const cloud = cloudTables(problem);
  const L = tables.layers;
  const U = problem.users.length;
  const b = new ModelBuilder('kv-split-inference-three-tier', 'min');
  // Slightly above the cut-off so that the incumbent itself stays representable (warm start).
  const cutoff = objectiveCutoff * (1 + 1e-9);

  // a[u][t], b[u][t] for t = 1..L (index 0 unused).
  const a = problem.users.map((_, u) => [-1, ...Array.from({ length: L }, (__, i) => b.binary(`a_${u}_${i + 1}`))]);
  const bb = problem.users.map((_, u) => [-1, ...Array.from({ length: L }, (__, i) => b.binary(`b_${u}_${i + 1}`))]);
  const e = problem.users.map((_, u) => b.binary(`e_${u}`));
  const ze = [-1];
  const zc = [-1];
  for (let t = 1; t <= L; t++) {
    ze.push(b.binary(`ze_${t}`));
    zc.push(b.binary(`zc_${t}`));
  }
  const maxBuffers = Math.max(0, ...tables.workspaceBytes) / GB;
  const se = b.addVariable('Se', { lower: 0, upper: maxBuffers });
  const sc = b.addVariable('Sc', { lower: 0, upper: maxBuffers });
  const te = tables.rows.map((_, r) => b.addVariable(`Te_${r}`, { lower: 0, upper: tables.maxRowSeconds[r] * MS }));
  const tc = tables.rows.map((_, r) => b.addVariable(`Tc_${r}`, { lower: 0, upper: cloud.maxRowSeconds[r] * MS }));

  /** Σ_c f(c)·[c1_u = c] over the staircase a[u] (or b[u] for c2), scaled by `scale`. */
  const byCut = (stairs: readonly number[], f: (c: number) => number, scale = 1): Expr => {
    const terms: Term[] = [];
    for (let t = 1; t <= L; t++) {
      const coef = (f(t - 1) - f(t)) * scale;
      if (coef !== 0) terms.push(term(stairs[t], coef));
    }
    return { terms, constant: f(L) * scale };
  };
  const neg = (x: Expr): Expr => ({
    terms: x.terms.map((t) => term(t.variable, -t.coefficient)),
    constant: -x.constant,
  });

  problem.users.forEach((_, u) => {
    const allowed = tables.users[u].map((k) => k.staticViolation === null && !(k.fixedSeconds > cutoff));
    for (let t = 1; t <= L; t++) {
      if (t < L) {
        b.lessEqual(`a_up_${u}_${t}`, [term(a[u][t], 1), term(a[u][t + 1], -1)], 0);
        b.lessEqual(`b_up_${u}_${t}`, [term(bb[u][t], 1), term(bb[u][t + 1], -1)], 0);
      }
      b.lessEqual(`order_${u}_${t}`, [term(bb[u][t], 1), term(a[u][t], -1)], 0);
      const part = [term(a[u][t], -1), term(bb[u][t], 1)];
      b.greaterEqual(`edge_load_${u}_${t}`, [term(ze[t], 1), ...part], 0);
      b.greaterEqual(`edge_user_${u}_${t}`, [term(e[u], 1), ...part], 0);
      b.greaterEqual(`cloud_load_${u}_${t}`, [term(zc[t], 1), term(bb[u][t], -1)], 0);
    }
    // Cut c not allowed: [c1 = c] = a[c+1] − a[c] = 0 (a[0] = 0, a[L+1] = 1).
    for (let c = 0; c <= L; c++) {
      if (allowed[c]) continue;
      if (c === 0) b.equal(`no_cut_${u}_0`, [term(a[u][1], 1)], 0);
      else if (c === L) b.equal(`no_cut_${u}_${L}`, [term(a[u][L], 1)], 1);
      else b.equal(`no_cut_${u}_${c}`, [term(a[u][c + 1], 1), term(a[u][c], -1)], 0);
    }
    b.greaterEqual(`edge_buffers_${u}`, [term(se, 1), term(e[u], -tables.workspaceBytes[u] / GB)], 0);
    b.greaterEqual(`cloud_buffers_${u}`, [term(sc, 1), term(bb[u][L], -tables.workspaceBytes[u] / GB)], 0);
  });
  // The cloud runs a suffix of the layers (everything above its lowest c2): valid and tighter.
  for (let t = 1; t < L; t++) b.lessEqual(`cloud_suffix_${t}`, [term(zc[t], 1), term(zc[t + 1], -1)], 0);

  // Memory: layer l's KV is on the edge iff c1 < l ≤ c2, in the cloud iff c2 < l.
  const kvPerLayer = (u: number): number => tables.users[u][L - 1].serverKvBytes / GB;
  const edgeMem: Term[] = [term(se, 1)];
  const cloudMem: Term[] = [term(sc, 1)];
  for (const row of tables.rows) {
    edgeMem.push(term(ze[row.threshold], row.residentBytes / GB));
    cloudMem.push(term(zc[row.threshold], row.residentBytes / GB));
  }
  problem.users.forEach((_, u) => {
    for (let l = 1; l <= L; l++) {
      edgeMem.push(term(a[u][l], kvPerLayer(u)), term(bb[u][l], -kvPerLayer(u)));
      cloudMem.push(term(bb[u][l], kvPerLayer(u)));
    }
  });
  b.lessEqual('edge_memory', edgeMem, tables.serverMemoryBytes / GB);
  if (Number.isFinite(cloud.cloud.memoryCapacityBytes))
    b.lessEqual('cloud_memory', cloudMem, cloud.cloud.memoryCapacityBytes / GB);

  // Step time per row and tier: the roofline over the participants plus the call overhead.
  const edgePart = (u: number, t: number, coef: number): Term[] => [term(a[u][t], coef), term(bb[u][t], -coef)];
  const cloudPart = (u: number, t: number, coef: number): Term[] => [term(bb[u][t], coef)];
  const tiers = [
    { name: 'edge', t: te, z: ze, part: edgePart, rates: tables },
    { name: 'cloud', t: tc, z: zc, part: cloudPart, rates: cloud.rates },
  ];
  for (const tier of tiers) {
    const { computeFlopsPerSecond: flops, bandwidthBytesPerSecond: bw, perCallOverheadSeconds: call } = tier.rates;
    tables.rows.forEach((row, r) => {
      const z = tier.z[row.threshold];
      const overhead = row.calls * call;
      const compute: Term[] = [term(tier.t[r], 1), term(z, -overhead * MS)];
      const memory: Term[] = [term(tier.t[r], 1), term(z, -(overhead + row.readBytes / bw) * MS)];
      problem.users.forEach((_, u) => {
        compute.push(...tier.part(u, row.threshold, (-row.userFlops[u] / flops) * MS));
        memory.push(...tier.part(u, row.threshold, (-row.userTrafficBytes[u] / bw) * MS));
      });
      b.greaterEqual(`${tier.name}_compute_${r}`, compute, 0);
      b.greaterEqual(`${tier.name}_memory_${r}`, memory, 0);
    });
  }

  const edgeStep = te.map((col) => term(col, -1));
  const cloudStep = tc.map((col) => term(col, -1));
  const upWork = cloud.workSeconds[1] - cloud.workSeconds[0];
  const backhaul: Term[] = problem.users.flatMap((_, u) => [
    term(bb[u][L], -(cloud.workSeconds[0] + upWork) * MS),
    term(bb[u][1], upWork * MS),
  ]);
  const Me = Math.min(tables.maxStepSeconds, cutoff) * MS;
  const Mc = Math.min(cloud.maxBackhaulSeconds + cloud.maxStepSeconds, cutoff) * MS;
  /** Device + user link (from c1) + backhaul latencies (from c2) of user u, ms. */
  const fixedOf = (u: number): Expr => {
    const device = byCut(a[u], (c) => tables.users[u][c].fixedSeconds, MS);
    const link = byCut(bb[u], (c) => cloud.latencySeconds[c], MS);
    return { terms: [...device.terms, ...link.terms], constant: device.constant + link.constant };
  };
  // Over the cuts a cloud user can have (c1 < L, allowed): the big-M that switches its D2 row off.
  const largestFixed = (u: number): number =>
    (Math.max(
      0,
      ...tables.users[u]
        .filter((k) => k.cut < L && k.staticViolation === null && !(k.fixedSeconds > cutoff))
        .map((k) => k.fixedSeconds),
    ) +
      Math.max(...cloud.latencySeconds)) *
    MS;
  let w: number | null = null;
  let d1: number | null = null;
  let d2: number | null = null;
  if (problem.objective === 'max') {
    w = b.addVariable('W', { lower: 0 });
    d1 = b.addVariable('D1', { lower: 0 });
    d2 = b.addVariable('D2', { lower: 0 });
    b.addObjective(w, 1 / MS);
    b.greaterEqual('max_edge', [term(w, 1), term(d1, -1), ...edgeStep], 0);
    b.greaterEqual('max_cloud', [term(w, 1), term(d2, -1), ...edgeStep, ...backhaul, ...cloudStep], 0);
    problem.users.forEach((_, u) => {
      const f = neg(fixedOf(u));
      b.greaterEqual(`max_fixed_${u}`, [term(w as number, 1), ...f.terms], -f.constant);
      const edgeFixed = neg(byCut(a[u], (c) => (c < L ? tables.users[u][c].fixedSeconds : 0), MS));
      b.greaterEqual(`max_edge_${u}`, [term(d1 as number, 1), ...edgeFixed.terms], -edgeFixed.constant);
      // D2 ≥ F' − M·(1 − b[u][L]) with F' = F but 0 at c1 = L (a cloud user has c1 < L), so that M
      // need only cover the cuts below L.
      const M = largestFixed(u);
      const dev = neg(byCut(a[u], (c) => (c < L ? tables.users[u][c].fixedSeconds : 0), MS));
      const lat = neg(byCut(bb[u], (c) => cloud.latencySeconds[c], MS));
      b.greaterEqual(
        `max_cloud_${u}`,
        [term(d2 as number, 1), ...dev.terms, ...lat.terms, term(bb[u][L], -M)],
        -dev.constant - lat.constant - M,
      );
    });
  }
  const lambdas = new Map<number, number>();
  problem.users.forEach((user, u) => {
    const weight = cloud.cloud.priceWeightSeconds;
    if (weight > 0 && cloud.cloud.pricePerToken > 0)
      for (let t = 1; t <= L; t++) b.addObjective(bb[u][t], (weight * cloud.cloud.pricePerToken) / L);
    if (problem.objective === 'max' && user.latencySloSeconds === null) return;
    const lambda = b.addVariable(`lambda_${u}`, { lower: 0 });
    lambdas.set(u, lambda);
    const f = neg(fixedOf(u));
    const base = [term(lambda, 1), ...f.terms];
    b.greaterEqual(`lat_fixed_${u}`, base, -f.constant);
    b.greaterEqual(`lat_edge_${u}`, [...base, ...edgeStep, term(a[u][L], -Me)], -f.constant - Me);
    b.greaterEqual(
      `lat_cloud_${u}`,
      [...base, ...edgeStep, term(a[u][L], -Me), ...backhaul, ...cloudStep, term(bb[u][L], -Mc)],
      -f.constant - Me - Mc,
    );
    if (user.latencySloSeconds !== null) b.lessEqual(`slo_${u}`, [term(lambda, 1)], user.latencySloSeconds * MS);
    if (problem.objective === 'sum') b.addObjective(lambda, 1 / MS);
  });

  const model = b.build();
  const cutOf = (stairs: readonly number[], values: readonly number[]): number => {
    let c = 0;
    for (let t = 1; t <= L; t++) if (values[stairs[t]] < 0.5) c++;
    return c;
  };
  const decode = (values: readonly number[]): KvDecision => ({
    cuts: a.map((stairs) => cutOf(stairs, values)),
    cloudCuts: bb.map((stairs) => cutOf(stairs, values)),
  });
  const encode = (decision: KvDecision): number[] | null => {
    if (decision.cuts.length !== U) return null;
    const cuts1: number[] = [];
    for (const c of decision.cuts) {
      if (c === null) return null;
      cuts1.push(c);
    }
    const cuts2 = cloudCutsOf(problem, decision);
    const values = new Array<number>(model.variables.length).fill(0);
    for (let u = 0; u < U; u++) {
      if (!(cuts1[u] <= cuts2[u] && cuts2[u] <= L) || tables.users[u][cuts1[u]].staticViolation !== null) return null;
      for (let t = 1; t <= L; t++) {
        values[a[u][t]] = cuts1[u] < t ? 1 : 0;
        values[bb[u][t]] = cuts2[u] < t ? 1 : 0;
      }
      values[e[u]] = cuts1[u] < cuts2[u] ? 1 : 0;
    }
    const state = threeTierStateOf(problem, cuts1, cuts2);
    tables.rows.forEach((row, r) => {
      if (state.edge.rowLoaded[r]) values[ze[row.threshold]] = 1;
      if (state.cloud.rowLoaded[r]) values[zc[row.threshold]] = 1;
      values[te[r]] = state.edge.rowSeconds[r] * MS;
      values[tc[r]] = state.cloud.rowSeconds[r] * MS;
    });
    values[se] = state.edge.workspaceBytes / GB;
    values[sc] = state.cloud.workspaceBytes / GB;
    for (const [u, col] of lambdas) values[col] = state.latencies[u] * MS;
    if (w !== null && d1 !== null && d2 !== null) {
      values[w] = Math.max(0, ...state.latencies) * MS;
      const fixed = (u: number): number => tables.users[u][cuts1[u]].fixedSeconds;
      values[d1] = Math.max(0, ...problem.users.map((_, u) => (cuts1[u] < L ? fixed(u) : 0))) * MS;
      values[d2] =
        Math.max(0, ...problem.users.map((_, u) => (cuts2[u] < L ? fixed(u) + cloud.latencySeconds[cuts2[u]] : 0))) *
        MS;
    }
    return values;
  };
  return { model, decode, encode };
}
