/**
 * `edgeplan calibrate MEASUREMENTS... --device D [--model M] [--dtype T] [--id ID] [--out FILE] [--json]
 * [--input-len I --output-len O --batch-size B [--num-prompts N]]`
 * — fits D's effective FLOP/s, bandwidth and per-call overhead to measured timings (edgeplan's CSV or JSON,
 * llama-bench output, vLLM benchmark outputs; several files are fitted together) and writes a device entry that
 * problems can reference inline or a datasets file can hold.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  calibrateDevice,
  DTYPES,
  measurementsOf,
  readMeasurementFile,
  resolveModel,
  type VllmRunSettings,
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
  inputLen?: number;
  outputLen?: number;
  batchSize?: number;
  numPrompts?: number;
}

function wholeNumber(option: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !(n > 0))
      throw new UsageError(`${option}: expected a positive whole number, got "${value}"`);
    return n;
  };
}

const SETTING_KEYS: Readonly<Record<string, keyof VllmRunSettings>> = {
  'input-len': 'inputLen',
  'output-len': 'outputLen',
  'batch-size': 'batchSize',
  'num-prompts': 'numPrompts',
};

/**
 * `file.json#input-len=32,output-len=128,batch-size=8` carries its own vLLM run settings (a latency and a throughput
 * file ran at different lengths); they override the command-line options for that file.
 */
function splitFileArg(arg: string, cwd: string, base: VllmRunSettings): { file: string; settings: VllmRunSettings } {
  const hash = arg.lastIndexOf('#');
  if (hash < 0 || existsSync(resolve(cwd, arg))) return { file: arg, settings: base };
  const settings: Record<string, number> = { ...base };
  for (const pair of arg.slice(hash + 1).split(',')) {
    const [key, value] = pair.split('=');
    const field = SETTING_KEYS[key.trim()];
    if (field === undefined || value === undefined)
      throw new UsageError(
        `${arg}: after "#" expected input-len=I,output-len=O,batch-size=B[,num-prompts=N], got "${pair}"`,
      );
    settings[field] = wholeNumber(`${arg}: ${key.trim()}`)(value);
  }
  return { file: arg.slice(0, hash), settings };
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
      .argument(
        '<measurements...>',
        'CSV (columns layer,device,batch,tokens,context,seconds[,model,dtype]) or JSON rows, llama-bench output, ' +
          'vLLM benchmark_latency/benchmark_throughput --output-json files (file.json#input-len=I,output-len=O,' +
          'batch-size=B for per-file settings); several files are fitted together',
      )
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
      .option('--input-len <n>', 'vLLM files: prompt tokens per request the run used', wholeNumber('--input-len'))
      .option('--output-len <n>', 'vLLM files: tokens generated per request', wholeNumber('--output-len'))
      .option(
        '--batch-size <n>',
        "vLLM files: requests per batch (benchmark_latency's --batch-size; for throughput the run's max_num_seqs)",
        wholeNumber('--batch-size'),
      )
      .option(
        '--num-prompts <n>',
        'vLLM throughput files without num_requests: requests in the run',
        wholeNumber('--num-prompts'),
      )
      .action((args: string[], flags: CalibrateFlags) => {
        const { io } = context;
        const dtype = dtypeFlag(flags.dtype);
        const base = resolveDeviceArg(flags.device ?? '', io.cwd);
        const common: VllmRunSettings = {
          inputLen: flags.inputLen,
          outputLen: flags.outputLen,
          batchSize: flags.batchSize,
          numPrompts: flags.numPrompts,
        };
        const inputs = args.map((arg) => splitFileArg(arg, io.cwd, common));
        const file = inputs.map((x) => x.file).join(', ');
        let vllmFiles = 0;
        const all = inputs.flatMap(({ file: f, settings }) => {
          // Read and parsed once: the format found is both counted here and read below.
          const measured = readMeasurementFile(readText(f, io.cwd), f);
          if (measured.format === 'vllm') vllmFiles++;
          return inFile(f, () => measurementsOf(measured, settings)).map((m, i) => ({ m, i, f }));
        });
        const vllmFlags = Object.entries(common).filter(([, v]) => v !== undefined);
        if (vllmFiles === 0 && vllmFlags.length > 0)
          throw new UsageError(
            `--${Object.keys(SETTING_KEYS).find((k) => SETTING_KEYS[k] === vllmFlags[0][0]) ?? 'input-len'}: ` +
              `applies to vLLM benchmark outputs only, and ${file} ${inputs.length > 1 ? 'are' : 'is'} not one`,
          );
        // Rows naming another device are someone else's measurements; rows naming none are ours.
        const indexed = all.filter(
          ({ m }) => m.device === undefined || m.device === base.id || m.device === flags.device,
        );
        const skipped = all.length - indexed.length;
        if (indexed.length === 0) {
          const named = [...new Set(all.map(({ m }) => m.device).filter((d) => d !== undefined))];
          throw new UsageError(
            `${file}: no measurement is for device "${base.id}"${named.length > 0 ? `; the file has: ${named.join(', ')}` : ''}`,
          );
        }
        if (indexed.length === 1 && vllmFiles > 0)
          throw new UsageError(
            `${file}: one vLLM benchmark run is one measurement at one arithmetic intensity, and the fit needs at ` +
              'least two: add a benchmark_latency run at another --batch-size or a benchmark_throughput run',
          );
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
            spec =
              m.model !== undefined ? inFile(indexed[k].f, () => resolveModel(id, where)) : resolveModel(id, where);
            models.set(id, spec);
          }
          const format = m.dtype ?? dtype;
          return format !== undefined && format !== spec.dtype ? { ...spec, dtype: format } : spec;
        };
        const rows = indexed.map(({ m }) => m);
        const result = inFile(inputs.length === 1 ? file : `${file} (together)`, () =>
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
