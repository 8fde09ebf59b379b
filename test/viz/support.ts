/** Shared by the picture tests: one small bundled example per kind and a quick decision for it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProblem, solve, type ParsedProblem } from '../../src/api.ts';
import { ROOT } from '../support/cli.ts';

/** The smallest bundled example of each kind (the one drawn in docs/pictures.md). */
export const EXAMPLES: Readonly<Record<string, string>> = {
  'pipeline-placement': 'problems/pipeline-placement/gpt2-medium-training-8-servers.json',
  'parallel-placement': 'problems/parallel-placement/metis-gpt3-1.5b-4a100-4t4.json',
  'fleet-serving': 'problems/fleet-serving/helix-10-llama30b-quality.json',
  'split-finetune': 'problems/split-finetune/gpt2-medium-3-clients.json',
  'kv-split-inference': 'problems/kv-split-inference/kv-bound.json',
  'moe-placement': 'problems/moe-placement/tight-packing.json',
  'speculative-threshold': 'problems/speculative-threshold/phone-1b-draft-llama-2-7b-5g.json',
  'model-caching': 'problems/model-caching/fine-tune-family.json',
  'split-moe': 'problems/split-moe/mixtral-3-classes-2-servers.json',
  'agent-placement': 'problems/agent-placement/assistant-3-modules.json',
  milp: 'problems/milp/knapsack.json',
};

export function loadExample(kind: string): ParsedProblem {
  return parseProblem(JSON.parse(readFileSync(join(ROOT, EXAMPLES[kind]), 'utf8')));
}

/**
 * A feasible decision found fast: the first peer (in the family's order) whose decision evaluate
 * accepts — peers take milliseconds, and running only until one fits keeps the slow ones out —
 * else a short solve. The pictures do not need an optimum, only a real decision of the family.
 */
export async function quickDecision(parsed: ParsedProblem): Promise<unknown> {
  const { formulation, problem } = parsed;
  for (const peer of formulation.baselines) {
    const decision = peer.run(problem);
    if (decision !== null && formulation.evaluate(problem, decision).feasible) return decision;
  }
  const report = await solve(parsed, { timeLimitSeconds: 10 });
  if (report.solution === null) throw new Error(`no decision for ${parsed.kind}`);
  return report.solution.decision;
}
