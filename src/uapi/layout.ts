// Byte-exact struct layouts, described once as data and used by every codec.
//
// A struct is a list of members laid out as gcc lays out the kernel's uAPI
// structs on x86_64: each scalar aligned to its size (the uAPI uses
// __aligned_u64, so u64 is 8-aligned everywhere), the struct size rounded up to
// its largest alignment. Union members and nested structs are written as
// members with an explicit offset (`at`) and a dotted name ("alloc_pasid.min").

export type ScalarType = "u8" | "u16" | "u32" | "s32" | "u64" | "s64";

const SCALAR_SIZE: Record<ScalarType, number> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, s64: 8 };

/** Named bits a flag field accepts; names are written without the common prefix. */
export interface FlagTable {
  readonly prefix: string;
  readonly bits: Readonly<Record<string, number>>;
}

/** Named values an enum-like field accepts (option ids, data types, ...). */
export type EnumTable = Readonly<Record<string, number>>;

export interface FieldDef {
  /** Kernel member name; nested members are dotted ("alloc_pasid.min"). */
  readonly name: string;
  readonly type: ScalarType;
  readonly offset: number;
  /** Size in bytes of the whole member (element size times count). */
  readonly size: number;
  /** Array members (`__u32 idr[6]`) have a count; scalars have none. */
  readonly count?: number;
  readonly flags?: FlagTable;
  readonly values?: EnumTable;
  /** Spellings of this member in other modelled kernel versions (e.g. `out_length`). */
  readonly aliases?: readonly string[];
}

export interface StructDef {
  readonly name: string;
  /** sizeof(struct), as gcc computes it. */
  readonly size: number;
  readonly align: number;
  readonly fields: readonly FieldDef[];
  /** Every accepted spelling of a member: full dotted name, alias, or last component when unambiguous. */
  readonly byName: ReadonlyMap<string, FieldDef>;
}

export interface MemberOptions {
  /** Explicit offset, for union members. */
  at?: number;
  count?: number;
  flags?: FlagTable;
  values?: EnumTable;
  aliases?: readonly string[];
}

export type MemberSpec = readonly [ScalarType, string] | readonly [ScalarType, string, MemberOptions];

export function flagTable(prefix: string, bits: Record<string, number>): FlagTable {
  return { prefix, bits };
}

/** Lay out a struct from its members in declaration order. */
export function defineStruct(name: string, members: readonly MemberSpec[], opts: { size?: number } = {}): StructDef {
  const fields: FieldDef[] = [];
  let cursor = 0;
  let align = 1;
  for (const m of members) {
    const [type, fieldName, mo = {}] = m as readonly [ScalarType, string, MemberOptions?];
    const elem = SCALAR_SIZE[type];
    const count = mo.count;
    const size = elem * (count ?? 1);
    let offset: number;
    if (mo.at !== undefined) {
      offset = mo.at;
    } else {
      offset = Math.ceil(cursor / elem) * elem;
    }
    if (offset % elem !== 0) throw new Error(`${name}.${fieldName}: offset ${offset} not aligned to ${elem}`);
    align = Math.max(align, elem);
    cursor = Math.max(cursor, offset + size);
    fields.push({
      name: fieldName,
      type,
      offset,
      size,
      ...(count !== undefined ? { count } : {}),
      ...(mo.flags ? { flags: mo.flags } : {}),
      ...(mo.values ? { values: mo.values } : {}),
      ...(mo.aliases ? { aliases: mo.aliases } : {}),
    });
  }
  const natural = Math.ceil(cursor / align) * align;
  const size = opts.size ?? natural;
  if (size < natural) throw new Error(`${name}: declared size ${size} < laid out ${natural}`);
  return { name, size, align, fields, byName: indexNames(name, fields) };
}

function indexNames(structName: string, fields: readonly FieldDef[]): Map<string, FieldDef> {
  const byName = new Map<string, FieldDef>();
  const lastCounts = new Map<string, number>();
  for (const f of fields) {
    const last = f.name.slice(f.name.lastIndexOf(".") + 1);
    lastCounts.set(last, (lastCounts.get(last) ?? 0) + 1);
  }
  for (const f of fields) {
    byName.set(f.name, f);
    for (const a of f.aliases ?? []) {
      if (byName.has(a) && byName.get(a) !== f) throw new Error(`${structName}: alias ${a} is ambiguous`);
      byName.set(a, f);
    }
    const last = f.name.slice(f.name.lastIndexOf(".") + 1);
    if (last !== f.name && lastCounts.get(last) === 1 && !byName.has(last)) byName.set(last, f);
  }
  return byName;
}

/** offsetofend(struct, member): the kernel's minimum-size rule. */
export function offsetofend(def: StructDef, member: string): number {
  const f = def.byName.get(member);
  if (!f) throw new Error(`${def.name} has no member ${member}`);
  return f.offset + f.size;
}

/** Raised for a value a struct cannot take; callers turn it into bad input naming the field. */
export class LayoutError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export type FieldValue = number | bigint | string | readonly (number | bigint | string)[];

const U64_MAX = (1n << 64n) - 1n;

const INT_LITERAL = /^(0[xX][0-9a-fA-F]+|-?[0-9]+)$/;

/** What a trace is told about an integer JSON.parse could not hold exactly (beyond 2^53-1, already rounded). */
export function inexactNumberMessage(value: number): string {
  return `a JSON number this large is not exact (it reads as ${value}): write the integer as a string, "0x..." or decimal`;
}

/** A value as bad-input messages show it. */
function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `"${v}"`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

/**
 * The one value `name` stands for among uAPI names (`prefix` + each key): the
 * key itself, the full name, or any tail after a "_" that names exactly one
 * value (a trace may drop any leading part of a uAPI name, "NEST_PARENT" for
 * IOMMU_HWPT_ALLOC_NEST_PARENT, "VTD_S1" for IOMMU_HWPT_DATA_VTD_S1).
 */
function lookupName(names: Readonly<Record<string, number>>, prefix: string, name: string): number | undefined {
  if (Object.hasOwn(names, name)) return names[name];
  const keys = Object.keys(names);
  const full = keys.filter((k) => prefix + k === name);
  if (full.length === 1) return names[full[0]!];
  const tails = keys.filter((k) => (prefix + k).endsWith(`_${name}`));
  return tails.length === 1 ? names[tails[0]!] : undefined;
}

/** A number, an integer string, or (with a table) a name: one element of a flag list, or a scalar. */
function oneValue(v: unknown, field: string, flags: FlagTable | undefined, values: EnumTable | undefined, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (Number.isSafeInteger(v)) return BigInt(v);
    // Beyond 2^53 JSON.parse has rounded the number already: only a string holds it exactly.
    if (Number.isInteger(v) || !Number.isFinite(v)) throw new LayoutError(field, `${what}${inexactNumberMessage(v)}`);
    throw new LayoutError(field, `${what}expected an integer, got ${v}`);
  }
  if (typeof v !== "string")
    throw new LayoutError(field, `${what}expected ${flags ? "a flag name or " : values ? "a name or " : ""}an integer, got ${show(v)}`);
  if (INT_LITERAL.test(v)) return BigInt(v);
  const named = (values && lookupName(values, "", v)) ?? (flags && lookupName(flags.bits, flags.prefix, v));
  if (named !== undefined) return BigInt(named);
  if (flags) throw new LayoutError(field, `${what}unknown flag "${v}" (${flags.prefix}*: ${Object.keys(flags.bits).join(", ")})`);
  throw new LayoutError(field, `${what}unknown value "${v}"${values ? ` (known: ${Object.keys(values).join(", ")})` : ""}`);
}

/**
 * The value of a flag field, the one parser every flag field of a trace goes
 * through (ioctl arguments, op fields such as host.device regions[].flags,
 * expected `out` members): a number (or integer string), a flag name, or a
 * list of flag names and numbers, ORed. Names resolve through `table` (and
 * `values`, for a member that also carries an enumeration, as
 * vfio_device_feature.flags does). Anything else is a LayoutError naming `field`.
 */
export function parseFlags(v: unknown, table: FlagTable, field: string, values?: EnumTable): bigint {
  if (!Array.isArray(v)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "bigint") return oneValue(v, field, table, values, "");
    throw new LayoutError(field, `expected a number or a list of ${table.prefix}* names, got ${show(v)}`);
  }
  let acc = 0n;
  for (const [i, item] of v.entries()) acc |= oneValue(item, field, table, values, `element ${i}: `);
  return acc;
}

/** The bits of `v` that `table` has no name for (0n when every bit set is named). */
export function unnamedBits(table: FlagTable, v: bigint): bigint {
  let known = 0n;
  for (const b of Object.values(table.bits)) known |= BigInt(b);
  return v & ~known;
}

/** The names (without prefix, in table order) of the bits set in `v`. */
export function flagNames(table: FlagTable, v: number | bigint): string[] {
  const n = BigInt(v);
  return Object.entries(table.bits)
    .filter(([, b]) => (n & BigInt(b)) !== 0n)
    .map(([k]) => k);
}

/** The numeric value of a member given as a number, a named value, or a list of flag names. */
export function fieldToBigInt(field: FieldDef, v: FieldValue): bigint {
  if (field.flags) return parseFlags(v, field.flags, field.name, field.values);
  if (Array.isArray(v)) throw new LayoutError(field.name, "a list is only accepted for a flag field");
  return oneValue(v, field.name, undefined, field.values, "");
}

function range(type: ScalarType): [bigint, bigint] {
  switch (type) {
    case "u8":
      return [0n, 0xffn];
    case "u16":
      return [0n, 0xffffn];
    case "u32":
      return [-(1n << 31n), 0xffffffffn]; // negative u32 values wrap, as C's implicit conversion does
    case "s32":
      return [-(1n << 31n), 0xffffffffn];
    case "u64":
      return [-(1n << 63n), U64_MAX];
    case "s64":
      return [-(1n << 63n), U64_MAX];
  }
}

function writeScalar(view: DataView, offset: number, type: ScalarType, field: FieldDef, v: bigint): void {
  const [lo, hi] = range(type);
  if (v < lo || v > hi) throw new LayoutError(field.name, `value ${v} does not fit in ${type}`);
  switch (type) {
    case "u8":
      view.setUint8(offset, Number(v));
      return;
    case "u16":
      view.setUint16(offset, Number(v), true);
      return;
    case "u32":
    case "s32":
      view.setUint32(offset, Number(BigInt.asUintN(32, v)), true);
      return;
    case "u64":
    case "s64":
      view.setBigUint64(offset, BigInt.asUintN(64, v), true);
      return;
  }
}

/**
 * Encode named members into the struct's bytes. `length` is the size of the
 * user buffer (the struct's `size`/`argsz` as the caller set it); bytes past it
 * are not part of what the caller passes, exactly as with a shorter old struct.
 */
export function encodeStruct(def: StructDef, arg: Readonly<Record<string, FieldValue>>, length = def.size): Uint8Array {
  const buf = new Uint8Array(Math.max(length, def.size));
  const view = new DataView(buf.buffer);
  for (const [key, value] of Object.entries(arg)) {
    const f = def.byName.get(key);
    if (!f) throw new LayoutError(key, `${def.name} has no member "${key}"`);
    if (f.count !== undefined) {
      if (!Array.isArray(value)) throw new LayoutError(key, `expected a list of ${f.count} values`);
      const items = value as readonly (number | bigint | string)[];
      if (items.length > f.count) throw new LayoutError(key, `at most ${f.count} values`);
      const elem = f.size / f.count;
      for (const [i, item] of items.entries()) writeScalar(view, f.offset + i * elem, f.type, f, oneValue(item, f.name, f.flags, f.values, `element ${i}: `));
      continue;
    }
    writeScalar(view, f.offset, f.type, f, fieldToBigInt(f, value));
  }
  return length === buf.length ? buf : buf.slice(0, length);
}

export type Decoded = Record<string, number | bigint | (number | bigint)[]>;

function readScalar(view: DataView, offset: number, type: ScalarType): number | bigint {
  switch (type) {
    case "u8":
      return view.getUint8(offset);
    case "u16":
      return view.getUint16(offset, true);
    case "u32":
      return view.getUint32(offset, true);
    case "s32":
      return view.getInt32(offset, true);
    case "u64":
      return view.getBigUint64(offset, true);
    case "s64":
      return view.getBigInt64(offset, true);
  }
}

/** Decode every member (zero-extending a buffer shorter than the struct, as copy_struct_from_user does). */
export function decodeStruct(def: StructDef, bytes: Uint8Array): Decoded {
  let src = bytes;
  if (src.length < def.size) {
    src = new Uint8Array(def.size);
    src.set(bytes);
  }
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out: Decoded = {};
  for (const f of def.fields) {
    if (f.count !== undefined) {
      const elem = f.size / f.count;
      const arr: (number | bigint)[] = [];
      for (let i = 0; i < f.count; i++) arr.push(readScalar(view, f.offset + i * elem, f.type));
      out[f.name] = arr;
    } else {
      out[f.name] = readScalar(view, f.offset, f.type);
    }
  }
  return out;
}

/** Write one member into existing bytes (the kernel's copy_to_user of an out field). */
export function writeField(def: StructDef, bytes: Uint8Array, member: string, value: number | bigint): void {
  const f = def.byName.get(member);
  if (!f) throw new LayoutError(member, `${def.name} has no member "${member}"`);
  if (f.offset + f.size > bytes.length) return; // past the caller's size: the kernel never writes there
  writeScalar(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), f.offset, f.type, f, BigInt(value));
}
