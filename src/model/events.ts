// The events of trace format version 1 (docs/trace-format.md "Events"): one table
// of ops and their fields, used to validate and normalise every event the same
// way whether it comes from JSONL or from the store.

import { CAPABILITIES } from "../uapi/capability.ts";
import { isErrnoName } from "../uapi/errno.ts";
import { IOMMU_HW_CAPS } from "../uapi/iommufd.ts";
import { inexactNumberMessage, LayoutError, parseFlags, unnamedBits, type FlagTable } from "../uapi/layout.ts";
import { VFIO_REGION_INFO_FLAGS } from "../uapi/vfio.ts";
import { OUTCOME_KEYS, type Expect } from "./outcome.ts";
import { closestName, describe, inexactNumber, parseBytes, parseGuestBdf, parseHostBdf, parseInt53, parseU64, ValueError } from "./values.ts";

export type FieldKind =
  | "int" // pid, fd, offsets: a JS number
  | "u64" // addresses and lengths: bigint
  | "string"
  | "bool"
  | "hostBdf"
  | "guestBdf"
  | "flags" // a number or a list of flag names (docs/trace-format.md "Flag fields"), normalised to the number
  | "list" // list of objects, each with the fields of `items`
  | "object"
  | "scalar" // number, string or boolean (module parameter values)
  | "any"; // checked later (ioctl arg: its meaning depends on the command)

export interface FieldSpec {
  readonly kind: FieldKind;
  readonly required?: boolean;
  /** Allowed values for a string field. */
  readonly oneOf?: readonly string[];
  readonly nullable?: boolean;
  /** A flag field's names: the uAPI's own table. */
  readonly flags?: FlagTable;
  /** A list's objects: their fields. */
  readonly items?: Readonly<Record<string, FieldSpec>>;
}

export interface OpSpec {
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** The op carries a byte string as `hex`, `u64` or `u32` (normalised to `bytes`). */
  readonly bytes?: boolean;
  /** Extra checks across fields; throw EventError. */
  readonly check?: (ev: Record<string, unknown>) => void;
}

export class EventError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const pid = { kind: "int", required: true } as const;
const int = { kind: "int" } as const;
const u64 = { kind: "u64" } as const;
const reqU64 = { kind: "u64", required: true } as const;
const reqInt = { kind: "int", required: true } as const;
const flags = (table: FlagTable): FieldSpec => ({ kind: "flags", flags: table });
const list = (items: Record<string, FieldSpec>, required = false): FieldSpec => ({ kind: "list", items, required });

/** QEMU's vIOMMU device models (TYPE_INTEL_IOMMU_DEVICE, TYPE_AMD_IOMMU_DEVICE, TYPE_ARM_SMMUV3, ...); the model has intel-iommu. */
const VIOMMU_MODELS = ["intel-iommu", "amd-iommu", "arm-smmuv3", "virtio-iommu-pci", "riscv-iommu-pci"] as const;

const HOST_IOMMU_TYPES = ["intel_vtd", "arm_smmuv3", "amd", "none", "selftest_mock"] as const;

export const OPS: Readonly<Record<string, OpSpec>> = {
  // --- platform ---
  "host.iommu": {
    fields: {
      type: { kind: "string", required: true, oneOf: HOST_IOMMU_TYPES },
      cap_reg: u64,
      ecap_reg: u64,
      aw_bits: int,
      max_pasid_log2: int,
      hw_caps: flags(IOMMU_HW_CAPS), // iommu_hw_info.out_capabilities
    },
  },
  "host.device": {
    fields: {
      bdf: { kind: "hostBdf", required: true },
      iommu: { kind: "bool" },
      group: int,
      mdev: { kind: "bool" },
      pasid: { kind: "object", nullable: true },
      ext_caps: list({ id: reqInt, ver: int, off: reqInt, size: int }),
      vf_token: { kind: "string", nullable: true },
      reset: { kind: "bool" },
      std_caps: list({ id: reqInt, off: int, size: int, ver: int }),
      regions: list({ index: reqInt, size: u64, flags: flags(VFIO_REGION_INFO_FLAGS), pa: u64 }), // vfio_region_info
      dirty_tracking: { kind: "bool" },
      cfg: list({ off: reqInt, hex: { kind: "string", required: true } }),
    },
    check: checkHostDevice,
  },
  param: { fields: { name: { kind: "string", required: true }, value: { kind: "scalar", required: true } } },
  process: { fields: { pid, caps: flags(CAPABILITIES), parent: int }, check: checkFork },
  "process.exit": { fields: { pid } },
  "process.caps": { fields: { pid, caps: { ...flags(CAPABILITIES), required: true } } },
  "mem.map": {
    fields: { pid, va: reqU64, length: reqU64, pa: u64, huge: { kind: "any" }, fd: int, offset: u64, shared: { kind: "bool" } },
    check: checkMemMap,
  },
  "mem.write": { fields: { pid, va: reqU64 }, bytes: true },
  // --- kernel system calls ---
  open: { fields: { pid, path: { kind: "string", required: true } } },
  close: { fields: { pid, fd: { kind: "int", required: true } } },
  // memfd_create(name): a shmem file at the lowest free fd ({"fd": N}); memfd.size: ftruncate (or fallocate growing it).
  memfd: { fields: { pid, name: { kind: "string" } } },
  "memfd.size": { fields: { pid, fd: { kind: "int", required: true }, size: reqU64 } },
  // An open file of a kind the model does not simulate (a regular file, a pipe), at the lowest free fd.
  file: { fields: { pid, path: { kind: "string" } } },
  read: { fields: { pid, fd: reqInt, va: reqU64, count: reqU64 } },
  write: { fields: { pid, fd: reqInt, va: reqU64, count: reqU64 } },
  poll: { fields: { pid, fd: reqInt } },
  mmap: { fields: { pid, fd: reqInt, va: reqU64, length: reqU64, offset: u64, prot: int, flags: int } },
  munmap: { fields: { pid, va: reqU64, length: reqU64 } },
  ioctl: {
    fields: { pid, fd: { kind: "int", required: true }, cmd: { kind: "any", required: true }, arg: { kind: "any" }, argHex: { kind: "string" } },
    check: (ev) => {
      if (typeof ev.cmd !== "string" && typeof ev.cmd !== "number") throw new EventError("cmd", `expected a command name or number, got ${describe(ev.cmd)}`);
      // A number may be spelled as a string like any integer ("0x3b85").
      if (typeof ev.cmd === "string" && /^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(ev.cmd)) {
        const n = BigInt(ev.cmd);
        if (n > 0xffffffffn) throw new EventError("cmd", `expected a 32-bit command number, got ${ev.cmd}`);
        ev.cmd = Number(n);
      }
      if (typeof ev.cmd === "number" && (!Number.isInteger(ev.cmd) || ev.cmd < 0 || ev.cmd > 0xffffffff))
        throw new EventError("cmd", `expected a 32-bit command number, got ${ev.cmd}`);
      if (ev.arg !== undefined && ev.argHex !== undefined) throw new EventError("argHex", "give arg or argHex, not both");
      if (ev.argHex !== undefined && !/^([0-9a-fA-F]{2})*$/.test(ev.argHex as string)) throw new EventError("argHex", "expected an even number of hex digits");
    },
  },
  // --- VMM (QEMU) behaviour ---
  "qemu.machine": {
    fields: {
      pid,
      ram: list({ gpa: reqU64, size: reqU64, va: reqU64 }, true),
      accel: { kind: "string", oneOf: ["qtest", "tcg", "kvm"] },
      kernel_irqchip: { kind: "string", oneOf: ["on", "split", "off"] },
    },
  },
  "qemu.viommu": { fields: { pid, model: { kind: "string", required: true, oneOf: VIOMMU_MODELS }, props: { kind: "object" } } },
  "qemu.device": {
    fields: {
      pid,
      guest_bdf: { kind: "guestBdf", required: true },
      model: { kind: "string", required: true },
      props: { kind: "object" },
      id: { kind: "string" }, // QEMU's `id` and `bus` properties, also accepted as fields (src/model/qemu/topology.ts)
      bus: { kind: "string" },
    },
  },
  "qemu.vfio-pci": {
    fields: {
      pid,
      host: { kind: "hostBdf", required: true },
      guest_bdf: { kind: "guestBdf", required: true },
      backend: { kind: "string", oneOf: ["iommufd", "legacy"] },
      props: { kind: "object" },
      bus: { kind: "string" },
    },
  },
  // --- guest ---
  "guest.cfg.read": {
    fields: { pid, bdf: { kind: "guestBdf", required: true }, off: { kind: "int", required: true }, size: { kind: "int", required: true } },
    check: checkCfgSize,
  },
  "guest.cfg.write": {
    fields: { pid, bdf: { kind: "guestBdf", required: true }, off: { kind: "int", required: true }, size: { kind: "int", required: true }, value: reqU64 },
    check: checkCfgSize,
  },
  "guest.mmio.read": {
    fields: { pid, dev: { kind: "string", required: true }, off: { kind: "int", required: true }, size: { kind: "int", required: true } },
    check: checkMmioSize,
  },
  "guest.mmio.write": {
    fields: { pid, dev: { kind: "string", required: true }, off: { kind: "int", required: true }, size: { kind: "int", required: true }, value: reqU64 },
    check: checkMmioSize,
  },
  "guest.mem.write": { fields: { pid, gpa: reqU64 }, bytes: true },
  // --- device ---
  dma: {
    fields: {
      bdf: { kind: "hostBdf" },
      guest_bdf: { kind: "guestBdf" },
      pid: int,
      pasid: int,
      iova: reqU64,
      size: int,
      access: { kind: "string", required: true, oneOf: ["read", "write"] },
      priv: { kind: "bool" },
    },
    check: (ev) => {
      if ((ev.bdf === undefined) === (ev.guest_bdf === undefined))
        throw new EventError("bdf", "give bdf (host device) or guest_bdf (emulated device), exactly one");
      if (ev.guest_bdf !== undefined && ev.pid === undefined) throw new EventError("pid", "guest_bdf needs the VMM's pid");
      if (ev.size !== undefined && (ev.size as number) < 1) throw new EventError("size", "must be at least 1");
    },
  },
};

export type Op = keyof typeof OPS;

/** A validated event: `seq`, `op`, its fields normalised, `expect` as recorded. */
export interface TraceEvent {
  seq: number;
  op: string;
  expect?: Expect;
  [field: string]: unknown;
}

/** mem.map: `huge` as checkHuge says; `fd` (a memfd's MAP_SHARED mapping) with `offset`, neither with `pa` or `huge`. */
function checkMemMap(ev: Record<string, unknown>): void {
  checkHuge(ev);
  if (ev.offset !== undefined && ev.fd === undefined) throw new EventError("offset", "offset needs fd (the mapped file)");
  if (ev.fd !== undefined && ev.pa !== undefined) throw new EventError("pa", "a file mapping (fd) takes the file's pages: no pa");
  if (ev.fd !== undefined && ev.huge !== undefined) throw new EventError("huge", "a file mapping (fd) takes the file's pages: no huge");
  if (ev.fd !== undefined && (ev.fd as number) < 0) throw new EventError("fd", `expected an fd (0 or more), got ${ev.fd}`);
}

/** A forked child (`parent`) inherits the parent's credentials (copy_creds): `caps` cannot be given too. */
function checkFork(ev: Record<string, unknown>): void {
  if (ev.parent === undefined) return;
  if (ev.caps !== undefined) throw new EventError("caps", "a forked process (parent) inherits the parent's capabilities; give one of caps and parent");
  if ((ev.parent as number) < 0) throw new EventError("parent", `expected a pid, got ${ev.parent}`);
  if (ev.parent === ev.pid) throw new EventError("parent", "a process cannot be its own parent");
}

function checkHuge(ev: Record<string, unknown>): void {
  const h = ev.huge;
  if (h !== undefined && h !== true && h !== false && h !== "2M" && h !== "1G")
    throw new EventError("huge", `expected true, false, "2M" or "1G", got ${describe(h)}`);
}

function checkCfgSize(ev: Record<string, unknown>): void {
  if (![1, 2, 4].includes(ev.size as number)) throw new EventError("size", "expected 1, 2 or 4");
  // PCIe MMCONFIG: 4 KiB of config space per function.
  if ((ev.off as number) < 0 || (ev.off as number) > 0xfff) throw new EventError("off", "expected a config-space offset from 0 to 0xfff");
}

/**
 * ext_caps: each header dword aligned inside extended config space (0x100 to
 * 0xffc), a 16-bit id, a 4-bit version, no two at one offset; std_caps at 0x40
 * to 0xfc; cfg: bytes (hex) inside the 4 KiB config space.
 */
function checkCfgLayout(ev: Record<string, unknown>): void {
  const ext = (ev.ext_caps as { id: number; ver?: number; off: number }[] | undefined) ?? [];
  const seen = new Set<number>();
  ext.forEach((c, i) => {
    if (c.off % 4 || c.off < 0x100 || c.off > 0xffc) throw new EventError(`ext_caps[${i}].off`, "expected a dword-aligned offset from 0x100 to 0xffc");
    if (seen.has(c.off)) throw new EventError(`ext_caps[${i}].off`, `a second extended capability at 0x${c.off.toString(16)}`);
    seen.add(c.off);
    if (c.id < 0 || c.id > 0xffff) throw new EventError(`ext_caps[${i}].id`, "expected a 16-bit capability ID");
    if (c.ver !== undefined && (c.ver < 0 || c.ver > 15)) throw new EventError(`ext_caps[${i}].ver`, "expected a 4-bit version");
  });
  const std = (ev.std_caps as { id: number; off?: number }[] | undefined) ?? [];
  std.forEach((c, i) => {
    if (c.off !== undefined && (c.off % 4 || c.off < 0x40 || c.off > 0xfc))
      throw new EventError(`std_caps[${i}].off`, "expected a dword-aligned offset from 0x40 to 0xfc");
    if (c.id < 0 || c.id > 0xff) throw new EventError(`std_caps[${i}].id`, "expected an 8-bit capability ID");
  });
  const cfg = (ev.cfg as { off: number; hex: string }[] | undefined) ?? [];
  cfg.forEach((c, i) => {
    if (!/^([0-9a-fA-F]{2})+$/.test(c.hex)) throw new EventError(`cfg[${i}].hex`, "expected an even, non-zero number of hex digits");
    if (c.off < 0 || c.off + c.hex.length / 2 > 0x1000) throw new EventError(`cfg[${i}].off`, "expected the bytes inside the 4 KiB config space");
  });
}

function checkMmioSize(ev: Record<string, unknown>): void {
  if (![4, 8].includes(ev.size as number)) throw new EventError("size", "expected 4 or 8");
}

function checkHostDevice(ev: Record<string, unknown>): void {
  checkCfgLayout(ev);
  const p = ev.pasid as Record<string, unknown> | null | undefined;
  if (p) {
    for (const k of Object.keys(p))
      if (!["max_log2", "exec", "priv"].includes(k)) throw new EventError(`pasid.${k}`, "unknown field (known: max_log2, exec, priv)");
    try {
      p.max_log2 = parseInt53(p.max_log2 ?? 20);
    } catch (e) {
      throw new EventError("pasid.max_log2", (e as Error).message);
    }
    for (const k of ["exec", "priv"]) if (p[k] !== undefined && typeof p[k] !== "boolean") throw new EventError(`pasid.${k}`, "expected true or false");
  }
  if (typeof ev.vf_token === "string" && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(ev.vf_token))
    throw new EventError("vf_token", "expected a UUID like 00000000-0000-0000-0000-000000000000");
}

function normaliseField(name: string, spec: FieldSpec, v: unknown): unknown {
  if (v === null && spec.nullable) return null;
  try {
    switch (spec.kind) {
      case "int":
        return parseInt53(v);
      case "u64":
        return parseU64(v);
      case "hostBdf":
        return parseHostBdf(v);
      case "guestBdf":
        return parseGuestBdf(v);
      case "string":
        if (typeof v !== "string") throw new ValueError(`expected a string, got ${describe(v)}`);
        if (spec.oneOf && !spec.oneOf.includes(v)) {
          const near = closestName(v, spec.oneOf);
          throw new ValueError(`expected one of ${spec.oneOf.join(", ")}, got ${describe(v)}${near ? ` (did you mean "${near}"?)` : ""}`);
        }
        return v;
      case "bool":
        if (typeof v !== "boolean") throw new ValueError(`expected true or false, got ${describe(v)}`);
        return v;
      case "flags":
        return flagsField(name, spec.flags!, v);
      case "list":
        if (!Array.isArray(v)) throw new ValueError(`expected a list, got ${describe(v)}`);
        return spec.items ? v.map((item, i) => normaliseItem(`${name}[${i}]`, spec.items!, item)) : v;
      case "object":
        if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ValueError(`expected an object, got ${describe(v)}`);
        return v;
      case "scalar":
        if (!["number", "string", "boolean"].includes(typeof v)) throw new ValueError(`expected a number, string or boolean, got ${describe(v)}`);
        return v;
      case "any":
        return v;
    }
  } catch (e) {
    if (e instanceof ValueError || e instanceof LayoutError) throw new EventError(name, e.message);
    throw e;
  }
}

/**
 * A flag field of an op: the number its names stand for. The op fields describe
 * the host, so every bit set must be one the uAPI names (unlike an ioctl
 * argument, where an unknown bit is the caller's to pass and the kernel's to refuse).
 */
function flagsField(name: string, table: FlagTable, v: unknown): number {
  const n = parseFlags(v, table, name);
  if (n < 0n) throw new ValueError(`expected a non-negative value, got ${n}`);
  const unnamed = unnamedBits(table, n);
  if (unnamed !== 0n) throw new ValueError(`bits 0x${unnamed.toString(16)} have no ${table.prefix}* name (known: ${Object.keys(table.bits).join(", ")})`);
  return Number(n);
}

/** One object of a list field, its fields normalised as the op table's `items` says. */
function normaliseItem(path: string, items: Readonly<Record<string, FieldSpec>>, item: unknown): Record<string, unknown> {
  if (item === null || typeof item !== "object" || Array.isArray(item)) throw new EventError(path, `expected an object, got ${describe(item)}`);
  const o = item as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in items)) throw new EventError(`${path}.${k}`, `unknown field (known: ${Object.keys(items).join(", ")})`);
  for (const [k, fs] of Object.entries(items)) if (fs.required && o[k] === undefined) throw new EventError(`${path}.${k}`, "missing required field");
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = normaliseField(`${path}.${k}`, items[k]!, v);
  return out;
}

/** The rights a translation answers, as permString writes them (src/model/domain/domain.ts). */
const PERM = /^(?=.)r?w?x?$/;

/** One expected outcome field other than `out` (docs/trace-format.md "Outcomes and expect"); throws ValueError. */
function checkExpectValue(k: string, v: unknown): void {
  switch (k) {
    case "fd":
    case "ret": // a system call's return value: an error is `errno`, never a negative ret
      parseInt53(v, 0);
      return;
    case "value":
    case "pa":
    case "hpa":
    case "page_size":
      parseU64(v);
      return;
    case "perm":
      if (typeof v !== "string" || !PERM.test(v)) throw new ValueError(`expected the rights of a translation ("r", "w", "rw", ...), got ${describe(v)}`);
      return;
    case "errno":
      if (typeof v !== "string" || !isErrnoName(v)) throw new ValueError(`expected a Linux errno name like "EINVAL", got ${describe(v)}`);
      return;
    case "ok":
      throw new ValueError(`expected true, got ${describe(v)}`);
    case "messages":
    case "findings":
      if (!Array.isArray(v) || v.some((m) => typeof m !== "string")) throw new ValueError(`expected a list of strings, got ${describe(v)}`);
      return;
    case "out":
      if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ValueError(`expected an object of struct members, got ${describe(v)}`);
      return;
    default: // fault, error, abort: text
      if (typeof v !== "string") throw new ValueError(`expected a string, got ${describe(v)}`);
  }
}

/** `expect`: only outcome keys, each holding what such an outcome holds; `true` asks only that the field be present. */
export function normaliseExpect(v: unknown): Expect {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new EventError("expect", `expected an object, got ${describe(v)}`);
  const e = v as Record<string, unknown>;
  for (const [k, x] of Object.entries(e)) {
    if (!(OUTCOME_KEYS as readonly string[]).includes(k)) {
      const near = closestName(k, OUTCOME_KEYS);
      throw new EventError(`expect.${k}`, `unknown outcome field (${near ? `did you mean "${near}"?` : `known: ${OUTCOME_KEYS.join(", ")}`})`);
    }
    if (x === true) continue;
    try {
      checkExpectValue(k, x);
    } catch (err) {
      if (err instanceof ValueError) throw new EventError(`expect.${k}`, err.message);
      throw err;
    }
  }
  return e;
}

/** The fields an event of `spec` may have: its own, the byte string's, and every event's. */
function knownFields(spec: OpSpec, stored: boolean): string[] {
  return ["op", "seq", ...Object.keys(spec.fields), ...(spec.bytes ? (stored ? ["bytes"] : ["hex", "u64", "u32"]) : []), "expect"];
}

/**
 * Validate one raw event object (from JSONL or the store) against the op table
 * and normalise its values. Throws EventError naming the field. Version 1
 * defines every field of every op: any other field is bad input (most often a
 * typo of a field it then names), as is a number JSON cannot hold exactly.
 */
export function parseEvent(raw: Record<string, unknown>, seq: number): TraceEvent {
  const op = raw.op;
  if (typeof op !== "string") throw new EventError("op", raw.op === undefined ? "missing required field" : `expected a string, got ${describe(op)}`);
  const spec = OPS[op];
  if (!spec) {
    const near = closestName(op, Object.keys(OPS));
    throw new EventError("op", `unknown op ${describe(op)}${near ? ` (did you mean "${near}"?)` : ""}`);
  }
  // A stored event (src/replay/source.ts) carries its byte string decoded, as `bytes`.
  const stored = spec.bytes === true && raw.bytes instanceof Uint8Array;
  const known = knownFields(spec, stored);
  for (const k of Object.keys(raw)) {
    if (known.includes(k)) continue;
    const near = closestName(k, known);
    throw new EventError(k, `unknown field for op "${op}" (${near ? `did you mean "${near}"?` : `known: ${known.join(", ")}`})`);
  }
  const inexact = inexactNumber(raw, "");
  if (inexact) throw new EventError(inexact.path, inexactNumberMessage(inexact.value));
  if (raw.seq !== undefined && raw.seq !== seq) throw new EventError("seq", `is ${describe(raw.seq)} but this is event ${seq}`);
  const ev: TraceEvent = { seq, op };
  for (const [name, fs] of Object.entries(spec.fields)) {
    const v = raw[name];
    if (v === undefined) {
      if (fs.required) throw new EventError(name, "missing required field");
      continue;
    }
    ev[name] = normaliseField(name, fs, v);
  }
  if (stored) ev.bytes = raw.bytes;
  else if (spec.bytes) {
    try {
      ev.bytes = parseBytes(raw as { hex?: unknown; u64?: unknown; u32?: unknown }).bytes;
    } catch (e) {
      throw new EventError(["hex", "u64", "u32"].find((k) => raw[k] !== undefined) ?? "hex", (e as Error).message);
    }
  }
  if (raw.expect !== undefined) ev.expect = normaliseExpect(raw.expect);
  spec.check?.(ev);
  return ev;
}
