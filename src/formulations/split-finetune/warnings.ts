/**
 * Plausibility remarks on a split-finetune problem: every physical quantity a user types (device
 * memory, FLOP/s, bandwidth, powers, link rates and latencies, energy budgets) is checked against
 * the wide ranges of plausibility.ts, so that an uplink of 50 bit/s or 48 bytes of memory (a unit
 * slip) earns a warning with its JSON path. Never a refusal.
 */
import type { DeviceSpec } from '../../cost/device.ts';
import { collectWarnings, plausibility } from '../plausibility.ts';
import type { InputWarning } from '../types.ts';
import type { SplitFinetuneProblem } from './schema.ts';

function deviceChecks(path: string, d: DeviceSpec): (InputWarning | null)[] {
  return [
    plausibility(`${path}.memoryBytes`, d.memoryBytes, 'memoryBytes'),
    plausibility(`${path}.peakFlopsPerSecond`, d.peakFlopsPerSecond, 'flopsPerSecond'),
    plausibility(`${path}.memoryBandwidthBytesPerSecond`, d.memoryBandwidthBytesPerSecond, 'bytesPerSecond'),
    plausibility(`${path}.activePowerWatts`, d.activePowerWatts, 'watts'),
    plausibility(`${path}.transmitPowerWatts`, d.transmitPowerWatts, 'watts'),
  ];
}

export function splitFinetuneWarnings(problem: SplitFinetuneProblem): InputWarning[] {
  const checks: (InputWarning | null)[] = [...deviceChecks('$.server.device', problem.server)];
  problem.clients.forEach((c, i) => {
    const at = `$.clients[${i}]`;
    const link = c.radio !== null ? `${at}.radio (whole-cell rate)` : `${at}.link`;
    checks.push(
      ...deviceChecks(`${at}.device`, c.device),
      // A cell client's link is the whole cell at its spectral efficiency (the cell's latency).
      plausibility(`${link}.uplinkBitsPerSecond`, c.link.uplinkBitsPerSecond, 'bitsPerSecond'),
      plausibility(`${link}.downlinkBitsPerSecond`, c.link.downlinkBitsPerSecond, 'bitsPerSecond'),
      plausibility(`${link}.latencySeconds`, c.link.latencySeconds, 'seconds'),
      plausibility(`${at}.receivePowerWatts`, c.receivePowerWatts, 'watts'),
    );
    if (c.energyBudgetJoulesPerRound !== undefined)
      checks.push(plausibility(`${at}.energyBudgetJoulesPerRound`, c.energyBudgetJoulesPerRound, 'joules'));
  });
  // The per-subchannel rate a client sees: a fraction that makes it absurd is worth a remark too.
  problem.clients.forEach((c, i) =>
    checks.push(
      plausibility(
        c.radio !== null
          ? `$.clients[${i}].radio (rate of one resource block)`
          : `$.clients[${i}].link.uplinkBitsPerSecond × $.subchannelRateFraction`,
        c.link.uplinkBitsPerSecond * problem.subchannelRateFraction,
        'bitsPerSecond',
      ),
    ),
  );
  return collectWarnings(checks);
}
