/**
 * Converters from other planners' instance formats into fleet-serving problems (raw JSON, exactly
 * what a user would write). Helix (Mei et al., ASPLOS 2025): the instance files extracted from its
 * artifact's ilp_model.lp (../shared/data/helix/README.md): numLayers; per node id a table
 * k → tokens/s and maxLayers; links {from, to, capacityTokPerS} with "source"/"sink" endpoints.
 * Capacities ≥ 5e8 are Helix's stand-in for "unlimited" and become unlimited links (no capacity).
 */
import { z } from 'zod';
import { InputError, inputErrorFromZod } from '../../errors.ts';

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
