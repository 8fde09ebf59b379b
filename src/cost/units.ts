/**
 * Numeric formats and their storage size. SI everywhere inside; these are the only conversions.
 *
 * A format names how one tensor class is stored. Weights, the KV cache, the activations that cross
 * a cut, LoRA adapters and optimizer state each have their own (model.ts: `kvDtypeOf` and friends);
 * the defaults follow what runtimes do: quantized weights keep 16-bit KV cache and activations.
 *
 * Effective sizes include the scales a quantized format cannot be read without. The numbers and
 * their sources are in datasets/quantization.json (test/cost/formats.test.ts keeps the two equal):
 * - `int4`, `int8`: group-wise weight quantization as AWQ and GPTQ store it, one fp16 scale and one
 *   packed zero-point (4 or 8 bits) per group of 128 weights: 4 + 20/128 = 4.15625 and
 *   8 + 24/128 = 8.1875 bits per weight. As a KV or activation format (per-token scales), the bare
 *   4 or 8 bits.
 * - `fp8`: per-tensor scale (E4M3 in vLLM and TensorRT-LLM), 8 bits.
 * - GGUF block formats (llama.cpp): `q8_0` 32 weights + one fp16 scale (8.5 bits), `q4_0` the same
 *   with 4-bit values (4.5 bits), `q4_k_m` Q4_K super-blocks (4.5 bits) with Q6_K (6.5625 bits) for
 *   half of the attention-value and FFN-down matrices, ≈ 4.82 bits on a Llama-shaped layer.
 */

export const DTYPES = ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4', 'q8_0', 'q4_0', 'q4_k_m'] as const;
export type DType = (typeof DTYPES)[number];

/** Bits one stored value takes in a tensor of this format (block scales included for GGUF blocks). */
const BITS: Record<DType, number> = {
  fp32: 32,
  fp16: 16,
  bf16: 16,
  fp8: 8,
  int8: 8,
  int4: 4,
  q8_0: 8.5,
  q4_0: 4.5,
  q4_k_m: 4.82,
};

/** Group size of AWQ / GPTQ weight quantization (the default of both tools and of every Qwen/Llama release). */
export const QUANT_GROUP_SIZE = 128;

/** Bits per weight of a weight matrix in this format, scales and zero-points included. */
const WEIGHT_BITS: Record<DType, number> = {
  ...BITS,
  int8: 8 + (16 + 8) / QUANT_GROUP_SIZE,
  int4: 4 + (16 + 4) / QUANT_GROUP_SIZE,
};

/** Bytes of one value of a KV-cache, activation, adapter or optimizer tensor in this format. */
export function bytesPerValue(dtype: DType): number {
  return BITS[dtype] / 8;
}

/** Bytes per parameter of a quantized (or plain) weight matrix, with its scales and zero-points. */
export function weightBytesPerParam(dtype: DType): number {
  return WEIGHT_BITS[dtype] / 8;
}

/** Effective bits per weight (for reports and the datasets/quantization.json check). */
export function weightBitsPerParam(dtype: DType): number {
  return WEIGHT_BITS[dtype];
}

/** A 16-bit or wider float: runtimes compute and cache in it as stored. */
export function isFloat16OrWider(dtype: DType): boolean {
  return dtype === 'fp32' || dtype === 'fp16' || dtype === 'bf16';
}

/** GGUF block formats: llama.cpp quantizes the embedding table too and keeps the output matrix in Q6_K. */
export function isGguf(dtype: DType): boolean {
  return dtype === 'q8_0' || dtype === 'q4_0' || dtype === 'q4_k_m';
}

/** Q6_K: 256-weight super-blocks, 6-bit values, 8-bit sub-block scales and one fp16 scale (6.5625 bits). */
export const Q6_K_BITS = 6.5625;

export const GB = 1e9;
export const GIB = 2 ** 30;
export const MB = 1e6;
