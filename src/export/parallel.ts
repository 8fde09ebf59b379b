/**
 * Plans out for parallel-placement (issue 18 item 6 with issue 17's TP × PP layouts): each stage is a tensor-parallel
 * group (× data-parallel groups in training) of servers on one host, holding contiguous layers. The layout comes from
 * the family's own evaluate breakdown (the same `serving` and per-stage TP/DP figures its explanation and picture
 * print), so the exporter reads the plan exactly as it was checked.
 *
 * What serving systems need and what is refused (docs/export.md): vLLM and SGLang run one --tensor-parallel-size for
 * every stage, so a plan whose stages have different TP degrees is refused; a DP degree > 1 (training plans) becomes
 * one serve command per replica (replica r = group r of every stage), and stages with different DP degrees are
 * refused. A plan with TP = DP = 1 everywhere is a pipeline-placement plan and goes through that exporter for every
 * target; otherwise llama.cpp and DeepSpeed are refused (no per-stage TP), Megatron-LM needs one TP and one DP degree
 * and an even micro-batch split.
 */
import { InputError } from '../errors.ts';
import type { ParallelBreakdown, StageReport } from '../formulations/parallel-placement/evaluate.ts';
import type { ParallelProblem } from '../formulations/parallel-placement/schema.ts';
import {
  exportPipelinePlan,
  pipelinePlan,
  type ExportResult,
  type ExportTarget,
  type PipelinePlan,
} from './pipeline.ts';
import {
  launchCommand,
  memoryFlags,
  SERVE_PORT,
  modelArgumentNote,
  partitionExport,
  rayClusterLines,
  servingHeader,
  sglangNodeFlags,
  SGLANG_PARTITION_NOTE,
  trainingPlanNotes,
  VLLM_RAY_FLAG,
  VLLM_RAY_ORDER_NOTE,
  type ServingSystem,
} from './serving.ts';

const STAGES_PATH = '$.solution.decision.stages';

/** One pipeline of the plan: stage k's group r for every k, with where each group's GPUs are. */
interface Replica {
  readonly groups: readonly { readonly servers: readonly string[]; readonly host: string; readonly device: string }[];
}

interface Layout {
  readonly p: ParallelProblem;
  readonly b: ParallelBreakdown;
  readonly partition: readonly number[];
  readonly tensorParallel: readonly number[];
  readonly dataParallel: readonly number[];
  /** Machine (the problem's `host`) → address: --hosts, else the machine's name. */
  readonly address: (host: string) => string;
  /** A server's GPU index on its machine: its position among that machine's servers in the problem. */
  readonly gpuIndex: (server: string) => number;
}

function layoutOf(p: ParallelProblem, b: ParallelBreakdown, hosts: ReadonlyMap<string, string>): Layout {
  const machines = new Set(p.servers.map((s) => s.host));
  for (const mapped of hosts.keys()) {
    if (!machines.has(mapped)) {
      throw new InputError(
        '--hosts',
        `"${mapped}" is not a host of the problem (parallel-placement maps hosts, not servers: ` +
          `${[...machines].join(', ')})`,
      );
    }
  }
  const index = new Map<string, number>();
  const perMachine = new Map<string, number>();
  for (const s of p.servers) {
    const k = perMachine.get(s.host) ?? 0;
    index.set(s.name, k);
    perMachine.set(s.host, k + 1);
  }
  return {
    p,
    b,
    partition: b.stages.map((s) => s.lastLayer - s.firstLayer + 1),
    tensorParallel: b.serving.tensorParallelPerStage,
    dataParallel: b.stages.map((s) => s.dataParallel),
    address: (host) => hosts.get(host) ?? host,
    gpuIndex: (server) => index.get(server) ?? 0,
  };
}

/** The one TP degree every stage uses, or a refusal naming the first stage that differs. */
function uniformTensorParallel(l: Layout, system: string): number {
  const t = l.tensorParallel[0];
  const k = l.tensorParallel.findIndex((x) => x !== t);
  if (k >= 0) {
    throw new InputError(
      `${STAGES_PATH}[${k}].groups`,
      `stage ${k + 1} uses TP ${l.tensorParallel[k]} and stage 1 TP ${t} ` +
        `(TP per stage ${l.tensorParallel.join(',')}): ` +
        `${system} runs one tensor-parallel size for every stage, so this plan cannot be exported (use --to json)`,
    );
  }
  return t;
}

/** Replicas (one per DP index), when every stage has the same DP degree; else a refusal. */
function replicasOf(l: Layout, system: string): Replica[] {
  const d = l.dataParallel[0];
  const k = l.dataParallel.findIndex((x) => x !== d);
  if (k >= 0) {
    throw new InputError(
      `${STAGES_PATH}[${k}].groups`,
      `stage ${k + 1} has ${l.dataParallel[k]} data-parallel group(s) and stage 1 ${d} (DP per stage ` +
        `${l.dataParallel.join(',')}): ${system} replicates whole pipelines, so this plan cannot be exported`,
    );
  }
  return Array.from({ length: d }, (_, r) => ({
    groups: l.b.stages.map((s: StageReport) => s.groups[r]),
  }));
}

/**
 * The machines of one replica in stage order. vLLM/SGLang number the ranks of one node consecutively, so a machine
 * whose stages are not consecutive (a → b → a) cannot be expressed.
 */
function machineOrder(replica: Replica, replicaIndex: number): string[] {
  const order: string[] = [];
  replica.groups.forEach((g, k) => {
    if (order.at(-1) === g.host) return;
    if (order.includes(g.host)) {
      throw new InputError(
        `${STAGES_PATH}[${k}].groups[${replicaIndex}]`,
        `host ${g.host} holds stage ${k + 1} and an earlier stage with another host in between: serving systems ` +
          'give the GPUs of one node consecutive pipeline ranks, so this plan cannot be exported',
      );
    }
    order.push(g.host);
  });
  return order;
}

/** CUDA_VISIBLE_DEVICES for one host of a replica: its GPUs in stage order (TP ranks of a stage together). */
function gpuList(l: Layout, replica: Replica, host: string): string {
  return replica.groups
    .filter((g) => g.host === host)
    .flatMap((g) => g.servers.map((s) => l.gpuIndex(s)))
    .join(',');
}

function stageTable(l: Layout): string[] {
  return l.b.stages.map(
    (s) =>
      `#   stage ${s.stage}: layers ${s.firstLayer}-${s.lastLayer} (${s.lastLayer - s.firstLayer + 1}), ` +
      `TP ${s.tensorParallel} × DP ${s.dataParallel}: ` +
      s.groups.map((g) => `[${g.servers.join(' ')}] (${g.device}) on ${g.host}`).join(', '),
  );
}

/** Serving flags that follow from the problem: kv-capacity mode sets the context and the memory share. */
function servingFlags(l: Layout, system: ServingSystem): string {
  const m = l.p.mode;
  if (m.kind !== 'kv-capacity') return '';
  return memoryFlags(system, {
    contextTokens: m.contextTokens,
    gpuMemoryUtilization: l.p.gpuMemoryUtilization,
    blockTokens: m.blockTokens,
  });
}

/** The header line and the partition variable of a TP × PP (× DP) plan. */
function planLines(l: Layout, system: ServingSystem, tensorParallel: number, replicas: number): string[] {
  return [
    servingHeader(system, l.p.model.id, l.partition, l.p.model.layers, { tensorParallel, replicas }),
    ...stageTable(l),
    partitionExport(system, l.partition),
  ];
}

/** One replica's launch on several hosts, for the system's own multi-host layout. */
interface MultiHostLaunch {
  readonly r: number;
  /** The replica's machines in stage order. */
  readonly machines: readonly string[];
  /** The launch command with its flags (and, with several replicas, a port of its own). */
  readonly command: string;
  /** CUDA_VISIBLE_DEVICES of one machine for this replica. */
  readonly gpus: (host: string) => string;
}

/**
 * Every replica's launch, in order: a replica on one host is one line (its GPUs, the command, where it runs);
 * a replica on several hosts goes to `multiHost`, which writes the system's own cluster settings.
 */
function launchReplicas(
  l: Layout,
  system: ServingSystem,
  tensorParallel: number,
  replicas: readonly Replica[],
  lines: string[],
  multiHost: (launch: MultiHostLaunch) => void,
): void {
  replicas.forEach((replica, r) => {
    const machines = machineOrder(replica, r);
    const command =
      launchCommand(system, l.p.model.id, l.partition.length, tensorParallel) +
      servingFlags(l, system) +
      (replicas.length > 1 ? ` --port ${SERVE_PORT[system] + r}` : '');
    if (replicas.length > 1) lines.push(`# replica ${r + 1} of ${replicas.length}:`);
    const gpus = (host: string): string => gpuList(l, replica, host);
    if (machines.length === 1)
      lines.push(`CUDA_VISIBLE_DEVICES=${gpus(machines[0])} ${command}   # on ${l.address(machines[0])}`);
    else multiHost({ r, machines, command, gpus });
  });
}

/** vLLM 0.6–0.10: VLLM_PP_LAYER_PARTITION, --pipeline-parallel-size, --tensor-parallel-size; Ray across hosts. */
function vllm(l: Layout): ExportResult {
  const t = uniformTensorParallel(l, 'vLLM');
  const replicas = replicasOf(l, 'vLLM');
  const lines = planLines(l, 'vllm', t, replicas.length);
  const notes = trainingPlanNotes(l.p.mode.kind === 'training', 'vLLM');
  let multiNode = false;
  launchReplicas(l, 'vllm', t, replicas, lines, ({ r, machines, command, gpus }) => {
    multiNode = true;
    const head = l.address(machines[0]);
    const port = 6379 + r;
    lines.push(
      `# Ray cluster, nodes in stage order: ${machines.map(l.address).join(' ')}`,
      ...rayClusterLines(
        machines.map((m) => ({ address: l.address(m), prefix: `CUDA_VISIBLE_DEVICES=${gpus(m)} ` })),
        port,
      ),
      `${command}${VLLM_RAY_FLAG}   # on ${head}`,
    );
  });
  notes.push(
    "CUDA_VISIBLE_DEVICES lists each host's GPUs in stage order (TP ranks of a stage together); a GPU's index is " +
      "its position among that host's servers in the problem: renumber them to the physical GPUs",
  );
  if (multiNode) notes.push(VLLM_RAY_ORDER_NOTE);
  if (replicas.length > 1) {
    notes.push(
      `the plan has ${replicas.length} data-parallel replicas: one vllm serve per replica ` +
        `(ports ${SERVE_PORT.vllm}…); put a load balancer in front, which splits requests evenly, not by the ` +
        "plan's per-group samples",
    );
  }
  notes.push(modelArgumentNote('id'));
  return { target: 'vllm', text: `${lines.join('\n')}\n`, notes, partition: l.partition };
}

/** SGLang 0.4.9+: SGLANG_PP_LAYER_PARTITION, --pp-size, --tp-size; several hosts: one host per stage. */
function sglang(l: Layout): ExportResult {
  const t = uniformTensorParallel(l, 'SGLang');
  const replicas = replicasOf(l, 'SGLang');
  const n = l.partition.length;
  const lines = planLines(l, 'sglang', t, replicas.length);
  launchReplicas(l, 'sglang', t, replicas, lines, ({ r, machines, command, gpus }) => {
    // SGLang gives every node the same number of GPUs (tp × pp / nnodes): one stage per node keeps that true.
    if (machines.length !== n) {
      throw new InputError(
        `${STAGES_PATH}`,
        `replica ${r + 1} runs ${n} stages on ${machines.length} hosts: SGLang multi-node needs one host per stage ` +
          '(each node the same number of GPUs) or a single host, so this plan cannot be exported',
      );
    }
    machines.forEach((m, k) =>
      lines.push(
        `# on ${l.address(m)}:`,
        `CUDA_VISIBLE_DEVICES=${gpus(m)} ${command}` + sglangNodeFlags(n, k, `${l.address(machines[0])}:${5000 + r}`),
      ),
    );
  });
  const notes = [
    ...trainingPlanNotes(l.p.mode.kind === 'training', 'SGLang'),
    SGLANG_PARTITION_NOTE,
    "CUDA_VISIBLE_DEVICES: a GPU's index is its position among that host's servers in the problem; renumber it",
  ];
  if (replicas.length > 1) {
    notes.push(`the plan has ${replicas.length} data-parallel replicas: one launch_server per replica`);
  }
  return { target: 'sglang', text: `${lines.join('\n')}\n`, notes, partition: l.partition };
}

function json(l: Layout): ExportResult {
  const document = {
    model: l.p.model.id,
    totalLayers: l.p.model.layers,
    mode: l.p.mode.kind,
    partition: l.partition,
    tensorParallel: l.tensorParallel,
    dataParallel: l.dataParallel,
    uniformTensorParallel: l.b.serving.uniformTensorParallel,
    stages: l.b.stages.map((s) => ({
      firstLayer: s.firstLayer,
      lastLayer: s.lastLayer,
      layers: s.lastLayer - s.firstLayer + 1,
      tensorParallel: s.tensorParallel,
      dataParallel: s.dataParallel,
      groups: s.groups.map((g) => ({
        servers: g.servers,
        gpuIndices: g.servers.map((x) => l.gpuIndex(x)),
        device: g.device,
        host: g.host,
        address: l.address(g.host),
        samples: g.samples,
      })),
    })),
  };
  return { target: 'json', text: `${JSON.stringify(document, null, 2)}\n`, notes: [], partition: l.partition };
}

/** A TP = DP = 1 plan as a pipeline-placement plan (one server per stage), for the pipeline exporters. */
function asPipeline(l: Layout): PipelinePlan {
  const stages = l.b.stages.map((s) => ({
    server: s.groups[0].servers[0],
    firstLayer: s.firstLayer,
    lastLayer: s.lastLayer,
  }));
  const devices = new Map(l.b.stages.map((s) => [s.groups[0].servers[0], s.groups[0].device]));
  const hosts = new Map(l.b.stages.map((s) => [s.groups[0].servers[0], l.address(s.groups[0].host)]));
  const mode = l.p.mode.kind === 'kv-capacity' ? 'inference-throughput' : l.p.mode.kind;
  return pipelinePlan(l.p.model.id, l.p.model.layers, mode, stages, devices, hosts);
}

/** Megatron-LM (core 0.8+): one TP and one DP degree, the micro-batch split evenly over the DP groups. */
function megatron(l: Layout): ExportResult {
  const t = uniformTensorParallel(l, 'Megatron-LM');
  const replicas = replicasOf(l, 'Megatron-LM');
  l.b.stages.forEach((s, k) => {
    const samples = s.groups.map((g) => g.samples);
    if (samples.some((x) => x !== samples[0])) {
      throw new InputError(
        `${STAGES_PATH}[${k}].groups`,
        `stage ${k + 1} splits each micro-batch ${samples.join(':')} over its data-parallel groups: Megatron-LM ` +
          'splits it evenly, so this plan cannot be exported',
      );
    }
  });
  const pipeline = asPipeline(l);
  const result = exportPipelinePlan({ ...pipeline, tensorParallel: t }, 'megatron');
  const d = replicas.length;
  const world = t * l.partition.length * d;
  const rankOrder = l.b.stages.flatMap((s) => s.groups.flatMap((g) => g.servers));
  const lines = [
    result.text.trimEnd(),
    `# data-parallel size ${d} follows from the world size ${world} = TP ${t} × PP ${l.partition.length} × DP ${d}`,
    `# global ranks 0..${world - 1} (TP fastest, then DP, then PP; Megatron's default order tp-dp-pp):`,
    `#   ${rankOrder.join(' ')}`,
  ];
  return {
    ...result,
    text: `${lines.join('\n')}\n`,
    notes: [...result.notes, 'launch the global ranks on the servers in the order listed above'],
  };
}

/** The checked parallel-placement plan as configuration for `target`. */
export function exportParallelPlan(
  p: ParallelProblem,
  b: ParallelBreakdown,
  target: ExportTarget,
  hosts: ReadonlyMap<string, string> = new Map(),
): ExportResult & { readonly tensorParallel: readonly number[]; readonly dataParallel: readonly number[] } {
  const l = layoutOf(p, b, hosts);
  const extra = { tensorParallel: l.tensorParallel, dataParallel: l.dataParallel };
  const simple = l.tensorParallel.every((x) => x === 1) && l.dataParallel.every((x) => x === 1);
  switch (target) {
    case 'vllm':
      return { ...vllm(l), ...extra };
    case 'sglang':
      return { ...sglang(l), ...extra };
    case 'json':
      return { ...json(l), ...extra };
    case 'megatron':
      return { ...megatron(l), ...extra };
    case 'llama.cpp':
    case 'deepspeed':
      if (simple) return { ...exportPipelinePlan(asPipeline(l), target), ...extra };
      throw new InputError(
        STAGES_PATH,
        target === 'llama.cpp'
          ? `the plan uses TP ${l.tensorParallel.join(',')} × DP ${l.dataParallel.join(',')} per stage: llama.cpp ` +
              'has no tensor parallelism inside a pipeline stage (--split-mode row splits every layer over all ' +
              'devices of one process), so only a TP = DP = 1 plan can be exported to it (use --to vllm or json)'
          : `the plan uses TP ${l.tensorParallel.join(',')} × DP ${l.dataParallel.join(',')} per stage: DeepSpeed's ` +
              'PipelineModule has no tensor parallelism (that is Megatron-DeepSpeed), so only a TP = DP = 1 plan ' +
              'can be exported to it (use --to megatron or json)',
      );
  }
}
