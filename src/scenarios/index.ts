// The scenarios `iorr record --scenario` knows, by name.

import { noiommuDpdk } from "./noiommu_dpdk.ts";
import { pasidQuotaStorm } from "./pasid_quota_storm.ts";
import type { Scenario } from "./scenario.ts";
import { vtdEmulatedBoot } from "./vtd_emulated_boot.ts";
import { vtdPassthroughBoot } from "./vtd_passthrough_boot.ts";

export const SCENARIOS: readonly Scenario[] = [vtdPassthroughBoot, vtdEmulatedBoot, noiommuDpdk, pasidQuotaStorm];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
