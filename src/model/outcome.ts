// Outcomes (docs/trace-format.md "Outcomes and expect") and the comparison that
// `replay --verify` makes: only the fields `expect` lists are checked, `out`
// objects likewise, integers compare numerically whatever their spelling, and
// a flag or enumeration member of `out` may be given by name.

import { commandByName, commandsByNumber, UAPI_COMMANDS } from "../uapi/index.ts";
import { fieldToBigInt, LayoutError, type FieldDef, type FieldValue, type StructDef } from "../uapi/layout.ts";
import { isStateData } from "./hash.ts";

export type OutValue = number | string | bigint | boolean | null | readonly OutValue[] | { readonly [k: string]: OutValue };

export interface Outcome {
  ret?: number;
  out?: Record<string, OutValue>;
  errno?: string;
  fd?: number;
  value?: number | string;
  pa?: number | string;
  /** dma by an emulated device: the host physical address the guest-physical `pa` lands on (an iorr extension). */
  hpa?: number | string;
  page_size?: number | string;
  perm?: string;
  fault?: string;
  ok?: true;
  error?: string;
  abort?: string;
  /** What QEMU printed with error_report/warn_report during the event (its realize went on). */
  messages?: string[];
  /** Checks a profile adds (switch vpasid-nonzero-finding): what they found. */
  findings?: string[];
}

export type Expect = Record<string, unknown>;

/** Every key an outcome (and so an `expect`) may have. */
export const OUTCOME_KEYS = [
  "ret",
  "out",
  "errno",
  "fd",
  "value",
  "pa",
  "hpa",
  "page_size",
  "perm",
  "fault",
  "ok",
  "error",
  "abort",
  "messages",
  "findings",
] as const;

export const ok = (): Outcome => ({ ok: true });
export const ret0 = (out?: Record<string, OutValue>): Outcome => (out ? { ret: 0, out } : { ret: 0 });
export const errno = (name: string): Outcome => ({ errno: name });

const INT_RE = /^(0[xX][0-9a-fA-F]+|-?[0-9]+)$/;

function asBig(v: unknown): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "string" && INT_RE.test(v)) return BigInt(v);
  return undefined;
}

/** Does `actual` satisfy `expected`? `true` in expect only asks that the field be present. */
export function valueMatches(expected: unknown, actual: unknown): boolean {
  // The common case first: the same primitive (numbers, errno names) costs no conversion.
  if (expected === actual) return true;
  if (expected === true && actual !== undefined && actual !== false) return true;
  if (actual === undefined) return false;
  if (typeof expected === "number" && typeof actual === "number") return false;
  const eb = asBig(expected);
  const ab = asBig(actual);
  if (eb !== undefined && ab !== undefined) return eb === ab;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    return expected.every((e, i) => valueMatches(e, actual[i]));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([k, e]) => valueMatches(e, (actual as Record<string, unknown>)[k]));
  }
  return expected === actual;
}

/** What an event says about the struct its outcome's `out` holds (an ioctl's `cmd`). */
export interface OutOf {
  readonly op: string;
  readonly cmd?: unknown;
}

/**
 * The first expect field the outcome does not satisfy, or undefined when it
 * matches. `ev`, the event, lets `out` members be compared by flag or value name.
 */
export function firstMismatch(expected: Expect, actual: Outcome, ev?: OutOf): string | undefined {
  for (const k in expected) {
    const e = expected[k];
    if (k === "out" && e !== null && typeof e === "object" && !Array.isArray(e)) {
      // The member that differs, so that a divergence names it (out.out_ioas_id), or "out" when there is no out at all.
      const member = outMismatch(e as Record<string, unknown>, actual.out, ev);
      if (member !== undefined) return member === "" ? k : `out.${member}`;
    } else if (!valueMatches(e, (actual as Record<string, unknown>)[k])) return k;
  }
  return undefined;
}

/** The structs an ioctl's `out` members belong to: its command's, or for a number every command it may mean. */
function outStructs(ev: OutOf | undefined): StructDef[] {
  if (ev?.op !== "ioctl") return [];
  const defs = typeof ev.cmd === "string" ? [commandByName(ev.cmd)] : typeof ev.cmd === "number" ? commandsByNumber(ev.cmd) : [];
  return defs.flatMap((d) => (d?.arg.kind === "struct" ? [d.arg.struct] : []));
}

/** The members `key` names in these structs that have a flag or enumeration table (names to resolve). */
function namedMembers(structs: readonly StructDef[], key: string): FieldDef[] {
  const out: FieldDef[] = [];
  for (const s of structs) {
    const f = s.byName.get(key);
    if (f && (f.flags || f.values)) out.push(f);
  }
  return out;
}

/** An expected member given by names (["READ","WRITE"], "VTD_S1") against the number the kernel wrote back. */
function namedMatches(e: unknown, actual: unknown, key: string, structs: readonly StructDef[]): boolean {
  const a = asBig(actual);
  if (a === undefined) return false;
  return namedMembers(structs, key).some((f) => {
    try {
      return fieldToBigInt(f, e as FieldValue) === a;
    } catch (x) {
      if (x instanceof LayoutError) return false;
      throw x;
    }
  });
}

/** Every spelling of a struct member across the modelled kernel versions (`out_length` of the no-IOMMU V4 is `length`). */
export const MEMBER_ALIASES: ReadonlyMap<string, readonly string[]> = (() => {
  const m = new Map<string, string[]>();
  for (const d of UAPI_COMMANDS) {
    if (d.arg.kind !== "struct") continue;
    for (const f of d.arg.struct.fields)
      for (const a of f.aliases ?? []) {
        m.set(a, [...(m.get(a) ?? []), f.name]);
        m.set(f.name, [...(m.get(f.name) ?? []), a]);
      }
  }
  return m;
})();

/**
 * `out` members may be named as the trace format allows for arguments: a member of
 * a nested struct or union by its dotted path ("alloc_pasid.result") or by its own
 * name when that is unambiguous ("result"), and in the spelling of any modelled
 * kernel version; any spelling matches any.
 */
/** The first expected `out` member the outcome does not match ("" when there is no `out`), or undefined. */
function outMismatch(expected: Record<string, unknown>, actual: Record<string, OutValue> | undefined, ev: OutOf | undefined): string | undefined {
  if (!actual) return "";
  const keys = Object.keys(actual);
  let structs: StructDef[] | undefined;
  for (const [k, e] of Object.entries(expected)) {
    let a: unknown = actual[k];
    if (a === undefined) {
      const own = k.slice(k.lastIndexOf(".") + 1);
      const names = [own, ...(MEMBER_ALIASES.get(own) ?? [])];
      const candidates = keys.filter((x) => names.some((n) => x === n || x.endsWith(`.${n}`)));
      if (candidates.length === 1) a = actual[candidates[0]!];
    }
    if (valueMatches(e, a)) continue;
    // Names resolve through the member's own table only when the plain comparison fails: the common case costs nothing.
    structs ??= outStructs(ev);
    if (!namedMatches(e, a, k, structs)) return k;
  }
  return undefined;
}

/** A JSON-safe copy (bigint as a number when exact, else hex; a state-data instance as its data, hash.ts). */
export function toJsonValue(v: unknown): unknown {
  if (typeof v === "bigint") return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : `0x${v.toString(16)}`;
  if (v instanceof Uint8Array) return { hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[String(k)] = toJsonValue(x);
    return o;
  }
  if (v !== null && typeof v === "object") {
    if (isStateData(v)) return toJsonValue(v.toStateData());
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = toJsonValue(x);
    return o;
  }
  return v;
}
