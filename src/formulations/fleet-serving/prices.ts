/**
 * Reference rents of catalog devices for the minimum-cost variant, used only when a device node of a
 * problem with $.targetTokensPerSecond gives no costPerHour. The catalog (datasets/devices.json)
 * carries no prices, so these are assumed, and every report marks a node priced from here as
 * assumed. Figures: US on-demand cloud prices per GPU-hour of 2024 as recalled from Mélange's
 * price table (Griggs et al. 2024: L4 0.70, A10G 1.01, A100-80GB 3.67, H100 7.516) and a typical
 * cloud list price for the T4 (0.35), rounded to the cent; not re-checked against a live price
 * list. A group of g GPUs costs g ×.
 */
export const REFERENCE_PRICE_PER_GPU_HOUR: Readonly<Record<string, number>> = {
  'h100-sxm': 7.52,
  'h100-pcie': 7.52,
  'a100-80gb': 3.67,
  a10: 1.01,
  l4: 0.7,
  t4: 0.35,
};
