/**
 * `edgeplan memory MODEL [--device D] [--runtime R] [--weight-dtype T] [--kv-dtype T] [--batch B]
 * [--prompt-tokens I] [--output-tokens O] [--mode inference|training] [--trained full|lora]
 * [--accounting A] [--recomputation R] [--json]` — the memory breakdown of a model under a runtime
 * (weights, KV, workspace, logits, runtime overhead; gradients, optimizer state and activations
 * in training), the total, and whether and up to which batch it fits the device. docs/memory.md.
 */
import type { Command } from 'commander';
import {
  DTYPES,
  estimateMemory,
  generationSeconds,
  loadCatalog,
  resolveRuntime,
  UsageError,
  type DType,
  type MemoryEstimate,
  type ModelSpec,
  type RuntimeSpec,
} from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { table } from '../format.ts';
import { positiveInteger } from '../options.ts';
import { formatBytes, formatSeconds, resolveDeviceArg, resolveModelArg } from './profile.ts';

const ACCOUNTINGS = ['mixed-16', 'seed-12', 'fp32-adam'] as const;
const RECOMPUTATIONS = ['none', 'selective', 'full'] as const;

interface MemoryFlags {
  device?: string;
  runtime: string;
  weightDtype?: DType;
  kvDtype?: DType;
  batch: number;
  promptTokens: number;
  outputTokens: number;
  mode: 'inference' | 'training';
  trained: 'full' | 'lora';
  accounting: (typeof ACCOUNTINGS)[number];
  recomputation: (typeof RECOMPUTATIONS)[number];
  json?: boolean;
}

function choice<T extends string>(flag: string, values: readonly T[]) {
  return (value: string): T => {
    const match = values.find((v) => v === value);
    if (match === undefined) throw new UsageError(`${flag}: expected one of ${values.join(', ')}, got "${value}"`);
    return match;
  };
}

function nonNegativeInteger(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag}: expected a whole number ≥ 0, got "${value}"`);
    return n;
  };
}

function runtimeOf(id: string): RuntimeSpec {
  // The catalog's unknown-id error carries the close-match hint; on the command line it is a usage error.
  try {
    return resolveRuntime(id, '--runtime', loadCatalog());
  } catch (e) {
    if (e instanceof Error && 'rule' in e) throw new UsageError(`--runtime: ${String((e as { rule: unknown }).rule)}`);
    throw e;
  }
}

function formatEstimate(model: ModelSpec, flags: MemoryFlags, runtime: RuntimeSpec, deviceName: string | null, e: MemoryEstimate, decode: number | null): string {
  const b = e.breakdown;
  const rows: string[][] = [['weights', formatBytes(b.weightBytes)]];
  if (flags.mode === 'inference') rows.push(['KV cache', formatBytes(b.kvBytes)]);
  else
    rows.push(
      ['adapters (trainable)', formatBytes(b.adapterBytes)],
      ['gradients', formatBytes(b.gradientBytes)],
      ['optimizer state', formatBytes(b.optimizerBytes)],
      ['stored activations', formatBytes(b.activationBytes)],
    );
  rows.push(
    ['workspace', formatBytes(b.workspaceBytes)],
    ['logits', formatBytes(b.logitsBytes)],
    ['runtime overhead', formatBytes(b.runtimeOverheadBytes)],
    ['total', formatBytes(b.totalBytes)],
  );
  const lines = [
    `model     ${model.name} (${model.id}): weights ${model.dtype}, KV ${model.kvDtype ?? 'default'}`,
    `runtime   ${runtime.name} (${runtime.id}); ${flags.mode}, batch ${flags.batch}, ${flags.promptTokens} + ${flags.outputTokens} tokens`,
    '',
    table(['part', 'bytes'], rows),
  ];
  if (deviceName !== null && e.usableBytes !== null) {
    const usable = `${formatBytes(e.usableBytes)} usable (${runtime.memoryUtilization * 100}% of the device)`;
    lines.push(
      '',
      `${e.fits ? 'fits' : 'does not fit'} on ${deviceName}: ${usable}`,
      `largest batch that fits: ${e.largestBatch}`,
    );
    if (decode !== null) lines.push(`decode step at this batch: ${formatSeconds(decode)} (roofline with the runtime's overheads)`);
  }
  return `${lines.join('\n')}\n`;
}

export const memoryCommand: CliCommand = {
  register(program: Command, context) {
    program
      .command('memory')
      .description('memory breakdown of a model under a runtime, and whether (up to which batch) it fits a device')
      .argument('<model>', 'catalog model id, or a JSON file with an inline model')
      .option('--device <device>', 'catalog device id, or a JSON file with an inline device')
      .option('--runtime <runtime>', 'runtime profile from datasets/runtimes.json', 'vllm')
      .option('--weight-dtype <dtype>', `weight format (${DTYPES.join(', ')})`, choice('--weight-dtype', DTYPES))
      .option('--kv-dtype <dtype>', 'KV-cache format (default 16-bit)', choice('--kv-dtype', DTYPES))
      .option('--batch <n>', 'sequences', positiveInteger('--batch'), 1)
      .option('--prompt-tokens <n>', 'prompt tokens per sequence (training: sequence length)', nonNegativeInteger('--prompt-tokens'), 512)
      .option('--output-tokens <n>', 'generated tokens per sequence', nonNegativeInteger('--output-tokens'), 0)
      .option('--mode <mode>', 'inference or training', choice('--mode', ['inference', 'training'] as const), 'inference')
      .option('--trained <how>', 'training: full or lora (rank 16 on q, v)', choice('--trained', ['full', 'lora'] as const), 'full')
      .option('--accounting <name>', `training bytes per parameter (${ACCOUNTINGS.join(', ')})`, choice('--accounting', ACCOUNTINGS), 'mixed-16')
      .option('--recomputation <r>', 'training activation recomputation', choice('--recomputation', RECOMPUTATIONS), 'none')
      .option('--json', 'print SI numbers as JSON')
      .action((modelArg: string, flags: MemoryFlags) => {
        const { io } = context;
        const resolved = resolveModelArg(modelArg, io.cwd);
        const model: ModelSpec = {
          ...resolved,
          ...(flags.weightDtype ? { dtype: flags.weightDtype } : {}),
          ...(flags.kvDtype ? { kvDtype: flags.kvDtype } : {}),
        };
        if (flags.promptTokens + flags.outputTokens === 0)
          throw new UsageError('--prompt-tokens and --output-tokens: at least one token is needed');
        if (flags.promptTokens + flags.outputTokens > model.maxContext)
          throw new UsageError(
            `--prompt-tokens + --output-tokens (${flags.promptTokens + flags.outputTokens}) exceed the model's context of ${model.maxContext}`,
          );
        const runtime = runtimeOf(flags.runtime);
        const device = flags.device !== undefined ? resolveDeviceArg(flags.device, io.cwd) : null;
        const e = estimateMemory({
          model,
          runtime,
          device,
          mode: flags.mode,
          batch: flags.batch,
          promptTokens: flags.promptTokens,
          outputTokens: flags.outputTokens,
          trained: flags.trained,
          accounting: flags.accounting,
          recomputation: flags.recomputation,
        });
        const decode =
          device !== null && flags.mode === 'inference' && e.fits === true
            ? generationSeconds(model, device, runtime, flags.batch, flags.promptTokens, Math.max(flags.outputTokens, 2))
                .decodeStepSeconds
            : null;
        if (flags.json === true) {
          const b = e.breakdown;
          const out = {
            model: { id: model.id, weightDtype: model.dtype, kvDtype: model.kvDtype ?? null },
            runtime: runtime.id,
            device: device ? device.id : null,
            mode: flags.mode,
            batch: flags.batch,
            promptTokens: flags.promptTokens,
            outputTokens: flags.outputTokens,
            totalBytes: b.totalBytes,
            weightBytes: b.weightBytes,
            kvBytes: b.kvBytes,
            workspaceBytes: b.workspaceBytes,
            runtimeOverheadBytes: b.runtimeOverheadBytes,
            logitsBytes: b.logitsBytes,
            adapterBytes: b.adapterBytes,
            gradientBytes: b.gradientBytes,
            optimizerBytes: b.optimizerBytes,
            activationBytes: b.activationBytes,
            usableBytes: e.usableBytes,
            fits: e.fits,
            largestBatch: e.largestBatch,
            decodeStepSeconds: decode,
          };
          io.stdout(`${JSON.stringify(out, null, 2)}\n`);
        } else io.stdout(formatEstimate(model, flags, runtime, device ? device.name : null, e, decode));
        context.exit(EXIT.solved);
      });
  },
};
