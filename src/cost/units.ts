/** Numeric formats and their storage size. SI everywhere inside; these are the only conversions. */

export const DTYPES = ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4'] as const;
export type DType = (typeof DTYPES)[number];

const BYTES: Record<DType, number> = { fp32: 4, fp16: 2, bf16: 2, fp8: 1, int8: 1, int4: 0.5 };

export function bytesPerValue(dtype: DType): number {
  return BYTES[dtype];
}

export const GB = 1e9;
export const GIB = 2 ** 30;
export const MB = 1e6;
