// Shared by the qemu_*.test.ts files: hosts and the simulator-fault probe.
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
