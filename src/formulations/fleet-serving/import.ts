/**
 * Converters from other planners' instance formats into fleet-serving problems (raw JSON, exactly
 * what a user would write). Helix (Mei et al., ASPLOS 2025): the instance files extracted from its
 * artifact's ilp_model.lp (../shared/data/helix/README.md): numLayers; per node id a table
 * k → tokens/s and maxLayers; links {from, to, capacityTokPerS} with "source"/"sink" endpoints.
 * Capacities ≥ 5e8 are Helix's stand-in for "unlimited" and become unlimited links (no capacity).
 */
import { z } from 'zod';
import { InputError, inputErrorFromZod } from '../../errors.ts';
import { readLp } from '../../milp/lp-reader.ts';
import type { Constraint, Term } from '../../milp/model.ts';

/** Helix's stand-in for an unlimited source/sink link. */
const HELIX_UNLIMITED = 5e8;

const helixSchema = z.object({
  source: z.string().optional(),
  numLayers: z.number().int('must be a whole number').positive('must be positive'),
  nodes: z.record(
    z.string(),
    z.object({
      throughputByLayers: z.record(z.string(), z.number().nonnegative('must not be negative').finite()),
      maxLayers: z.number().int('must be a whole number').positive('must be positive'),
    }),
  ),
  links: z.array(
    z.object({
      from: z.union([z.string(), z.number()]),
      to: z.union([z.string(), z.number()]),
      capacityTokPerS: z.number().positive('must be positive').finite(),
    }),
  ),
});

export function importHelix(raw: unknown, label = 'Helix instance'): Record<string, unknown> {
  const parsed = helixSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const h = parsed.data;
  const ids = Object.keys(h.nodes);
  if (ids.length === 0) throw new InputError('$.nodes', 'must list at least one node');
  const name = (id: string): string => `node-${id}`;
  const nodes = ids.map((id) => ({
    name: name(id),
    throughputByLayers: h.nodes[id].throughputByLayers,
    maxLayers: h.nodes[id].maxLayers,
  }));
  const links = h.links.map((l, e) => {
    const from = String(l.from);
    const to = String(l.to);
    const end = (x: string, reserved: string, path: string): string => {
      if (x === reserved) return x;
      if (!Object.hasOwn(h.nodes, x)) throw new InputError(`$.links[${e}].${path}`, `unknown node "${x}"`);
      return name(x);
    };
    const unlimited = (from === 'source' || to === 'sink') && l.capacityTokPerS >= HELIX_UNLIMITED;
    return {
      from: end(from, 'source', 'from'),
      to: end(to, 'sink', 'to'),
      ...(unlimited ? {} : { tokensPerSecond: l.capacityTokPerS }),
    };
  });
  return {
    kind: 'fleet-serving',
    description: `${label}${h.source !== undefined ? ` (Helix artifact: ${h.source})` : ''}, imported by edgeplan`,
    layers: h.numLayers,
    nodes,
    links,
  };
}

/** Helix's instance as `importHelix` reads it (the format of ../shared/data/helix/README.md). */
export interface HelixInstance {
  readonly source?: string;
  readonly numLayers: number;
  readonly nodes: Record<string, { throughputByLayers: Record<string, number>; maxLayers: number }>;
  readonly links: { from: string; to: string; capacityTokPerS: number }[];
}

/**
 * The instance inside Helix's own `ilp_model.lp` (the MILP its artifact hands to Gurobi, Gurobi's LP format), read
 * with the project's LP reader and recovered from Helix's variables and rows:
 * - a node per `hold_constraint_<i>` (Σ_k hold_<i>_<k> = 1): its k's are the table's keys, maxLayers the largest;
 * - L from `end_constraint_<i>` (start_<i> + Σ k·hold_<i>_<k> ≤ L), the same for every node;
 * - T_i(k) = −(coefficient of hold_<i>_<k> in `node_throughput_constraint_<i>`), inflow − Σ T·hold ≤ 0;
 * - a link per `edge_flow_constr_<a>_<b>` (flow_<a>_<b> − cap·switch_<a>_<b> ≤ 0), a ∈ {source, node}, b ∈
 *   {node, sink}; Helix's 5e8 on source/sink links stays 5e8 here and `importHelix` makes it unlimited.
 * Each link must also have Helix's alignment rows (edge_disable_constr…): without them its flow would not need the
 * ranges to meet, a different problem, so such a file is refused rather than imported with a changed meaning.
 */
export function helixInstanceFromLp(text: string, source?: string): HelixInstance {
  const { model } = readLp(text);
  const rows = new Map(model.constraints.map((c) => [c.name, c]));
  const name = (t: Term): string => model.variables[t.variable].name;
  const rowError = (row: string, rule: string): InputError => new InputError(`row ${row}`, rule);
  if (model.sense !== 'max') throw new InputError('objective', "Helix's model maximises the flow out of the source");

  const ids: string[] = [];
  for (const c of model.constraints) {
    const m = /^hold_constraint_(.+)$/.exec(c.name);
    if (m !== null) ids.push(m[1]);
  }
  if (ids.length === 0) {
    throw new InputError(
      '$',
      "no hold_constraint_<node> rows: not Helix's ilp_model.lp (give its JSON instance instead)",
    );
  }
  const known = new Set(ids);
  let layers: number | null = null;
  const nodes: HelixInstance['nodes'] = {};
  for (const id of ids) {
    const holdRow = rows.get(`hold_constraint_${id}`) as Constraint;
    if (holdRow.lower !== 1 || holdRow.upper !== 1) throw rowError(holdRow.name, 'must be Σ_k hold = 1');
    const ks = new Map<number, number>();
    for (const t of holdRow.terms) {
      const m = new RegExp(`^hold_${escapeRegExp(id)}_(\\d+)$`).exec(name(t));
      if (m === null || t.coefficient !== 1)
        throw rowError(holdRow.name, `unexpected term ${t.coefficient} ${name(t)}`);
      const k = Number(m[1]);
      if (k < 1) throw rowError(holdRow.name, `${name(t)}: a node holds at least one layer`);
      ks.set(t.variable, k);
    }
    const end = rows.get(`end_constraint_${id}`);
    if (end === undefined) throw rowError(`end_constraint_${id}`, 'missing (start + Σ k·hold ≤ L)');
    if (!Number.isInteger(end.upper) || end.upper < 1) throw rowError(end.name, 'its right side must be L ≥ 1');
    if (layers !== null && end.upper !== layers) {
      throw rowError(end.name, `L = ${end.upper} differs from L = ${layers} of the other nodes`);
    }
    layers = end.upper;
    for (const t of end.terms) {
      const want = name(t) === `start_${id}` ? 1 : ks.get(t.variable);
      if (want === undefined || t.coefficient !== want) {
        throw rowError(end.name, `unexpected term ${t.coefficient} ${name(t)} (want start + Σ k·hold_${id}_k)`);
      }
    }
    const tputRow = rows.get(`node_throughput_constraint_${id}`);
    if (tputRow === undefined) throw rowError(`node_throughput_constraint_${id}`, 'missing (inflow ≤ Σ T(k)·hold)');
    if (tputRow.upper !== 0) throw rowError(tputRow.name, 'must be inflow − Σ T(k)·hold ≤ 0');
    const table: Record<string, number> = {};
    for (const k of [...ks.values()].sort((a, b) => a - b)) table[String(k)] = 0;
    for (const t of tputRow.terms) {
      const k = ks.get(t.variable);
      if (k !== undefined) {
        if (t.coefficient > 0) throw rowError(tputRow.name, `${name(t)}: a throughput must not be negative`);
        table[String(k)] = -t.coefficient;
      } else if (!/^flow_/.test(name(t)) || t.coefficient !== 1) {
        throw rowError(tputRow.name, `unexpected term ${t.coefficient} ${name(t)}`);
      }
    }
    nodes[id] = { throughputByLayers: table, maxLayers: Math.max(...ks.values()) };
  }

  // `<a>_<b>` with a, b node ids (ids may contain "_"): the one split whose both sides are known.
  const endpoints = (rest: string, row: string): { from: string; to: string } => {
    const s = /^source_(.+)$/.exec(rest);
    if (s !== null && known.has(s[1])) return { from: 'source', to: s[1] };
    const t = /^(.+)_sink$/.exec(rest);
    if (t !== null && known.has(t[1])) return { from: t[1], to: 'sink' };
    for (let at = rest.indexOf('_'); at > 0; at = rest.indexOf('_', at + 1)) {
      const from = rest.slice(0, at);
      const to = rest.slice(at + 1);
      if (known.has(from) && known.has(to)) return { from, to };
    }
    throw rowError(row, `"${rest}" names no link between known nodes, source and sink`);
  };
  const links: HelixInstance['links'] = [];
  for (const c of model.constraints) {
    const m = /^edge_flow_constr_(.+)$/.exec(c.name);
    if (m === null) continue;
    const { from, to } = endpoints(m[1], c.name);
    const flow = c.terms.find((t) => name(t) === `flow_${m[1]}`);
    const on = c.terms.find((t) => name(t) === `switch_${m[1]}`);
    if (flow?.coefficient !== 1 || on === undefined || c.terms.length !== 2 || c.upper !== 0) {
      throw rowError(c.name, `must be flow_${m[1]} − capacity·switch_${m[1]} ≤ 0`);
    }
    const aligned =
      from === 'source'
        ? [`edge_disable_constr_source_${to}`]
        : to === 'sink'
          ? [`edge_disable_constr_${from}_sink`]
          : [`edge_disable_constr1_${m[1]}`, `edge_disable_constr2_${m[1]}`];
    for (const r of aligned) {
      if (!rows.has(r)) throw rowError(r, `missing: link ${from} → ${to} would not need the ranges to meet`);
    }
    links.push({ from, to, capacityTokPerS: -on.coefficient });
  }
  for (const t of model.objective) {
    const m = /^flow_source_(.+)$/.exec(name(t));
    if (m === null || t.coefficient !== 1) {
      throw new InputError('objective', `unexpected term ${t.coefficient} ${name(t)} (want Σ flow_source_i)`);
    }
  }
  return { ...(source !== undefined ? { source } : {}), numLayers: layers as number, nodes, links };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when a file holds LP text rather than JSON: by extension, else by its first non-blank character. */
export function isLpInput(file: string, text: string): boolean {
  if (/\.lp$/i.test(file)) return true;
  if (/\.json$/i.test(file)) return false;
  const first = text.trimStart()[0];
  return first !== undefined && first !== '{' && first !== '[';
}

/** Helix's `ilp_model.lp` as a fleet-serving problem (the same problem `importHelix` makes of its JSON instance). */
export function importHelixLp(text: string, label = 'Helix ilp_model.lp', source?: string): Record<string, unknown> {
  return importHelix(helixInstanceFromLp(text, source), label);
}
