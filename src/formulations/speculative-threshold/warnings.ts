/**
 * Plausibility remarks on the physical quantities of a problem (src/formulations/plausibility.ts):
 * a value off by orders of magnitude earns a warning with its JSON path, never a refusal. Catalog
 * entries are checked too (they resolve into the same fields, and are always plausible).
 */
import type { DeviceSpec } from '../../cost/device.ts';
import type { LinkSpec } from '../../cost/link.ts';
import { collectWarnings, plausibility } from '../plausibility.ts';
import type { InputWarning } from '../types.ts';
import type { SpeculativeProblem } from './schema.ts';

function deviceWarnings(path: string, d: DeviceSpec): (InputWarning | null)[] {
  return [
    plausibility(`${path}.peakFlopsPerSecond`, d.peakFlopsPerSecond, 'flopsPerSecond'),
    plausibility(`${path}.memoryBytes`, d.memoryBytes, 'memoryBytes'),
    plausibility(`${path}.memoryBandwidthBytesPerSecond`, d.memoryBandwidthBytesPerSecond, 'bytesPerSecond'),
    plausibility(`${path}.storageReadBytesPerSecond`, d.storageReadBytesPerSecond, 'bytesPerSecond'),
    plausibility(`${path}.perCallOverheadSeconds`, d.perCallOverheadSeconds, 'seconds'),
    plausibility(`${path}.activePowerWatts`, d.activePowerWatts, 'watts'),
    plausibility(`${path}.transmitPowerWatts`, d.transmitPowerWatts, 'watts'),
  ];
}

function linkWarnings(path: string, l: LinkSpec): (InputWarning | null)[] {
  return [
    plausibility(`${path}.uplinkBitsPerSecond`, l.uplinkBitsPerSecond, 'bitsPerSecond'),
    plausibility(`${path}.downlinkBitsPerSecond`, l.downlinkBitsPerSecond, 'bitsPerSecond'),
    plausibility(`${path}.latencySeconds`, l.latencySeconds, 'seconds'),
  ];
}

export function warnings(p: SpeculativeProblem): InputWarning[] {
  const checks: (InputWarning | null)[] = [
    ...deviceWarnings('$.draft.device', p.device),
    ...deviceWarnings('$.target.server', p.server),
    ...p.states.flatMap((s, i) => linkWarnings(`$.channel.states[${i}].link`, s.link)),
  ];
  if (p.draftSecondsPerTokenOverride !== undefined) {
    checks.push(plausibility('$.draft.secondsPerToken', p.draftSecondsPerTokenOverride, 'seconds'));
  }
  if (p.draftJoulesPerTokenOverride !== undefined) {
    checks.push(plausibility('$.draft.joulesPerToken', p.draftJoulesPerTokenOverride, 'joules'));
  }
  if (p.verifyOverride !== undefined) {
    checks.push(plausibility('$.target.verifySeconds.fixedSeconds', p.verifyOverride.fixedSeconds, 'seconds'));
    checks.push(plausibility('$.target.verifySeconds.perTokenSeconds', p.verifyOverride.perTokenSeconds, 'seconds'));
  }
  if (p.energyBudgetJoulesPerToken !== null) {
    checks.push(plausibility('$.energyBudgetJoulesPerToken', p.energyBudgetJoulesPerToken, 'joules'));
  }
  return collectWarnings(checks);
}
