/**
 * What the CLI's non-solving commands (profile, calibrate, bench, reproduce) need, exposed through
 * the API so that the CLI talks to nothing else. The bench and reproductions are loaded on use:
 * they pull in every suite and vega, which solving never needs (start-up time).
 */
export { findProfile, resolveDevice, resolveModel } from '../catalog/index.ts';
export type { DeviceRef, ModelRef } from '../catalog/index.ts';
export type { DeviceSpec } from '../cost/device.ts';
export { layerTable, rowWork } from '../cost/layers.ts';
export type { LayerRow, LayerTable, Workload } from '../cost/layers.ts';
export type { ModelSpec } from '../cost/model.ts';
export { DTYPES } from '../cost/units.ts';
export type { DType } from '../cost/units.ts';
export { calibrateDevice, parseMeasurements } from '../cost/calibrate.ts';
export type { Measurement } from '../cost/calibrate.ts';
export type { ReproductionOutcome } from '../bench/reproduce.ts';

/** The benchmark: runner, suites, report writers and progress bars. */
export async function loadBenchTools() {
  const [progress, report, runner, suites] = await Promise.all([
    import('../bench/progress.ts'),
    import('../bench/report.ts'),
    import('../bench/runner.ts'),
    import('../bench/suites/index.ts'),
  ]);
  return { ...progress, ...report, ...runner, ...suites };
}

/** The reproductions of published numbers and their report writers. */
export async function loadReproduceTools() {
  const [report, reproduce] = await Promise.all([
    import('../bench/reproduce-report.ts'),
    import('../bench/reproduce.ts'),
  ]);
  return { ...report, ...reproduce };
}
