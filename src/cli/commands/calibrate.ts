/**
 * `edgeplan calibrate MEASUREMENTS --device D [--model M] [--dtype T] [--id ID] [--out FILE] [--json]`
 * — fits D's effective FLOP/s, bandwidth and per-call overhead to measured layer timings (CSV or
 * JSON) and writes a device entry that problems can reference inline or a datasets file can hold.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  calibrateDevice,
  DTYPES,
  parseMeasurements,
  resolveModel,
  type DType,
  type Measurement,
  type ModelSpec,
} from '../../api.ts';
import { UsageError } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, MAX_INPUT_BYTES, writeTextFile } from '../files.ts';
import { table } from '../format.ts';
import { formatRate, formatSeconds, resolveDeviceArg } from './profile.ts';

interface CalibrateFlags {
  device?: string;
  model?: string;
  dtype?: string;
  id?: string;
  out?: string;
  json?: boolean;
}

function readText(file: string, cwd: string): string {
  const path = resolve(cwd, file);
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new UsageError(`${file}: is a directory, not a measurement file`);
    if (stat.size > MAX_INPUT_BYTES)
      throw new UsageError(`${file}: the file is larger than ${MAX_INPUT_BYTES / 2 ** 20} MB`);
    return readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code})`}`);
  }
}

function dtypeFlag(value: string | undefined): DType | undefined {
  if (value === undefined) return undefined;
  const match = DTYPES.find((d) => d === value);
  if (match === undefined) throw new UsageError(`--dtype: expected one of ${DTYPES.join(', ')}, got "${value}"`);
  return match;
}

export const calibrateCommand: CliCommand = {
  register(program: Command, context) {
    program
      .command('calibrate')
      .description("fit a device's effective FLOP/s, bandwidth and per-call overhead to measured layer timings")
      .argument('<measurements>', 'CSV (columns layer,device,batch,tokens,context,seconds[,model,dtype]) or JSON rows')
      .requiredOption(
        '--device <device>',
        'the device measured: catalog id or a JSON file with an inline device (its spec is the starting point)',
      )
      .option('--model <model>', 'model the timings ran (catalog id) when the file has no model column')
      .option(
        '--dtype <dtype>',
        `number format the timings ran in when the file has no dtype column (${DTYPES.join(', ')}; default: the model's)`,
      )
      .option('--id <id>', 'id of the fitted device entry (default: <device>-calibrated)')
      .option('--out <file>', 'write the fitted device entry (JSON) to this file')
      .option('--json', 'print the fit and the entry as JSON')
      .action((file: string, flags: CalibrateFlags) => {
        const { io } = context;
        const dtype = dtypeFlag(flags.dtype);
        const base = resolveDeviceArg(flags.device ?? '', io.cwd);
        const all = inFile(file, () => parseMeasurements(readText(file, io.cwd), file));
        // Rows naming another device are someone else's measurements; rows naming none are ours.
        const indexed = all
          .map((m, i) => ({ m, i }))
          .filter(({ m }) => m.device === undefined || m.device === base.id || m.device === flags.device);
        const skipped = all.length - indexed.length;
        if (indexed.length === 0) {
          const named = [...new Set(all.map((m) => m.device).filter((d) => d !== undefined))];
          throw new UsageError(
            `${file}: no measurement is for device "${base.id}"${named.length > 0 ? `; the file has: ${named.join(', ')}` : ''}`,
          );
        }
        const flagModel = flags.model !== undefined ? resolveModel(flags.model, '--model') : undefined;
        const models = new Map<string, ModelSpec>(
          flagModel !== undefined && flags.model !== undefined ? [[flags.model, flagModel]] : [],
        );
        const modelOf = (m: Measurement, k: number): ModelSpec => {
          const id = m.model ?? flags.model;
          if (id === undefined) throw new UsageError(`${file}: the measurements name no model; pass --model`);
          let spec = models.get(id);
          if (spec === undefined) {
            const where = m.model !== undefined ? `$[${indexed[k].i}].model` : '--model';
            spec = m.model !== undefined ? inFile(file, () => resolveModel(id, where)) : resolveModel(id, where);
            models.set(id, spec);
          }
          const format = m.dtype ?? dtype;
          return format !== undefined && format !== spec.dtype ? { ...spec, dtype: format } : spec;
        };
        const rows = indexed.map(({ m }) => m);
        const result = inFile(file, () =>
          calibrateDevice(base, rows, modelOf, { id: flags.id, measurementSource: file }),
        );
        const entry = `${JSON.stringify(result.device, null, 2)}\n`;
        if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, entry);
        if (flags.json === true) {
          io.stdout(
            `${JSON.stringify({ fit: result.fit, device: result.device, measurements: rows.length, skippedOtherDevices: skipped }, null, 2)}\n`,
          );
        } else {
          const f = result.fit;
          const lines = [
            `device     ${base.name} (${base.id}), ${rows.length} measurements${skipped > 0 ? ` (${skipped} for other devices skipped)` : ''}`,
            '',
            table(
              ['quantity', 'fitted', 'spec / before'],
              [
                [
                  'effective compute',
                  formatRate(f.effectiveFlopsPerSecond, 'FLOP'),
                  formatRate(base.peakFlopsPerSecond * base.computeEfficiency, 'FLOP'),
                ],
                ['computeEfficiency', f.computeEfficiency.toFixed(4), base.computeEfficiency.toFixed(4)],
                [
                  'effective bandwidth',
                  formatRate(f.effectiveBytesPerSecond, 'B'),
                  formatRate(base.memoryBandwidthBytesPerSecond * base.bandwidthEfficiency, 'B'),
                ],
                ['bandwidthEfficiency', f.bandwidthEfficiency.toFixed(4), base.bandwidthEfficiency.toFixed(4)],
                [
                  'perCallOverhead',
                  formatSeconds(f.perCallOverheadSeconds),
                  formatSeconds(base.perCallOverheadSeconds),
                ],
              ],
            ),
            '',
            `fit        ${f.computeBoundPoints} compute-bound and ${f.memoryBoundPoints} memory-bound points; RMSE ${formatSeconds(f.rmseSeconds)}, relative RMSE ${(f.relativeRmse * 100).toFixed(2)}%, max relative error ${(f.maxRelativeError * 100).toFixed(2)}%`,
            ...f.warnings.map((w) => `warning    ${w}`),
            '',
            flags.out !== undefined
              ? `wrote the device entry "${result.device.id}" to ${flags.out}`
              : `device entry (save with --out, use inline as "device": {...} or add to a datasets file):\n${entry.trimEnd()}`,
          ];
          io.stdout(`${lines.join('\n')}\n`);
        }
        context.exit(EXIT.solved);
      });
  },
};
