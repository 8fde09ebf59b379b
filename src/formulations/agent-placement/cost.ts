/**
 * The agent-placement cost model, used by the exact method and the peers (evaluate recomputes the
 * same quantities on its own). Locations: 0 is the user's device, n + 1 is server n.
 *
 * - A module starts when its last input has arrived (and, for a module reading raw data, when the
 *   data has crossed the uplink); it runs for its compute seconds at its location. Modules of one
 *   interaction on one location overlap when the DAG lets them (a server batches them; for a
 *   device that runs one model at a time, write the task as a chain).
 * - A transfer between two locations takes bytes·8/rate + latency over the user's link (device ↔
 *   server) or the edge link (server ↔ server); on one location it is free.
 * - Interaction latency: the last final module's result back on the device.
 * - Memory at a location: each parameter block once (shared base weights) plus every placed
 *   module's KV cache for one interaction (all users' interactions may be in flight at once).
 * - Server load: Σ rate × compute seconds of the modules it runs ≤ its utilisation cap.
 */
import { transferSeconds } from '../../cost/link.ts';
import { withinLimit } from '../tolerance.ts';
import type { Problem } from './schema.ts';

/** Location index → name in decisions. */
export function locationName(problem: Problem, loc: number): string {
  return loc === 0 ? 'device' : problem.servers[loc - 1].id;
}

/** Seconds to move `bytes` from location `from` to `to` for user u; Infinity when no link joins them. */
export function hopSeconds(problem: Problem, user: number, from: number, to: number, bytes: number): number {
  if (from === to || bytes <= 0) return 0;
  const u = problem.users[user];
  if (from === 0) {
    const link = u.links[to - 1];
    return link ? transferSeconds(bytes, link.uplinkBitsPerSecond, link.latencySeconds) : Infinity;
  }
  if (to === 0) {
    const link = u.links[from - 1];
    return link ? transferSeconds(bytes, link.downlinkBitsPerSecond, link.latencySeconds) : Infinity;
  }
  const e = problem.edge[from - 1][to - 1];
  return e ? transferSeconds(bytes, e.bitsPerSecond, e.latencySeconds) : Infinity;
}

/**
 * Per-interaction latency of user u under `locs` (location per module), by memoised recursion
 * over each module's inputs. Infinity when a module cannot run where it is placed or a hop has
 * no link.
 */
export function interactionSeconds(problem: Problem, user: number, locs: readonly number[]): number {
  const u = problem.users[user];
  const modules = problem.tasks[u.task].modules;
  const finish = new Array<number>(modules.length).fill(NaN);
  const finishOf = (m: number): number => {
    if (!Number.isNaN(finish[m])) return finish[m];
    const mod = modules[m];
    const compute = u.computeSeconds[m][locs[m]];
    let ready = hopSeconds(problem, user, 0, locs[m], mod.sourceBytes);
    for (const p of mod.inputs)
      ready = Math.max(ready, finishOf(p) + hopSeconds(problem, user, locs[p], locs[m], modules[p].outputBytes));
    finish[m] = compute === null ? Infinity : ready + compute;
    return finish[m];
  };
  let latency = 0;
  modules.forEach((mod, m) => {
    if (mod.final) latency = Math.max(latency, finishOf(m) + hopSeconds(problem, user, locs[m], 0, mod.outputBytes));
  });
  return latency;
}

/** Bytes user u's interaction moves over links (uplink, downlink, edge links) under `locs`. */
export function interactionBytes(problem: Problem, user: number, locs: readonly number[]): number {
  const modules = problem.tasks[problem.users[user].task].modules;
  let bytes = 0;
  modules.forEach((mod, m) => {
    if (locs[m] !== 0) bytes += mod.sourceBytes;
    for (const p of mod.inputs) if (locs[p] !== locs[m]) bytes += modules[p].outputBytes;
    if (mod.final && locs[m] !== 0) bytes += mod.outputBytes;
  });
  return bytes;
}

/** The value of one user's placement under the problem's objective (before weighting). */
export function userValue(problem: Problem, user: number, seconds: number, bytes: number): number {
  return problem.objective === 'network' ? problem.users[user].rate * bytes * 8 : seconds;
}

/** Bytes of a set of blocks plus KV bytes: memory at one location. */
export function blockBytes(problem: Problem, blocks: Iterable<number>): number {
  let s = 0;
  for (const b of blocks) s += problem.blocks[b].bytes;
  return s;
}

/** Whether `used` bytes fit `capacity` under the one tolerance policy. */
export function fits(used: number, capacity: number): boolean {
  return withinLimit(used, capacity);
}

/** The objective from per-user values: max (worst latency) or rate-weighted mean, or the network sum. */
export function combine(problem: Problem, values: readonly number[]): number {
  if (problem.objective === 'worst-latency') return values.reduce((a, b) => Math.max(a, b), 0);
  if (problem.objective === 'network') return values.reduce((a, b) => a + b, 0);
  const total = problem.users.reduce((s, u) => s + u.rate, 0);
  return values.reduce((s, v, u) => s + (problem.users[u].rate * v) / total, 0);
}
