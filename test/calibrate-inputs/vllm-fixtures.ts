/**
 * vLLM benchmark_latency / benchmark_throughput --output-json files generated from a known device through the cost
 * model, request by request (prefill, then decode steps), for the calibration tests.
 */
import { resolveModel } from '../../src/catalog/index.ts';
import { measurementPoint, type Measurement } from '../../src/cost/calibrate.ts';

const model = resolveModel('llama-2-7b', '$');

export interface Truth {
  flops: number;
  bytes: number;
  overhead: number;
}

/** Seconds of a run (requests of input/output tokens in waves of batch) on the true device. */
function runSeconds(t: Truth, batch: number, input: number, output: number, requests: number): number {
  const m: Measurement = {
    layer: 'run',
    batch,
    tokens: input,
    context: input,
    outputTokens: output,
    requests,
    seconds: 1,
  };
  const parts = measurementPoint(model, m).parts ?? [];
  if (parts.length < 2) throw new Error('a run has a prefill and decode steps');
  return parts.reduce((s, g) => s + g.calls * (t.overhead + Math.max(g.flops / t.flops, g.bytes / t.bytes)), 0);
}

export function latencyJson(t: Truth, batch: number, input: number, output: number): string {
  const avg = runSeconds(t, batch, input, output, batch);
  const latencies = [avg * 0.99, avg, avg * 1.01];
  return JSON.stringify({ avg_latency: avg, latencies, percentiles: { 10: avg * 0.99, 50: avg, 90: avg * 1.01 } });
}

export function throughputJson(t: Truth, batch: number, input: number, output: number, requests: number): string {
  const elapsed = runSeconds(t, batch, input, output, requests);
  const total = requests * (input + output);
  return JSON.stringify({
    elapsed_time: elapsed,
    num_requests: requests,
    total_num_tokens: total,
    requests_per_second: requests / elapsed,
    tokens_per_second: total / elapsed,
  });
}
