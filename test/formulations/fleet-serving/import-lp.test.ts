/**
 * `edgeplan import helix` on Helix's own `ilp_model.lp` (the MILP its artifact hands to Gurobi): a hand-written
 * fixture in Gurobi's LP layout, a round trip through an LP written in Helix's variables and rows from a JSON
 * instance, refusals of files that are not Helix's model, and — where Helix's repository is on the machine — the
 * artifact's own files against the bundled problems and the held-out sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, solve } from '../../../src/api.ts';
import {
  helixInstanceFromLp,
  importHelix,
  importHelixLp,
  isLpInput,
  type HelixInstance,
} from '../../../src/formulations/fleet-serving/import.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import { runCli } from '../../support/cli.ts';

const here = (path: string): string => new URL(path, import.meta.url).pathname;
const fixture = readFileSync(here('./fixtures/helix-3-node.lp'), 'utf8');
const withoutDescription = (p: Record<string, unknown>): Record<string, unknown> => {
  const { description: _, ...rest } = p;
  return rest;
};

/**
 * Helix's MILP (Mei et al., ASPLOS 2025, §4) written in its variable and row names, in Gurobi's LP layout (terms
 * wrapped over indented lines), from a JSON instance: what Helix's artifact writes, produced by our own code.
 */
function helixLpText(h: HelixInstance): string {
  const L = h.numLayers;
  const ids = Object.keys(h.nodes);
  const rows: string[] = [];
  const row = (name: string, terms: string[], op: string, rhs: number): void => {
    const body = terms.join(' ').replace(/^\+ /, '');
    // Wrap at spaces before a sign, as Gurobi does, so continuation lines start with "+" or "-".
    const words = `${name}: ${body} ${op} ${rhs}`.split(/ (?=[+-] )/);
    const lines: string[] = [];
    for (const w of words) {
      if (lines.length > 0 && lines[lines.length - 1].length + w.length < 70) lines[lines.length - 1] += ` ${w}`;
      else lines.push(w);
    }
    rows.push(` ${lines[0]}`, ...lines.slice(1).map((l) => `   ${l}`));
  };
  const ks = (id: string): number[] => Object.keys(h.nodes[id].throughputByLayers).map(Number);
  const end = (id: string, sign: '+' | '-'): string[] => [
    `${sign} start_${id}`,
    ...ks(id).map((k) => `${sign} ${k} hold_${id}_${k}`),
  ];
  const key = (l: { from: string; to: string }): string => `${l.from}_${l.to}`;
  for (const id of ids) {
    row(
      `hold_constraint_${id}`,
      ks(id).map((k) => `+ hold_${id}_${k}`),
      '=',
      1,
    );
    row(`end_constraint_${id}`, end(id, '+'), '<=', L);
  }
  for (const id of ids) {
    const inflow = h.links.filter((l) => l.to === id).map((l) => `+ flow_${key(l)}`);
    const outflow = h.links.filter((l) => l.from === id).map((l) => `- flow_${key(l)}`);
    row(`node_flow_constraint_${id}`, [...inflow, ...outflow], '=', 0);
  }
  for (const id of ids) {
    const table = h.nodes[id].throughputByLayers;
    const supply = ks(id)
      .filter((k) => table[k] !== 0)
      .map((k) => `- ${table[k]} hold_${id}_${k}`);
    const inflow = h.links.filter((l) => l.to === id).map((l) => `+ flow_${key(l)}`);
    row(`node_throughput_constraint_${id}`, [...supply, ...inflow], '<=', 0);
  }
  for (const l of h.links) {
    const on = `${L} switch_${key(l)}`;
    if (l.from === 'source') row(`edge_disable_constr_source_${l.to}`, [`+ start_${l.to}`, `+ ${on}`], '<=', L);
    else if (l.to === 'sink') row(`edge_disable_constr_${l.from}_sink`, [...end(l.from, '-'), `+ ${on}`], '<=', 0);
    else {
      row(`edge_disable_constr1_${key(l)}`, [...end(l.from, '+'), `- start_${l.to}`, `+ ${on}`], '<=', L);
      row(`edge_disable_constr2_${key(l)}`, [...end(l.from, '-'), `+ start_${l.to}`, `+ ${on}`], '<=', L);
    }
  }
  for (const l of h.links) {
    row(`edge_flow_constr_${key(l)}`, [`+ flow_${key(l)}`, `- ${l.capacityTokPerS} switch_${key(l)}`], '<=', 0);
  }
  const objective = h.links.filter((l) => l.from === 'source').map((l) => `flow_source_${l.to}`);
  const binaries = [...ids.flatMap((id) => ks(id).map((k) => `hold_${id}_${k}`)), ...h.links.map((l) => key(l))];
  return [
    '\\ Model written by the test from a JSON instance',
    'Maximize',
    `  ${objective.join(' + ')}`,
    'Subject To',
    ...rows,
    'Bounds',
    'Binaries',
    ` ${binaries.map((b) => (b.startsWith('hold_') ? b : `switch_${b}`)).join(' ')}`,
    'Generals',
    ` ${ids.map((id) => `start_${id}`).join(' ')}`,
    'End',
    '',
  ].join('\n');
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe("import helix: Helix's ilp_model.lp", () => {
  it('recovers L, each table and maxLayers, every link with its capacity, and 5e8 as unlimited', () => {
    const problem = importHelixLp(fixture, 'fixture.lp');
    expect(withoutDescription(problem)).toEqual({
      kind: 'fleet-serving',
      layers: 4,
      nodes: [
        { name: 'node-0', throughputByLayers: { '1': 100, '2': 60 }, maxLayers: 2 },
        { name: 'node-1', throughputByLayers: { '1': 90.5, '2': 50 }, maxLayers: 2 },
        // hold_2_3 has no throughput coefficient (Gurobi leaves zeros out): it serves nothing.
        { name: 'node-2', throughputByLayers: { '1': 80, '2': 40, '3': 0, '4': 25 }, maxLayers: 4 },
      ],
      links: [
        { from: 'source', to: 'node-0' },
        { from: 'source', to: 'node-2' },
        { from: 'node-1', to: 'sink', tokensPerSecond: 7.1e6 },
        { from: 'node-2', to: 'sink' },
        { from: 'node-0', to: 'node-1', tokensPerSecond: 75.12019230769231 },
        { from: 'node-1', to: 'node-0', tokensPerSecond: 75.12019230769231 },
      ],
    });
  });

  it('the imported fixture solves to its hand-computed optimum (chain 0 → 1 at 50, node 2 alone at 25)', async () => {
    const r = await solve(importHelixLp(fixture), { backend: 'exact' });
    expect(r.termination).toBe('optimal');
    expect(r.bounds.primal).toBeCloseTo(75, 9);
    // The certificate: a bound never below the optimum, within the default relative gap 1e-6 of it.
    expect(r.bounds.dual).toBeGreaterThanOrEqual(75 - 1e-9);
    expect((r.bounds.dual - 75) / 75).toBeLessThanOrEqual(1e-6);
  });

  it('round trip: a JSON instance written as Helix’s LP imports to the same problem', () => {
    const raw = JSON.parse(readFileSync(here('../../../datasets/helix/helix-10-llama30b-quality.json'), 'utf8'));
    const text = helixLpText(raw as HelixInstance);
    expect(helixInstanceFromLp(text)).toEqual({ numLayers: raw.numLayers, nodes: raw.nodes, links: raw.links });
    expect(withoutDescription(importHelixLp(text))).toEqual(withoutDescription(importHelix(raw)));
  });

  it('round trip on a pruned fleet with ids that contain "_" and a node whose table skips a k', () => {
    const h: HelixInstance = {
      numLayers: 6,
      nodes: {
        a_1: { throughputByLayers: { '2': 40, '3': 30 }, maxLayers: 3 },
        '1_b': { throughputByLayers: { '1': 90, '3': 20 }, maxLayers: 3 },
        c: { throughputByLayers: { '6': 5 }, maxLayers: 6 },
      },
      links: [
        { from: 'source', to: 'a_1', capacityTokPerS: 5e8 },
        { from: 'source', to: 'c', capacityTokPerS: 12 },
        { from: 'a_1', to: '1_b', capacityTokPerS: 33 },
        { from: '1_b', to: 'sink', capacityTokPerS: 5e8 },
        { from: 'c', to: 'sink', capacityTokPerS: 7e6 },
      ],
    };
    expect(helixInstanceFromLp(helixLpText(h))).toEqual(h);
  });

  it('refuses a file that is not Helix’s model, naming the row and the rule', () => {
    expect(errorOf(() => importHelixLp('Maximize\n x\nSubject To\n c: x <= 1\nEnd\n')).message).toMatch(
      /hold_constraint_<node>/,
    );
    // A link whose alignment rows are missing would carry flow whatever the ranges: a different problem.
    const unaligned = fixture.replace(/ edge_disable_constr2_0_1:[^\n]*\n[^\n]*\n/, '');
    expect(errorOf(() => importHelixLp(unaligned)).message).toBe(
      'row edge_disable_constr2_0_1: missing: link 0 → 1 would not need the ranges to meet',
    );
    const twoL = fixture.replace('+ 2 hold_1_2 <= 4', '+ 2 hold_1_2 <= 5');
    expect(errorOf(() => importHelixLp(twoL)).message).toMatch(/^row end_constraint_1: L = 5 differs from L = 4/);
    const minimise = fixture.replace('Maximize', 'Minimize');
    expect(errorOf(() => importHelixLp(minimise)).message).toMatch(/^objective: /);
    const unknownEnd = fixture.replace('edge_flow_constr_0_1: flow_0_1', 'edge_flow_constr_0_9: flow_0_9');
    expect(errorOf(() => importHelixLp(unknownEnd)).message).toMatch(/^row edge_flow_constr_0_9: "0_9" names no link/);
  });

  it('tells LP from JSON by extension, else by content', () => {
    expect(isLpInput('ilp_model.lp', '{')).toBe(true);
    expect(isLpInput('x.json', 'Maximize')).toBe(false);
    expect(isLpInput('model', '\\ Model 2024\nMaximize')).toBe(true);
    expect(isLpInput('instance', '  {"numLayers": 2}')).toBe(false);
  });

  it('CLI: imports an .lp and an LP without extension; a bad one exits 2 with one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helix-lp-'));
    const lp = join(dir, 'ilp_model.lp');
    writeFileSync(lp, fixture);
    const out = await runCli(['import', 'helix', lp]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(importHelixLp(fixture, 'ilp_model.lp', lp));
    const bare = join(dir, 'model');
    writeFileSync(bare, fixture);
    expect((await runCli(['import', 'helix', bare])).code).toBe(0);
    const bad = join(dir, 'bad.lp');
    writeFileSync(bad, fixture.replace(/ end_constraint_0:[^\n]*\n/, ''));
    const err = await runCli(['import', 'helix', bad]);
    expect(err.code).toBe(2);
    expect(err.stderr.trim().split('\n')).toHaveLength(1);
    expect(err.stderr).toMatch(/row end_constraint_0: missing/);
  });
});

// Helix's repository (Thesys-lab/Helix-ASPLOS25), where a session fetched it; the bundled problems were extracted
// from these files, so importing them must give exactly the same problems.
const HELIX_REPO = '/work/.mirror/Thesys-lab+Helix-ASPLOS25/repo';
const helixFile = (path: string): string =>
  execFileSync('git', ['-C', HELIX_REPO, 'show', `HEAD:${path}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(here(path), 'utf8'));

describe.skipIf(!existsSync(HELIX_REPO))("import helix: Helix's artifact files", () => {
  it('the three bundled instances: their source .lp imports to the bundled problem', () => {
    for (const [source, name] of [
      ['ablation/layouts/quality', 'helix-10-llama30b-quality'],
      ['single_cluster/layout_llama70b/ilp', 'helix-24-llama70b-single-cluster'],
      ['ablation/layouts/raw_42', 'helix-42-llama70b-high-heterogeneity'],
    ]) {
      const problem = importHelixLp(helixFile(`artifact_evaluation/${source}/ilp_model.lp`));
      expect(withoutDescription(problem), name).toEqual(
        withoutDescription(json(`../../../problems/fleet-serving/${name}.json`)),
      );
    }
  });

  it('the held-out instances: each source .lp imports to a fleet of the size its name gives', () => {
    for (const [source, name] of [
      ['distributed_clusters/layout_llama70b/ilp', 'helix-24-llama70b-distributed'],
      ['ablation/layouts/no_prune_24', 'helix-24-llama70b-distributed-no-prune'],
      ['ablation/layouts/no_prune_42', 'helix-42-llama70b-no-prune'],
      ['distributed_clusters/layout_llama30b/ilp/a100', 'helix-4-llama30b-a100-distributed'],
      ['distributed_clusters/layout_llama30b/ilp/l4', 'helix-8-llama30b-l4-distributed'],
      ['distributed_clusters/layout_llama30b/ilp/t4', 'helix-12-llama30b-t4-distributed'],
    ]) {
      const path = `artifact_evaluation/${source}/ilp_model.lp`;
      const problem = parseFleet(importHelixLp(helixFile(path), 'ilp_model.lp', path));
      expect(problem.nodes.length, name).toBe(Number(/^helix-(\d+)-/.exec(name)?.[1]));
      expect(problem.layers, name).toBe(name.includes('llama70b') ? 80 : 60);
    }
  });
});
