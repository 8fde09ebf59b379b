/**
 * Plans out (issue 18): a pipeline-placement plan as the configuration a person pastes into the system that runs it.
 *
 * The plan is an ordered list of stages, each one server holding the contiguous transformer layers
 * firstLayer..lastLayer (1-based; the embedding sits with the first stage and the output head with the last, as the
 * family's cost model assumes). Every exporter keeps the stage order and the exact layer counts, or refuses with
 * the reason (InputError, exit 2) — never a silent rounding. Versions targeted and what each cannot express:
 * docs/export.md.
 */
import { InputError } from '../errors.ts';
import {
  launchCommand,
  modelArgumentNote,
  partitionExport,
  rayClusterLines,
  servingHeader,
  sglangNodeFlags,
  shellQuote,
  SGLANG_PARTITION_NOTE,
  trainingPlanNotes,
  VLLM_RAY_FLAG,
  VLLM_RAY_ORDER_NOTE,
} from './serving.ts';

export const EXPORT_TARGETS = ['vllm', 'sglang', 'llama.cpp', 'deepspeed', 'megatron', 'json'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

export interface PlanStage {
  readonly server: string;
  /** The server's device (catalog name or id), for the reader. */
  readonly device: string;
  /** Where the stage runs: the --hosts mapping, else the server's name. */
  readonly host: string;
  readonly firstLayer: number;
  readonly lastLayer: number;
  readonly layers: number;
}

/** A plan checked for export: stages in pipeline order covering layers 1..totalLayers once each. */
export interface PipelinePlan {
  readonly model: string;
  readonly totalLayers: number;
  readonly mode: 'training' | 'inference-latency' | 'inference-throughput';
  readonly stages: readonly PlanStage[];
  /** Tensor-parallel size of every stage (parallel-placement plans with one TP degree); default 1. */
  readonly tensorParallel?: number;
}

export interface ExportResult {
  readonly target: ExportTarget;
  /** What to paste: shell lines, a Python snippet or JSON. */
  readonly text: string;
  /** What the target cannot express or what the user must do by hand. */
  readonly notes: readonly string[];
  /** Layers per stage in plan order, as exported (tests check they sum to L and follow the plan). */
  readonly partition: readonly number[];
}

/** Raw stage decisions + the servers' devices → a checked plan. Repeated servers and gaps are refused. */
export function pipelinePlan(
  model: string,
  totalLayers: number,
  mode: PipelinePlan['mode'],
  stages: readonly { server: string; firstLayer: number; lastLayer: number }[],
  devices: ReadonlyMap<string, string>,
  hosts: ReadonlyMap<string, string> = new Map(),
): PipelinePlan {
  for (const mapped of hosts.keys()) {
    if (!devices.has(mapped)) throw new InputError('--hosts', `server "${mapped}" is not in the problem`);
  }
  const seen = new Map<string, number>();
  let next = 1;
  const out = stages.map((s, k): PlanStage => {
    const at = `$.solution.decision.stages[${k}]`;
    const first = seen.get(s.server);
    if (first !== undefined) {
      throw new InputError(
        `${at}.server`,
        `server ${s.server} holds stages ${first + 1} and ${k + 1}: a serving system runs one pipeline rank per ` +
          'device, so a plan that revisits a server cannot be exported',
      );
    }
    seen.set(s.server, k);
    if (s.firstLayer !== next) {
      throw new InputError(`${at}.firstLayer`, `stage ${k + 1} starts at layer ${s.firstLayer}, expected ${next}`);
    }
    if (s.lastLayer < s.firstLayer) {
      throw new InputError(`${at}.lastLayer`, `stage ${k + 1} ends at layer ${s.lastLayer} before it starts`);
    }
    next = s.lastLayer + 1;
    return {
      server: s.server,
      device: devices.get(s.server) ?? 'unknown',
      host: hosts.get(s.server) ?? s.server,
      firstLayer: s.firstLayer,
      lastLayer: s.lastLayer,
      layers: s.lastLayer - s.firstLayer + 1,
    };
  });
  if (next !== totalLayers + 1) {
    throw new InputError('$.solution.decision.stages', `the stages cover layers 1..${next - 1}, not 1..${totalLayers}`);
  }
  return { model, totalLayers, mode, stages: out };
}

function stageTable(plan: PipelinePlan): string[] {
  return plan.stages.map(
    (s, k) =>
      `#   stage ${k + 1}: ${s.server} (${s.device}) on ${s.host}: layers ${s.firstLayer}-${s.lastLayer} (${s.layers})`,
  );
}

/** vLLM (V0/V1 engines, 0.6–0.10): VLLM_PP_LAYER_PARTITION, --pipeline-parallel-size, Ray hosts. */
function vllm(plan: PlanStageExport): ExportResult {
  const { p, partition } = plan;
  const n = p.stages.length;
  const multiNode = new Set(p.stages.map((s) => s.host)).size > 1;
  const lines = [
    servingHeader('vllm', p.model, partition, p.totalLayers),
    ...stageTable(p),
    partitionExport('vllm', partition),
  ];
  const notes = trainingPlanNotes(p.mode === 'training', 'vLLM');
  if (!multiNode) {
    lines.push(`export CUDA_VISIBLE_DEVICES=${p.stages.map((_, k) => k).join(',')}   # GPU k runs stage k+1`);
    notes.push(
      'one host: CUDA_VISIBLE_DEVICES lists GPU indices in stage order; renumber them to the GPUs that match ' +
        "each stage's device",
    );
  } else {
    lines.push(
      `# Ray cluster, one node per stage, in this order: ${p.stages.map((s) => s.host).join(' ')}`,
      ...rayClusterLines(
        p.stages.map((s) => ({ address: s.host })),
        6379,
      ),
    );
    notes.push(`${VLLM_RAY_ORDER_NOTE}, or the partition lands on other devices`);
  }
  lines.push(launchCommand('vllm', p.model, n, 1) + (multiNode ? VLLM_RAY_FLAG : ''));
  notes.push(modelArgumentNote('name'));
  return { target: 'vllm', text: `${lines.join('\n')}\n`, notes, partition };
}

/** SGLang (0.4.9+, pipeline parallelism): SGLANG_PP_LAYER_PARTITION, --pp-size, --nnodes/--node-rank. */
function sglang(plan: PlanStageExport): ExportResult {
  const { p, partition } = plan;
  const n = p.stages.length;
  const hosts = [...new Set(p.stages.map((s) => s.host))];
  const lines = [
    servingHeader('sglang', p.model, partition, p.totalLayers),
    ...stageTable(p),
    partitionExport('sglang', partition),
  ];
  if (hosts.length === 1) {
    lines.push(launchCommand('sglang', p.model, n, 1));
  } else {
    if (hosts.length !== n) {
      throw new InputError('--hosts', 'SGLang multi-node needs one host per stage or a single host');
    }
    p.stages.forEach((s, k) =>
      lines.push(
        `# on ${s.host}:`,
        launchCommand('sglang', p.model, n, 1) + sglangNodeFlags(n, k, `${p.stages[0].host}:5000`),
      ),
    );
  }
  const notes = [...trainingPlanNotes(p.mode === 'training', 'SGLang'), SGLANG_PARTITION_NOTE];
  return { target: 'sglang', text: `${lines.join('\n')}\n`, notes, partition };
}

/**
 * llama.cpp (2025 builds with --device and RPC): layer split mode assigns layer i to the first device whose cumulative
 * tensor-split share exceeds i / (L + 1) when -ngl is L + 1 (the output layer counts as one more); splitting by the
 * layer counts with the last stage's count plus one for the output layer reproduces the plan exactly.
 */
function llamaCpp(plan: PlanStageExport): ExportResult {
  const { p, partition } = plan;
  const split = partition.map((count, k) => (k === partition.length - 1 ? count + 1 : count));
  const local = p.stages[0];
  // Stages on the first stage's host are its local GPUs; every other stage is one rpc-server (one per GPU, so
  // several stages on one remote host get consecutive ports). The k-th stage on a host uses that host's GPU k.
  const onHost = new Map<string, number>();
  const slot = p.stages.map((s) => {
    const k = onHost.get(s.host) ?? 0;
    onHost.set(s.host, k + 1);
    return k;
  });
  const remote = p.stages.map((s, k) => ({ s, k })).filter(({ s }) => s.host !== local.host);
  const rpc = remote.map(({ s, k }) => `${s.host}:${50052 + slot[k]}`);
  const devices = p.stages.map((s, k) =>
    s.host === local.host ? `CUDA${slot[k]}` : `RPC[${s.host}:${50052 + slot[k]}]`,
  );
  const lines = [
    `# llama.cpp: ${p.model}, ${p.stages.length} device(s) in stage order, ` +
      `layers ${partition.join(' + ')} = ${p.totalLayers}`,
    ...stageTable(p),
    ...remote.map(
      ({ s, k }) =>
        `#   on ${s.host}: ${(onHost.get(s.host) ?? 1) > 1 ? `CUDA_VISIBLE_DEVICES=${slot[k]} ` : ''}` +
        `rpc-server --host 0.0.0.0 --port ${50052 + slot[k]}`,
    ),
    `# on ${local.host}:`,
    `llama-server -m model.gguf -ngl ${p.totalLayers + 1} --split-mode layer` +
      (rpc.length > 0 ? ` --rpc ${rpc.join(',')}` : '') +
      ` --device ${shellQuote(devices.join(','))} --tensor-split ${split.join(',')}`,
  ];
  const notes = [
    ...trainingPlanNotes(p.mode === 'training', 'llama.cpp'),
    `--tensor-split gives the last device one more share: -ngl ${p.totalLayers + 1} also offloads the output layer, ` +
      'which the plan keeps with the last stage',
    'the stages on the host that starts llama-server are its local GPUs (CUDA0, CUDA1…: use the names llama-server ' +
      '--list-devices prints, e.g. Metal or Vulkan0); every other stage is an rpc-server, in --device order',
  ];
  return { target: 'llama.cpp', text: `${lines.join('\n')}\n`, notes, partition };
}

/** Hosts in order of first use with the number of stages each runs (DeepSpeed hostfile slots). */
function hostSlots(p: PipelinePlan): [string, number][] {
  const slots = new Map<string, number>();
  for (const s of p.stages) slots.set(s.host, (slots.get(s.host) ?? 0) + 1);
  return [...slots];
}

/**
 * DeepSpeed PipelineModule (0.9–0.16): `parts` are boundaries over the layer-spec list [embedding, block 1..L, head];
 * the first stage also holds the embedding and the last the head.
 */
function deepspeed(plan: PlanStageExport): ExportResult {
  const { p, partition } = plan;
  const parts = [0];
  partition.forEach((count, k) => parts.push(parts[k] + count + (k === 0 ? 1 : 0)));
  parts[parts.length - 1] += 1; // the head spec goes with the last stage
  const lines = [
    `# DeepSpeed PipelineModule: ${p.model}, ${p.stages.length} stage(s), layers ${partition.join(' + ')}`,
    ...stageTable(p),
    '# layer specs: [embedding, block 1 .. block L, head]; stage k holds specs parts[k] .. parts[k+1]-1',
    `PARTS = [${parts.join(', ')}]`,
    '',
    'from deepspeed.pipe import PipelineModule',
    '',
    'class PlannedPipeline(PipelineModule):',
    '    def _partition_layers(self, method=None):',
    '        super()._partition_layers(method="uniform")',
    '        self.parts = PARTS',
    '        self._set_bounds(start=self.parts[self.stage_id], stop=self.parts[self.stage_id + 1])',
    '',
    `# model = PlannedPipeline(layers=specs, num_stages=${p.stages.length}, ...)`,
    `# launch with the hostfile below (one slot per stage, hosts in stage order):`,
    ...hostSlots(p).map(([host, slots]) => `#   ${host} slots=${slots}`),
  ];
  const notes = [
    "DeepSpeed has no public argument for explicit stage boundaries: the snippet overrides PipelineModule's " +
      '_partition_layers (a private method in deepspeed/runtime/pipe/module.py) to set them',
    'DeepSpeed assigns stages to ranks in rank order: list the hosts in the hostfile in stage order',
  ];
  return { target: 'deepspeed', text: `${lines.join('\n')}\n`, notes, partition };
}

/**
 * Megatron-LM (core 0.8+): --decoder-first/last-pipeline-num-layers when the middle stages are equal; otherwise the
 * layout string of --pipeline-model-parallel-layout (core 0.13+), which names every stage's layers.
 */
function megatron(plan: PlanStageExport): ExportResult {
  const { p, partition } = plan;
  const n = partition.length;
  const layout = partition
    .map((count, k) => `${k === 0 ? 'E' : ''}${'t'.repeat(count)}${k === n - 1 ? 'L' : ''}`)
    .join('|');
  const lines = [
    `# Megatron-LM: ${p.model}, ${n} stage(s), layers ${partition.join(' + ')} = ${p.totalLayers}`,
    ...stageTable(p),
  ];
  const notes: string[] = [];
  const middle = partition.slice(1, -1);
  const evenMiddle = middle.every((c) => c === middle[0]);
  const common =
    `--num-layers ${p.totalLayers} --pipeline-model-parallel-size ${n} ` +
    `--tensor-model-parallel-size ${p.tensorParallel ?? 1}`;
  if (n === 1) {
    lines.push(`${common}`);
  } else if (evenMiddle) {
    lines.push(
      `${common} --decoder-first-pipeline-num-layers ${partition[0]} ` +
        `--decoder-last-pipeline-num-layers ${partition[n - 1]}`,
    );
    lines.push(`# or, Megatron-Core 0.13+: --pipeline-model-parallel-layout "${layout}"`);
  } else {
    lines.push(`${common} --pipeline-model-parallel-layout "${layout}"`);
    notes.push(
      `the middle stages hold ${middle.join(', ')} layers: --decoder-first/last-pipeline-num-layers split the middle ` +
        'evenly and cannot express this plan, so the layout flag (Megatron-Core 0.13+) is used',
    );
  }
  notes.push('ranks run stages in rank order: list the hosts in stage order in your launcher (torchrun --node-rank)');
  return { target: 'megatron', text: `${lines.join('\n')}\n`, notes, partition };
}

function json(plan: PlanStageExport): ExportResult {
  const { p, partition } = plan;
  const document = { model: p.model, totalLayers: p.totalLayers, mode: p.mode, partition, stages: p.stages };
  const text = `${JSON.stringify(document, null, 2)}\n`;
  return { target: 'json', text, notes: [], partition };
}

interface PlanStageExport {
  readonly p: PipelinePlan;
  readonly partition: readonly number[];
}

/** The plan as configuration for `target`. */
export function exportPipelinePlan(plan: PipelinePlan, target: ExportTarget): ExportResult {
  const input = { p: plan, partition: plan.stages.map((s) => s.layers) };
  switch (target) {
    case 'vllm':
      return vllm(input);
    case 'sglang':
      return sglang(input);
    case 'llama.cpp':
      return llamaCpp(input);
    case 'deepspeed':
      return deepspeed(input);
    case 'megatron':
      return megatron(input);
    case 'json':
      return json(input);
  }
}
