// Parse-time check of an ioctl's expected `out` (docs/trace-format.md
// "Outcomes and expect"): a member of the command's struct holds what the
// kernel can write back there, a value of the member's C type. Flag and
// enumeration members may be given by name (the parser that encodes
// arguments reads them); a number must fit the member (-1 for a __u32, 1.5,
// 2^64 never match anything the kernel writes, so they are typos). A name that
// is no member of the struct (in any spelling) nor an inline reply (`data`,
// `caps`, `allowed_iovas`, compared as given) is a typo too.

import type { UapiCommand } from "../../uapi/commands.ts";
import { commandByName, commandsByNumber } from "../../uapi/index.ts";
import { fieldToBigInt, LayoutError, type FieldDef, type FieldValue, type ScalarType, type StructDef } from "../../uapi/layout.ts";
import { EventError, type TraceEvent } from "../events.ts";
import { MEMBER_ALIASES } from "../outcome.ts";
import { closestName, describe } from "../values.ts";

/** What a reply may hold besides the struct's members: inline data the kernel wrote (hw_info and driver data, the dirty bitmap), VFIO capability chains, IOVA ranges. */
const OUT_EXTRAS = ["data", "caps", "allowed_iovas"];

/** Pointer members whose memory the kernel filled: `out` holds that data instead of the pointer. */
const OUT_PAYLOADS: Readonly<Record<string, readonly string[]>> = {
  IOMMU_IOAS_IOVA_RANGES: ["allowed_iovas"], // struct iommu_iova_range[num_iovas]
  IOMMU_HWPT_GET_DIRTY_BITMAP: ["data"], // the bitmap, u64 words
};

/** The values a member of C type `t` can hold: what copy_to_user can hand back. */
const RANGE: Record<ScalarType, readonly [bigint, bigint]> = {
  u8: [0n, 0xffn],
  u16: [0n, 0xffffn],
  u32: [0n, 0xffffffffn],
  s32: [-(1n << 31n), (1n << 31n) - 1n],
  u64: [0n, (1n << 64n) - 1n],
  s64: [-(1n << 63n), (1n << 63n) - 1n],
};

/** The commands an event's `cmd` may mean: by name one, by number every command with that number. */
function commandsOf(cmd: unknown): UapiCommand[] {
  if (typeof cmd === "string") {
    const d = commandByName(cmd);
    return d ? [d] : [];
  }
  return typeof cmd === "number" ? commandsByNumber(cmd) : [];
}

/** One scalar the member can hold (a number, an integer string, or one of its names); throws LayoutError. */
function checkScalar(f: FieldDef, v: unknown, what: string): void {
  if (typeof v !== "number" && typeof v !== "string" && !(Array.isArray(v) && f.flags))
    throw new LayoutError(
      f.name,
      `${what}expected ${f.flags ? "a number or a list of flag names" : f.values ? "a number or a name" : "an integer"}, got ${describe(v)}`,
    );
  const n = fieldToBigInt(f, v as FieldValue);
  const [lo, hi] = RANGE[f.type];
  if (n < lo || n > hi) throw new LayoutError(f.name, `${what}${n} is not a value of a ${f.type} member (${lo}..${hi})`);
}

/** Does `v` hold what member `f` of command `d` can come back as? Throws LayoutError when not. */
function checkMember(d: UapiCommand, f: FieldDef, key: string, v: unknown): void {
  if (OUT_PAYLOADS[d.name]?.includes(key) && v !== null && typeof v === "object") return;
  if (f.count === undefined) {
    checkScalar(f, v, "");
    return;
  }
  if (!Array.isArray(v)) throw new LayoutError(f.name, `expected a list of ${f.count} values, got ${describe(v)}`);
  if (v.length > f.count) throw new LayoutError(f.name, `expected a list of ${f.count} values, got ${v.length}`);
  for (const [i, x] of v.entries()) checkScalar(f, x, `element ${i}: `);
}

/** Can `key` name something of these structs' replies: a member in any spelling (outMismatch in outcome.ts), or an inline extra? */
function isMemberName(structs: readonly StructDef[], key: string): boolean {
  if (OUT_EXTRAS.includes(key)) return true;
  const own = key.slice(key.lastIndexOf(".") + 1);
  const names = [key, own, ...(MEMBER_ALIASES.get(own) ?? [])];
  return structs.some((s) => names.some((n) => s.byName.has(n) || s.fields.some((f) => f.name.endsWith(`.${n}`))));
}

/**
 * Check `expect.out` of an ioctl event against its command's struct (for a
 * `cmd` given as a number, any command it may mean). Throws EventError naming
 * `expect.out.MEMBER`. `true` only asks that the member be present.
 */
export function checkExpectOut(ev: TraceEvent): void {
  const out = ev.expect?.out;
  if (out === undefined || out === true) return;
  const defs = commandsOf(ev.cmd).filter((d) => d.arg.kind === "struct");
  const structs = defs.flatMap((d) => (d.arg.kind === "struct" ? [d.arg.struct] : []));
  if (structs.length === 0) return;
  for (const [key, v] of Object.entries(out as Record<string, unknown>)) {
    if (!isMemberName(structs, key)) {
      const near = closestName(key, [...new Set([...structs.flatMap((s) => [...s.byName.keys()]), ...OUT_EXTRAS])]);
      throw new EventError(`expect.out.${key}`, `${structs.map((s) => s.name).join(" / ")} has no member "${key}"${near ? ` (did you mean "${near}"?)` : ""}`);
    }
    if (v === true) continue;
    let first: LayoutError | undefined;
    let fits = false;
    for (const d of defs) {
      const f = d.arg.kind === "struct" ? d.arg.struct.byName.get(key) : undefined;
      if (!f) continue;
      try {
        checkMember(d, f, key, v);
        fits = true;
        break;
      } catch (e) {
        if (!(e instanceof LayoutError)) throw e;
        first ??= e;
      }
    }
    if (!fits && first) throw new EventError(`expect.out.${key}`, first.message);
  }
}
