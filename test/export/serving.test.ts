/**
 * The vLLM/SGLang launch settings both exporters write through src/export/serving.ts: the shared pieces by their
 * exact text, and the exported files of bundled examples byte for byte against golden copies (test/export/golden/,
 * captured before pipeline.ts and parallel.ts shared the writer): pipeline-placement on several hosts and on one,
 * a training plan (its note; llama.cpp too), and parallel-placement with 4 data-parallel replicas across hosts and
 * with TP 4 on one host under kv-capacity flags.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportPlan, type ExportTarget } from '../../src/api.ts';
import {
  launchCommand,
  memoryFlags,
  partitionExport,
  rayClusterLines,
  servingHeader,
  sglangNodeFlags,
  trainingPlanNotes,
} from '../../src/export/serving.ts';

describe('serving.ts pieces', () => {
  it('writes the header, the partition variable and the launch commands', () => {
    expect(servingHeader('vllm', 'Llama-2-7B', [1, 27, 4], 32)).toBe(
      '# vLLM: Llama-2-7B, 3 pipeline stage(s), layers 1 + 27 + 4 = 32',
    );
    expect(servingHeader('sglang', 'm', [3, 3, 2], 8, { tensorParallel: 1, replicas: 4 })).toBe(
      '# SGLang: m, 3 pipeline stage(s) × TP 1 × 4 replicas, layers 3 + 3 + 2 = 8',
    );
    expect(servingHeader('vllm', 'm', [40, 40], 80, { tensorParallel: 4, replicas: 1 })).toBe(
      '# vLLM: m, 2 pipeline stage(s) × TP 4, layers 40 + 40 = 80',
    );
    expect(partitionExport('vllm', [1, 27, 4])).toBe('export VLLM_PP_LAYER_PARTITION=1,27,4');
    expect(partitionExport('sglang', [5, 3])).toBe('export SGLANG_PP_LAYER_PARTITION=5,3');
    expect(launchCommand('vllm', 'my model', 2, 4)).toBe(
      "vllm serve 'my model' --pipeline-parallel-size 2 --tensor-parallel-size 4",
    );
    expect(launchCommand('sglang', 'm', 3, 1)).toBe(
      'python -m sglang.launch_server --model-path m --pp-size 3 --tp-size 1',
    );
    expect(sglangNodeFlags(3, 1, 'a:5000')).toBe(' --nnodes 3 --node-rank 1 --dist-init-addr a:5000');
  });

  it('writes the memory flags (block size only when not 16), the Ray lines and the training note', () => {
    const kv = { contextTokens: 8192, gpuMemoryUtilization: 0.9, blockTokens: 16 };
    expect(memoryFlags('vllm', kv)).toBe(' --max-model-len 8192 --gpu-memory-utilization 0.9');
    expect(memoryFlags('vllm', { ...kv, blockTokens: 32 })).toBe(
      ' --max-model-len 8192 --gpu-memory-utilization 0.9 --block-size 32',
    );
    expect(memoryFlags('sglang', { ...kv, blockTokens: 32 })).toBe(' --context-length 8192 --mem-fraction-static 0.9');
    expect(rayClusterLines([{ address: 'a' }, { address: 'b', prefix: 'X=1 ' }], 6380)).toEqual([
      '#   on a: ray start --head --port=6380',
      '#   on b: X=1 ray start --address=a:6380',
    ]);
    expect(trainingPlanNotes(false, 'vLLM')).toEqual([]);
    expect(trainingPlanNotes(true, 'llama.cpp')).toEqual([
      'the plan was optimised for training; llama.cpp serves inference, so its timings do not carry over',
    ]);
  });
});

const PIPELINE_DECISIONS: Record<string, unknown> = {
  'edgeshard-llama-2-7b': {
    stages: [
      { server: 'orin-nx', firstLayer: 1, lastLayer: 1 },
      { server: 'rtx-3090', firstLayer: 2, lastLayer: 28 },
      { server: 'agx-orin', firstLayer: 29, lastLayer: 32 },
    ],
  },
  'gpt2-medium-training-8-servers': {
    stages: [
      { server: 'agx-orin-64-a', firstLayer: 1, lastLayer: 8 },
      { server: 'agx-orin-64-b', firstLayer: 9, lastLayer: 16 },
      { server: 'agx-orin-32-a', firstLayer: 17, lastLayer: 22 },
      { server: 'agx-orin-32-b', firstLayer: 23, lastLayer: 24 },
    ],
  },
};

const replicaGroups = (host: number) => [0, 1, 2, 3].map((k) => ({ servers: [`a100-host-${host}-${k}`], samples: 4 }));

const PARALLEL_DECISIONS: Record<string, unknown> = {
  'metis-gpt3-1.5b-4a100-4t4': {
    stages: [
      { firstLayer: 1, lastLayer: 3, groups: replicaGroups(2) },
      { firstLayer: 4, lastLayer: 6, groups: replicaGroups(1) },
      { firstLayer: 7, lastLayer: 8, groups: replicaGroups(0) },
    ],
  },
  'vllm-6920-llama-3-70b-fp8-8xl4': {
    stages: [
      { firstLayer: 1, lastLayer: 40, groups: [{ servers: ['l4-4', 'l4-5', 'l4-6', 'l4-7'] }] },
      { firstLayer: 41, lastLayer: 80, groups: [{ servers: ['l4-0', 'l4-1', 'l4-2', 'l4-3'] }] },
    ],
  },
};

const GOLDEN: readonly { example: string; target: ExportTarget; oneHost?: boolean }[] = [
  { example: 'edgeshard-llama-2-7b', target: 'vllm' },
  { example: 'edgeshard-llama-2-7b', target: 'sglang' },
  { example: 'edgeshard-llama-2-7b', target: 'vllm', oneHost: true },
  { example: 'edgeshard-llama-2-7b', target: 'sglang', oneHost: true },
  { example: 'gpt2-medium-training-8-servers', target: 'vllm' },
  { example: 'gpt2-medium-training-8-servers', target: 'sglang' },
  { example: 'gpt2-medium-training-8-servers', target: 'llama.cpp' },
  { example: 'metis-gpt3-1.5b-4a100-4t4', target: 'vllm' },
  { example: 'metis-gpt3-1.5b-4a100-4t4', target: 'sglang' },
  { example: 'vllm-6920-llama-3-70b-fp8-8xl4', target: 'vllm' },
  { example: 'vllm-6920-llama-3-70b-fp8-8xl4', target: 'sglang' },
];

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('exported files of bundled examples are byte-identical to the golden copies', () => {
  it.each(GOLDEN)('$example --to $target (one host: $oneHost)', ({ example, target, oneHost }) => {
    const pipeline = example in PIPELINE_DECISIONS;
    const family = pipeline ? 'pipeline-placement' : 'parallel-placement';
    const raw = JSON.parse(read(`../../problems/${family}/${example}.json`)) as { servers: { name: string }[] };
    const decision = pipeline ? PIPELINE_DECISIONS[example] : PARALLEL_DECISIONS[example];
    const hosts = oneHost ? new Map(raw.servers.map((s) => [s.name, 'box'])) : undefined;
    const result = exportPlan(raw, decision, target, hosts ? { hosts } : {});
    const name = `golden/${example}.${target}.${oneHost ? 'hosts' : 'default'}`;
    expect(result.text).toBe(read(`${name}.txt`));
    expect(result.notes.map((n) => `${n}\n`).join('')).toBe(read(`${name}.notes.txt`));
  });
});
