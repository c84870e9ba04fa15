// The platform prelude of `iorr live --platform file.jsonl` and `iorr record
// --platform file.jsonl`: the host's IOMMU, its devices and module parameters
// (`host.iommu`, `host.device`, `param` events, one JSON object a line; blank
// lines and `//` comments as in a trace), folded before the program starts so
// that /dev/vfio/devices/vfioN exists for it, and kept first in the session.

import { Effect } from "effect";
import { readFileSync } from "node:fs";
import { EventError } from "../model/events.ts";
import { BadInput } from "../model/framework.ts";
import { parseTraceEvent } from "../model/ops.ts";
import { fileError } from "../trace/jsonl.ts";

/** The ops a prelude may hold: the platform, nothing a program does. */
export const PLATFORM_OPS: readonly string[] = ["host.iommu", "host.device", "param"];

/** The prelude's events, raw and checked as a trace's are; none without the flag. */
export function readPlatform(command: string, flag: string | true | undefined): Effect.Effect<Record<string, unknown>[], BadInput> {
  return Effect.try({
    try: () => {
      if (flag === undefined) return [];
      if (flag === true) throw new BadInput({ file: command, field: "--platform", message: "needs a file name" });
      let text: string;
      try {
        text = readFileSync(flag, "utf8");
      } catch (e) {
        throw new BadInput({ file: flag, message: fileError(e as NodeJS.ErrnoException) });
      }
      const out: Record<string, unknown>[] = [];
      for (const [i, line] of text.split("\n").entries()) {
        const t = line.trim();
        if (t === "" || t.startsWith("//")) continue;
        let raw: unknown;
        try {
          raw = JSON.parse(t);
        } catch (e) {
          throw new BadInput({ file: flag, line: i + 1, message: `not JSON: ${(e as Error).message}` });
        }
        if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new BadInput({ file: flag, line: i + 1, message: "expected a JSON object" });
        const op = (raw as Record<string, unknown>).op;
        if (typeof op !== "string" || !PLATFORM_OPS.includes(op))
          throw new BadInput({
            file: flag,
            line: i + 1,
            field: "op",
            message: `a platform prelude holds ${PLATFORM_OPS.join(", ")} events, got ${JSON.stringify(op)}`,
          });
        try {
          parseTraceEvent(raw as Record<string, unknown>, out.length + 1);
        } catch (e) {
          if (e instanceof EventError) throw new BadInput({ file: flag, line: i + 1, seq: out.length + 1, field: e.field, message: e.message });
          throw e;
        }
        out.push(raw as Record<string, unknown>);
      }
      return out;
    },
    catch: (e) => (e instanceof BadInput ? e : new BadInput({ file: command, field: "--platform", message: String(e) })),
  });
}
