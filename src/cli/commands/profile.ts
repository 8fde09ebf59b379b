/**
 * `edgeplan profile MODEL [--device D] [--batch B] [--seq S] [--context C] [--dtype T] [--json]`
 * — the per-layer table the solvers see: parameters, forward FLOPs, activation bytes at a cut
 * after each row, KV cache, resident memory and time on the device. MODEL and D are catalog ids
 * or JSON files holding an inline entry (e.g. what `edgeplan calibrate --out` wrote).
 */
import type { Command } from 'commander';
import {
  DTYPES,
  findProfile,
  layerTable,
  resolveDevice,
  resolveModel,
  rowWork,
  type DType,
  type DeviceRef,
  type DeviceSpec,
  type LayerRow,
  type LayerTable,
  type ModelRef,
  type ModelSpec,
  type Workload,
} from '../../api.ts';
import { UsageError } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, readJsonFile } from '../files.ts';
import { table } from '../format.ts';
import { positiveInteger } from '../options.ts';

/** Human units at the edge: SI prefixes on decimal bytes, counts and FLOPs. */
function si(value: number, unit: string, digits = 3): string {
  if (value === 0) return `0 ${unit}`;
  const prefixes: Array<[number, string]> = [
    [1e15, 'P'],
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, p] of prefixes)
    if (Math.abs(value) >= scale) return `${Number((value / scale).toPrecision(digits))} ${p}${unit}`;
  return `${Number(value.toPrecision(digits))} ${unit}`;
}

export const formatBytes = (bytes: number): string => si(bytes, 'B');
export const formatFlops = (flops: number): string => si(flops, 'FLOP');
export const formatRate = (perSecond: number, unit: string): string => si(perSecond, `${unit}/s`);

export function formatCount(n: number): string {
  if (n >= 1e9) return `${Number((n / 1e9).toPrecision(4))}B`;
  if (n >= 1e6) return `${Number((n / 1e6).toPrecision(4))}M`;
  if (n >= 1e3) return `${Number((n / 1e3).toPrecision(4))}k`;
  return String(n);
}

export function formatSeconds(s: number): string {
  if (s === 0) return '0 s';
  if (s < 1e-3) return `${Number((s * 1e6).toPrecision(3))} µs`;
  if (s < 1) return `${Number((s * 1e3).toPrecision(3))} ms`;
  return `${Number(s.toPrecision(4))} s`;
}

function dtypeOption(value: string): DType {
  const match = DTYPES.find((d) => d === value);
  if (match === undefined) throw new UsageError(`--dtype: expected one of ${DTYPES.join(', ')}, got "${value}"`);
  return match;
}

/** A catalog id, or a `.json` file holding a reference (an id, an override object or a full entry). */
export function readRef(value: string, cwd: string): { ref: unknown; file?: string } {
  if (/\.json$/i.test(value) && !value.startsWith('hf:')) return { ref: readJsonFile(value, cwd), file: value };
  return { ref: value };
}

export function resolveModelArg(value: string, cwd: string): ModelSpec {
  const { ref, file } = readRef(value, cwd);
  return file === undefined ? resolveModel(value, 'MODEL') : inFile(file, () => resolveModel(ref as ModelRef, '$'));
}

export function resolveDeviceArg(value: string, cwd: string): DeviceSpec {
  const { ref, file } = readRef(value, cwd);
  return file === undefined
    ? resolveDevice(value, '--device')
    : inFile(file, () => resolveDevice(ref as DeviceRef, '$'));
}

interface ProfileFlags {
  device?: string;
  batch: number;
  seq: number;
  context?: number;
  logits?: number;
  dtype?: DType;
  json?: boolean;
}

function rowLabel(r: LayerRow): string {
  return r.kind === 'decoder' ? String(r.index) : r.kind;
}

function boundLabel(r: LayerRow): string {
  return r.timeSource === 'profile' ? 'measured' : r.roofline.bound;
}

/** The table without a device: sizes and FLOPs only. */
function sizesOnly(model: ModelSpec, w: Workload): Omit<LayerTable, 'deviceId'> & { deviceId: null } {
  // Any device gives the same sizes; an ideal one keeps the arithmetic self-contained.
  const ideal: DeviceSpec = {
    id: 'none',
    name: 'none',
    peakFlopsPerSecond: 1,
    memoryBytes: Number.MAX_VALUE,
    memoryBandwidthBytesPerSecond: 1,
    storageReadBytesPerSecond: 1,
    computeEfficiency: 1,
    bandwidthEfficiency: 1,
    perCallOverheadSeconds: 0,
    activePowerWatts: 0,
    transmitPowerWatts: 0,
    source: 'device-free table: only sizes and FLOPs are reported',
  };
  const t = layerTable(model, ideal, w);
  return { ...t, deviceId: null, profile: null, streamsFromStorage: false };
}

export function formatProfile(
  model: ModelSpec,
  device: DeviceSpec | undefined,
  t: LayerTable | ReturnType<typeof sizesOnly>,
): string {
  const w = t.workload;
  const lines: string[] = [];
  lines.push(`model      ${model.name} (${model.id}), ${model.dtype}, ${formatCount(t.totals.params)} parameters`);
  if (device)
    lines.push(
      `device     ${device.name} (${device.id}): ${formatBytes(device.memoryBytes)} memory, ${formatRate(device.peakFlopsPerSecond * device.computeEfficiency, 'FLOP')} and ${formatRate(device.memoryBandwidthBytesPerSecond * device.bandwidthEfficiency, 'B')} effective`,
    );
  lines.push(
    `workload   batch ${w.batch} × ${w.tokens} new token${w.tokens === 1 ? '' : 's'}, ${w.contextTokens} token${w.contextTokens === 1 ? '' : 's'} of context, logits for ${w.logitsTokens} token${w.logitsTokens === 1 ? '' : 's'} per sequence`,
  );
  if (t.profile)
    lines.push(`profile    ${t.profile.id}: ${t.profile.applied ? 'used' : 'not used'} (${t.profile.reason})`);
  lines.push('');
  const header = ['layer', 'params', 'FLOPs', 'act. at cut', 'KV cache', 'memory'];
  if (device) header.push('time', 'bound');
  const rows = t.rows.map((r) => {
    const cells = [
      rowLabel(r),
      formatCount(r.params),
      formatFlops(r.forwardFlops),
      formatBytes(r.activationBytes),
      formatBytes(r.kvBytes),
      formatBytes(r.memoryBytes),
    ];
    if (device) cells.push(formatSeconds(r.seconds), boundLabel(r));
    return cells;
  });
  const total = [
    'total',
    formatCount(t.totals.params),
    formatFlops(t.totals.forwardFlops),
    '',
    formatBytes(t.totals.kvBytes),
    formatBytes(t.totals.memoryBytes),
  ];
  if (device) total.push(formatSeconds(t.totals.seconds), '');
  lines.push(table(header, [...rows, total]));
  if (device) {
    lines.push('');
    const fits = t.totals.memoryBytes <= device.memoryBytes;
    lines.push(
      `memory     ${formatBytes(t.totals.memoryBytes)} of ${formatBytes(device.memoryBytes)}: ${fits ? 'fits' : 'does NOT fit — weights stream from storage every pass'}`,
    );
    const tokensOut = w.batch * w.logitsTokens;
    lines.push(
      `throughput ${Number((tokensOut / t.totals.seconds).toPrecision(4))} tokens/s at ${formatSeconds(t.totals.seconds)} per pass (${tokensOut} token${tokensOut === 1 ? '' : 's'} out per pass)`,
    );
  } else lines.push('', 'pass --device to see times on a device');
  return `${lines.join('\n')}\n`;
}

export const profileCommand: CliCommand = {
  register(program: Command, context) {
    program
      .command('profile')
      .description(
        'print the per-layer table the solvers see: params, FLOPs, activation and KV bytes, memory, time on a device',
      )
      .argument('<model>', 'catalog model id, or a JSON file with an inline model')
      .option(
        '--device <device>',
        'catalog device id, or a JSON file with an inline device (e.g. from `edgeplan calibrate`)',
      )
      .option('--batch <n>', 'sequences per pass', positiveInteger('--batch'), 1)
      .option(
        '--seq <n>',
        'new tokens per sequence in this pass (prompt length for prefill; 1 for a decode step)',
        positiveInteger('--seq'),
        1,
      )
      .option('--context <n>', 'tokens in the KV cache after the pass (default: --seq)', positiveInteger('--context'))
      .option(
        '--logits <n>',
        'tokens per sequence whose logits the head computes (default: --seq)',
        positiveInteger('--logits'),
      )
      .option(
        '--dtype <dtype>',
        `number format of weights, activations and KV (${DTYPES.join(', ')}; default: the model's)`,
        dtypeOption,
      )
      .option('--json', 'print the table as JSON (SI units)')
      .action((modelArg: string, flags: ProfileFlags) => {
        const { io } = context;
        const resolved = resolveModelArg(modelArg, io.cwd);
        const model: ModelSpec = flags.dtype ? { ...resolved, dtype: flags.dtype } : resolved;
        const contextTokens = flags.context ?? flags.seq;
        if (contextTokens < flags.seq)
          throw new UsageError(`--context (${contextTokens}) must be at least --seq (${flags.seq})`);
        if (flags.logits !== undefined && flags.logits > flags.seq)
          throw new UsageError(`--logits (${flags.logits}) must not exceed --seq (${flags.seq})`);
        const workload: Workload = { batch: flags.batch, tokens: flags.seq, contextTokens, logitsTokens: flags.logits };
        // Validate the workload's arithmetic once (e.g. the head's work) before printing anything.
        rowWork(model, 'head', model.layers + 1, workload);
        const device = flags.device !== undefined ? resolveDeviceArg(flags.device, io.cwd) : undefined;
        const t = device
          ? layerTable(model, device, workload, { profile: findProfile(model.id, device.id) })
          : sizesOnly(model, workload);
        if (flags.json === true) {
          const base = {
            model: { id: model.id, name: model.name, dtype: model.dtype },
            device: device ? { id: device.id, name: device.name, memoryBytes: device.memoryBytes } : null,
          };
          // Without a device there are no times: drop them rather than print the ideal device's.
          const out = device
            ? { ...base, ...t }
            : {
                ...base,
                workload: t.workload,
                rows: t.rows.map(({ seconds: _s, timeSource: _t, roofline: _r, ...sizes }) => sizes),
                totals: {
                  params: t.totals.params,
                  weightBytes: t.totals.weightBytes,
                  forwardFlops: t.totals.forwardFlops,
                  kvBytes: t.totals.kvBytes,
                  memoryBytes: t.totals.memoryBytes,
                },
              };
          io.stdout(`${JSON.stringify(out, null, 2)}\n`);
        } else io.stdout(formatProfile(model, device, t));
        context.exit(EXIT.solved);
      });
  },
};
