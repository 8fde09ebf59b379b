/**
 * The vLLM and SGLang launch settings, written once for every exporter that targets them (pipeline.ts for
 * pipeline-placement plans, parallel.ts for TP × PP × DP layouts): the layer-partition variable, the launch command
 * and its flags, the Ray and multi-node settings, and the notes on what each system does with them. The exporters
 * decide the layout (stages, TP degree, replicas, hosts, GPUs); the spelling of each system's settings and what the
 * user is told about them live here, so that one release's change of a flag or variable is made in one place.
 * Versions targeted: docs/export.md.
 */

/** The serving systems whose launch settings this module writes. */
export type ServingSystem = 'vllm' | 'sglang';

/** How each system is named in headers and notes. */
export const SERVING_SYSTEM_NAME: Readonly<Record<ServingSystem, string>> = { vllm: 'vLLM', sglang: 'SGLang' };

/** The port each system's server listens on by default (with several replicas on one host, replica r takes + r). */
export const SERVE_PORT: Readonly<Record<ServingSystem, number>> = { vllm: 8000, sglang: 30000 };

/** The environment variable each system reads its per-stage layer counts from. */
const PARTITION_VARIABLE: Readonly<Record<ServingSystem, string>> = {
  vllm: 'VLLM_PP_LAYER_PARTITION',
  sglang: 'SGLANG_PP_LAYER_PARTITION',
};

/** `text` as one shell word (quoted only when it needs to be). */
export const shellQuote = (text: string): string =>
  /^[A-Za-z0-9_.,:/=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * The first line: the system, the model, the stage count (with the TP degree and the number of replicas when the
 * plan has them) and the layer counts, which sum to the model's layers.
 */
export function servingHeader(
  system: ServingSystem,
  model: string,
  partition: readonly number[],
  totalLayers: number,
  layout?: { readonly tensorParallel: number; readonly replicas: number },
): string {
  const shape =
    layout === undefined
      ? ''
      : ` × TP ${layout.tensorParallel}` + (layout.replicas > 1 ? ` × ${layout.replicas} replicas` : '');
  return (
    `# ${SERVING_SYSTEM_NAME[system]}: ${model}, ${partition.length} pipeline stage(s)${shape}, ` +
    `layers ${partition.join(' + ')} = ${totalLayers}`
  );
}

/** The line that sets the per-stage layer counts, in stage order. */
export function partitionExport(system: ServingSystem, partition: readonly number[]): string {
  return `export ${PARTITION_VARIABLE[system]}=${partition.join(',')}`;
}

/** The launch command with the pipeline and tensor-parallel sizes (the caller appends further flags). */
export function launchCommand(system: ServingSystem, model: string, stages: number, tensorParallel: number): string {
  const m = shellQuote(model);
  return system === 'vllm'
    ? `vllm serve ${m} --pipeline-parallel-size ${stages} --tensor-parallel-size ${tensorParallel}`
    : `python -m sglang.launch_server --model-path ${m} --pp-size ${stages} --tp-size ${tensorParallel}`;
}

/** The context and memory flags that fix what the plan assumed about the KV cache (kv-capacity plans). */
export function memoryFlags(
  system: ServingSystem,
  kv: { readonly contextTokens: number; readonly gpuMemoryUtilization: number; readonly blockTokens: number },
): string {
  return system === 'vllm'
    ? ` --max-model-len ${kv.contextTokens} --gpu-memory-utilization ${kv.gpuMemoryUtilization}` +
        (kv.blockTokens !== 16 ? ` --block-size ${kv.blockTokens}` : '')
    : ` --context-length ${kv.contextTokens} --mem-fraction-static ${kv.gpuMemoryUtilization}`;
}

/** vLLM across hosts: the flag that makes `vllm serve` use the Ray cluster. */
export const VLLM_RAY_FLAG = ' --distributed-executor-backend ray';

/**
 * The Ray cluster for a multi-host vLLM deployment, as comment lines: the head on the first node, every other node
 * joining it. `prefix` is what a node's command starts with (e.g. its CUDA_VISIBLE_DEVICES).
 */
export function rayClusterLines(
  nodes: readonly { readonly address: string; readonly prefix?: string }[],
  port: number,
): string[] {
  const head = nodes[0].address;
  return [
    `#   on ${head}: ${nodes[0].prefix ?? ''}ray start --head --port=${port}`,
    ...nodes.slice(1).map((n) => `#   on ${n.address}: ${n.prefix ?? ''}ray start --address=${head}:${port}`),
  ];
}

/** SGLang across hosts: node `rank` of `nodes`, all meeting at `initAddress` (host:port of the first node). */
export function sglangNodeFlags(nodes: number, rank: number, initAddress: string): string {
  return ` --nnodes ${nodes} --node-rank ${rank} --dist-init-addr ${initAddress}`;
}

/** What a plan optimised for training means on a serving system (`system`: its display name): its timings differ. */
export function trainingPlanNotes(training: boolean, system: string): string[] {
  return training
    ? [`the plan was optimised for training; ${system} serves inference, so its timings do not carry over`]
    : [];
}

/** vLLM's Ray rank order, which decides which node runs which stage. */
export const VLLM_RAY_ORDER_NOTE =
  'vLLM places pipeline rank 0 on the node that runs `vllm serve` and orders the other Ray nodes by IP ' +
  "address: start it on the first stage's host and give the other hosts ascending IPs in stage order";

/** Which SGLang releases read the partition variable. */
export const SGLANG_PARTITION_NOTE =
  'SGLANG_PP_LAYER_PARTITION is read by SGLang releases with pipeline parallelism (0.4.9 and later); older ' +
  'releases split layers evenly and cannot express this plan';

/** The model argument is edgeplan's catalog `name` or `id` (as the family calls it), not a served checkpoint. */
export function modelArgumentNote(word: 'name' | 'id'): string {
  return `--model is the catalog ${word}; replace it with the Hugging Face repository or local path you serve`;
}
