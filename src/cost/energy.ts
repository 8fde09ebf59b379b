/** Device energy: compute time at active power plus radio time at transmit power. */
import type { DeviceSpec } from './device.ts';

export function computeEnergyJoules(device: DeviceSpec, computeSeconds: number): number {
  return device.activePowerWatts * computeSeconds;
}

export function transmitEnergyJoules(device: DeviceSpec, transmitSeconds: number): number {
  return device.transmitPowerWatts * transmitSeconds;
}

