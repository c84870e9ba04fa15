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

function toBig(field: FieldDef, v: number | bigint | string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new LayoutError(field.name, `expected an integer, got ${v}`);
    return BigInt(v);
  }
  if (field.values) {
    if (v in field.values) return BigInt(field.values[v]!);
    const byTail = uniqueSuffix(Object.keys(field.values), v);
    if (byTail !== undefined) return BigInt(field.values[byTail]!);
  }
  if (field.flags) {
    const bit = lookupFlag(field.flags, v);
    if (bit !== undefined) return BigInt(bit);
  }
  if (/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return BigInt(v);
  if (/^-[0-9]+$/.test(v)) return BigInt(v);
  throw new LayoutError(field.name, `unknown value "${v}"`);
}

function lookupFlag(table: FlagTable, name: string): number | undefined {
  if (name in table.bits) return table.bits[name];
  if (name.startsWith(table.prefix)) {
    const short = name.slice(table.prefix.length);
    if (short in table.bits) return table.bits[short];
  }
  const byTail = uniqueSuffix(Object.keys(table.bits), name);
  return byTail === undefined ? undefined : table.bits[byTail];
}

/**
 * The one name that ends with `_<short>`: a trace may drop any leading part of a
 * uAPI name as long as what is left names one value ("NEST_PARENT" for
 * IOMMU_HWPT_ALLOC_NEST_PARENT, "VTD_S1" for IOMMU_HWPT_DATA_VTD_S1).
 */
function uniqueSuffix(names: readonly string[], short: string): string | undefined {
  const hits = names.filter((n) => n.endsWith(`_${short}`));
  return hits.length === 1 ? hits[0] : undefined;
}

/** The numeric value of a member given as a number, a named value, or a list of flag names. */
export function fieldToBigInt(field: FieldDef, v: FieldValue): bigint {
  if (Array.isArray(v)) {
    if (!field.flags && !field.count) throw new LayoutError(field.name, "a list is only accepted for a flag field");
    let acc = 0n;
    for (const item of v as readonly (number | bigint | string)[]) acc |= toBig(field, item);
    return acc;
  }
  return toBig(field, v as number | bigint | string);
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
      items.forEach((item, i) => writeScalar(view, f.offset + i * elem, f.type, f, toBig(f, item)));
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
