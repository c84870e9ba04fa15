// The scenarios `iorr record --scenario` knows, by name.

import { noiommuDpdk } from "./noiommu_dpdk.ts";
import type { Scenario } from "./scenario.ts";
import { vtdEmulatedBoot } from "./vtd_emulated_boot.ts";

export const SCENARIOS: readonly Scenario[] = [vtdEmulatedBoot, noiommuDpdk];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
