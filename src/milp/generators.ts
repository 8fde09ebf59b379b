/**
 * Seeded generators of benchmark MILP models. They exist so that backend tests, property tests
 * and benchmarks exercise the same reproducible instances: the same (sizes, seed) always gives
 * the same model, on every machine.
 */

import { mulberry32 } from '../util/random.ts';
import { ModelBuilder, term, type Model } from './model.ts';

export { mulberry32 };

/** Uniform integer in [low, high], both ends included. */
export function uniformInt(random: () => number, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

/** The raw data of a generalized-assignment instance, for brute force and decoders. */
export interface GeneralizedAssignmentData {
  /** cost[i][j]: cost of giving item i to server j. */
  readonly cost: number[][];
  /** weight[i][j]: capacity item i uses on server j. */
  readonly weight: number[][];
  /** capacity[j] of server j. */
  readonly capacity: number[];
}

/**
 * Data of a "type D" generalized-assignment instance (Martello & Toth's hard class, as used by
 * Chu & Beasley 1997): weights uniform in 1..100, costs negatively correlated with weights
 * (111 − w + uniform −10..10), capacity of server j = capacityRatio · Σᵢ wᵢⱼ / servers.
 * The negative correlation makes cheap assignments heavy, so the LP bound is weak and
 * branch-and-bound has real work to do even at modest sizes.
 */
export function generalizedAssignmentData(
  items: number,
  servers: number,
  seed: number,
  capacityRatio = 0.8,
): GeneralizedAssignmentData {
  if (!Number.isInteger(items) || items < 1) throw new RangeError(`items must be a positive integer, got ${items}`);
  if (!Number.isInteger(servers) || servers < 1) {
    throw new RangeError(`servers must be a positive integer, got ${servers}`);
  }
  if (!(capacityRatio > 0) || !Number.isFinite(capacityRatio)) {
    throw new RangeError(`capacityRatio must be a positive finite number, got ${capacityRatio}`);
  }
  const random = mulberry32(seed);
  const weight: number[][] = [];
  const cost: number[][] = [];
  for (let i = 0; i < items; i++) {
    const w: number[] = [];
    const c: number[] = [];
    for (let j = 0; j < servers; j++) {
      const wij = uniformInt(random, 1, 100);
      w.push(wij);
      c.push(111 - wij + uniformInt(random, -10, 10));
    }
    weight.push(w);
    cost.push(c);
  }
  const capacity: number[] = [];
  for (let j = 0; j < servers; j++) {
    let total = 0;
    for (let i = 0; i < items; i++) total += weight[i][j];
    capacity.push(Math.floor((capacityRatio * total) / servers));
  }
  return { cost, weight, capacity };
}

/** Column index of x[item][server] in the model built by `generalizedAssignmentModel`. */
export function assignmentColumn(item: number, server: number, servers: number): number {
  return item * servers + server;
}

/**
 * Minimise Σ cost·x subject to: every item on exactly one server, every server within its
 * capacity; x binary. Columns are item-major: x[i][j] is column i·servers + j.
 */
export function generalizedAssignmentModel(data: GeneralizedAssignmentData, name = 'gap'): Model {
  const items = data.cost.length;
  const servers = data.capacity.length;
  const b = new ModelBuilder(name, 'min');
  for (let i = 0; i < items; i++) {
    for (let j = 0; j < servers; j++) {
      const column = b.binary(`x[${i}][${j}]`);
      b.addObjective(column, data.cost[i][j]);
    }
  }
  for (let i = 0; i < items; i++) {
    const terms = [];
    for (let j = 0; j < servers; j++) terms.push(term(assignmentColumn(i, j, servers)));
    b.equal(`assign[${i}]`, terms, 1);
  }
  for (let j = 0; j < servers; j++) {
    const terms = [];
    for (let i = 0; i < items; i++) terms.push(term(assignmentColumn(i, j, servers), data.weight[i][j]));
    b.lessEqual(`capacity[${j}]`, terms, data.capacity[j]);
  }
  return b.build();
}

/** A seeded type-D generalized-assignment model (see `generalizedAssignmentData`). */
export function generalizedAssignment(items: number, servers: number, seed: number, capacityRatio = 0.8): Model {
  return generalizedAssignmentModel(
    generalizedAssignmentData(items, servers, seed, capacityRatio),
    `gap-${items}x${servers}-s${seed}`,
  );
}
