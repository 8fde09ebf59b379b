/**
 * The one rule for a memory budget a user writes beside a device that runs under a runtime:
 * moe-placement's and split-moe's `servers[].expertMemoryBytes`, split-moe's `classes[].memoryBytes`,
 * agent-placement's `servers[].memoryBytes` and `users[].memoryBytes` (docs/cost-model.md, "Runtimes
 * in the families").
 *
 * The device is taken as its runtime leaves it (`deviceUnderRuntime`: share × memory − fixed
 * overhead, the runtime's host time per call). A runtime that leaves nothing is bad input at the
 * runtime's path; a budget above what is left is bad input at the budget's path. A budget is never
 * lowered silently: a user who wrote 75 GB for experts and gets a plan for 70.5 GB has been told
 * nothing, while a one-line refusal names both numbers and the field to change.
 */
import type { DeviceSpec } from './device.ts';
import { runtimeOverheadBytes, type RuntimeSpec } from './runtime.ts';
import { deviceUnderRuntime } from './runtime-time.ts';
import { InputError } from '../errors.ts';

/** JSON paths the two refusals name. */
export interface BudgetPaths {
  /** Where the runtime was given (a per-device override or the problem's `$.runtime`). */
  readonly runtime: string;
  /** Where the budget was given (e.g. `$.servers[2].expertMemoryBytes`). */
  readonly budget: string;
}

export interface DeviceBudget {
  /** The device as its runtime leaves it (deviceUnderRuntime); the device as given without a runtime. */
  readonly device: DeviceSpec;
  /** The budget given, or all the memory the runtime leaves when none was given. */
  readonly memoryBytes: number;
}

/** `device` under `runtime` with the user's `budgetBytes` checked against what is left (module comment). */
export function deviceWithBudget(
  device: DeviceSpec,
  runtime: RuntimeSpec | null,
  budgetBytes: number | undefined,
  paths: BudgetPaths,
): DeviceBudget {
  const left = deviceUnderRuntime(device, runtime);
  if (runtime !== null && left.memoryBytes <= 0)
    throw new InputError(
      paths.runtime,
      `runtime "${runtime.id}" leaves no memory on ${device.name} (its overhead exceeds its share)`,
    );
  if (budgetBytes !== undefined && budgetBytes > left.memoryBytes) {
    const overhead = runtime === null ? 0 : runtimeOverheadBytes(runtime, device.unifiedMemory === true);
    const what =
      runtime === null
        ? `the device memory of ${device.name}`
        : `the memory runtime "${runtime.id}" leaves on ${device.name} ` +
          `(${runtime.memoryUtilization} × ${device.memoryBytes} − ${overhead} overhead)`;
    throw new InputError(paths.budget, `${budgetBytes} bytes exceeds ${what}: ${left.memoryBytes} bytes`);
  }
  return { device: left, memoryBytes: budgetBytes ?? left.memoryBytes };
}
