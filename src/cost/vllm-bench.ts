/**
 * vLLM's benchmark outputs as calibration input (issue 18). `benchmarks/benchmark_latency.py --output-json` writes
 * `avg_latency`, `latencies` and `percentiles`; `benchmarks/benchmark_throughput.py --output-json` writes
 * `elapsed_time`, `num_requests`, `total_num_tokens`, `requests_per_second` and `tokens_per_second`. Neither records
 * the prompt length, output length or batch size the run used, so the caller supplies them (the CLI's --input-len,
 * --output-len, --batch-size, --num-prompts). Each file becomes one `run` measurement: whole requests, prefill then
 * decode, which the fit prices pass by pass (src/cost/calibrate.ts, `runParts`).
 */
import { InputError, UsageError } from '../errors.ts';
import type { Measurement } from './calibrate.ts';

export type VllmBenchKind = 'latency' | 'throughput';

/** What the run used and vLLM does not write down. */
export interface VllmRunSettings {
  readonly inputLen?: number;
  readonly outputLen?: number;
  readonly batchSize?: number;
  /** benchmark_throughput's --num-prompts; only needed when the file lacks `num_requests`. */
  readonly numPrompts?: number;
}

type Doc = Readonly<Record<string, unknown>>;

const LATENCY_KEYS = ['avg_latency', 'latencies', 'percentiles'];
const THROUGHPUT_KEYS = [
  'elapsed_time',
  'num_requests',
  'total_num_tokens',
  'requests_per_second',
  'tokens_per_second',
];

/** The kind of vLLM benchmark output `doc` is, recognised by its keys, or null. */
export function vllmBenchKind(doc: unknown): VllmBenchKind | null {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null;
  if ('avg_latency' in doc) return 'latency';
  if ('elapsed_time' in doc || ('requests_per_second' in doc && 'tokens_per_second' in doc)) return 'throughput';
  return null;
}

/** Parses `text` as JSON and returns the document when it is a vLLM benchmark output, else null. */
export function vllmBenchDoc(text: string): { kind: VllmBenchKind; doc: Doc } | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    return null;
  }
  const kind = vllmBenchKind(doc);
  return kind === null ? null : { kind, doc: doc as Doc };
}

/** The reason a JSON object is not a vLLM benchmark output (for the one-line refusal). */
export const VLLM_KEYS_REASON =
  `a vLLM benchmark_latency output has ${LATENCY_KEYS.join(', ')}; a benchmark_throughput output has ` +
  THROUGHPUT_KEYS.join(', ');

function positiveNumber(doc: Doc, key: string): number | undefined {
  const v = doc[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0))
    throw new InputError(`$.${key}`, `must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function setting(value: number | undefined, option: string, kind: VllmBenchKind): number {
  if (value === undefined)
    throw new UsageError(
      `${option}: required for a vLLM benchmark_${kind} file (vLLM does not record it); pass the value the run used`,
    );
  if (!Number.isInteger(value) || value <= 0)
    throw new UsageError(`${option}: must be a positive whole number, got ${value}`);
  return value;
}

/**
 * One `run` measurement from a vLLM benchmark output.
 *
 * - latency: one batch of `batchSize` requests of `inputLen` prompt tokens and `outputLen` generated tokens
 *   (benchmark_latency's --batch-size, --input-len, --output-len; it sets ignore_eos) takes `avg_latency` seconds.
 * - throughput: `num_requests` requests (or --num-prompts) at those lengths take `elapsed_time` seconds; vLLM batches
 *   continuously, which is approximated as consecutive waves of `batchSize` requests (set it to the run's
 *   max_num_seqs, 256 by default, or fewer when the KV cache held fewer). `total_num_tokens`, when present, must
 *   equal requests × (inputLen + outputLen): a mismatch means the lengths given are not the run's.
 */
export function measurementsFromVllmBench(doc: Doc, kind: VllmBenchKind, settings: VllmRunSettings): Measurement[] {
  const inputLen = setting(settings.inputLen, '--input-len', kind);
  const outputLen = setting(settings.outputLen, '--output-len', kind);
  const batchSize = setting(settings.batchSize, '--batch-size', kind);
  if (kind === 'latency') {
    const seconds = positiveNumber(doc, 'avg_latency');
    if (seconds === undefined) throw new InputError('$.avg_latency', 'is required');
    return [
      {
        layer: 'run',
        batch: batchSize,
        tokens: inputLen,
        context: inputLen,
        outputTokens: outputLen,
        requests: batchSize,
        seconds,
      },
    ];
  }
  const inFile = positiveNumber(doc, 'num_requests');
  if (inFile !== undefined && settings.numPrompts !== undefined && inFile !== settings.numPrompts)
    throw new UsageError(`--num-prompts: ${settings.numPrompts} disagrees with the file's num_requests ${inFile}`);
  const requests = inFile ?? setting(settings.numPrompts, '--num-prompts', kind);
  if (!Number.isInteger(requests)) throw new InputError('$.num_requests', `must be a whole number, got ${requests}`);
  const rps = positiveNumber(doc, 'requests_per_second');
  const seconds = positiveNumber(doc, 'elapsed_time') ?? (rps !== undefined ? requests / rps : undefined);
  if (seconds === undefined) throw new InputError('$.elapsed_time', 'is required (or requests_per_second)');
  const total = positiveNumber(doc, 'total_num_tokens');
  const expected = requests * (inputLen + outputLen);
  if (total !== undefined && Math.abs(total - expected) > 0.01 * expected)
    throw new InputError(
      '$.total_num_tokens',
      `${total} tokens is not ${requests} requests × (${inputLen} + ${outputLen}) = ${expected}: ` +
        "the --input-len/--output-len given are not the run's (or its lengths varied: use --dataset-name random " +
        'with a fixed --input-len and --output-len)',
    );
  return [
    {
      layer: 'run',
      batch: Math.min(batchSize, requests),
      tokens: inputLen,
      context: inputLen,
      outputTokens: outputLen,
      requests,
      seconds,
    },
  ];
}
