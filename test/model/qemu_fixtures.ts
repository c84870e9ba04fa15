// Shared by the qemu_*.test.ts and vtd_*.test.ts files: hosts, a guest, and the simulator-fault probe.
import { Effect, Exit } from "effect";
import { ProfileService } from "../../src/model/framework.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { replay } from "../../src/replay/engine.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";
import { parseAll } from "../helpers.ts";

/** The simulator fault (kind and message, as JSON) a run ends with; throws when it ends without one. */
export function faultOf(raw: Record<string, unknown>[], profile: string[] = ["linux-mainline"]): string {
  const exit = Effect.runSyncExit(
    replay({ verify: true }).pipe(
      Effect.provideService(Trace, memorySource("t", { format: "iorr-trace", version: 1 }, parseAll(raw))),
      Effect.provideService(ProfileService, resolveProfile(profile)),
    ),
  );
  if (Exit.isSuccess(exit)) throw new Error("expected a simulator fault");
  return JSON.stringify(exit.cause);
}

/** VT-d host registers: MGAW 47 (48 bits) or 38, with or without FS1GP (bit 56), NEST (ECAP bit 26), PASID with PSS. */
export const HOST_CAP_AW48 = "0x00d2008c406f0462";
export const HOST_CAP_AW48_FS1GP = "0x01d2008c406f0462";
export const HOST_CAP_AW39 = "0x00d2008c40660462";
export const HOST_ECAP = "0xf0101efe";
export const HOST_ECAP_NEST = "0xf4101efe";
/** NEST, ECAP.PASID and PSS 7: 8-bit PASIDs. */
export const HOST_ECAP_NEST_PASID8 = "0x138f4101efe";

export const FLTS = { "x-scalable-mode": true, "x-flts": true, "caching-mode": true };

/** A QEMU process with 4 MiB of guest RAM at gpa 0 (host pa 4 GiB), QEMU's default intel-iommu and an e1000e at 00:03.0 behind it. */
export const VTD_GUEST: readonly Record<string, unknown>[] = [
  { op: "process", pid: 1 },
  { op: "mem.map", pid: 1, va: "0x7f0000000000", length: "0x400000", pa: "0x100000000" },
  { op: "qemu.machine", pid: 1, ram: [{ gpa: 0, size: "0x400000", va: "0x7f0000000000" }] },
  { op: "qemu.viommu", pid: 1, model: "intel-iommu" },
  { op: "qemu.device", pid: 1, guest_bdf: "00:03.0", model: "e1000e" },
];
