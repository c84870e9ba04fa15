// IOAS objects (drivers/iommu/iommufd/ioas.c): ALLOC, IOVA_RANGES,
// ALLOW_IOVAS, MAP, UNMAP and the destroy of an IOAS. MAP_FILE, COPY and
// CHANGE_PROCESS are in ioas_file.ts. The cores ioasMap/ioasUnmap are shared
// with the VFIO type1 compatibility layer.

import {
  IOMMU_IOAS_MAP_FIXED_IOVA as MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE as MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE as MAP_WRITEABLE,
} from "../../uapi/iommufd.ts";
import { EventError } from "../events.ts";
import { errno, ret0 } from "../outcome.ts";
import type { State } from "../state.ts";
import { describe, parseU64, U64_MAX, ValueError } from "../values.ts";
import { intersects } from "../domain/spans.ts";
import { iovaRanges, mapPages, setAllowed, unmapRange } from "./io_pagetable.ts";
import { releaseAreas } from "./iopt_domain.ts";
import { PAGE } from "./pages.ts";
import { addObject, ctxOf, getObject } from "./objects.ts";
import type { IommufdCtx, Ioas, IovaRange } from "./state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { copyFromUser, copyToUser, decodeRange, encodeRange } from "../uaccess/copy.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";

/** A new IOAS: no domain, alignment 1, the whole IOVA space allowed (iopt_init_table). */
export function newIoas(id: number): Ioas {
  return { id, type: "ioas", users: 1, areas: [], allowed: [], reserved: [], iovaAlignment: 1n, hugePages: true, domains: [] };
}

/** conv_iommu_prot: IOMMU_READ (1) | IOMMU_WRITE (2) from the map flags. */
export function protOf(flags: number): number {
  return (flags & MAP_READABLE ? 1 : 0) | (flags & MAP_WRITEABLE ? 2 : 0);
}

/** iommufd_ioas_destroy: unmap everything (iopt_unmap_all), then the table goes. */
export function iommufdIoasDestroy(s: State, ctx: IommufdCtx, ioas: Ioas): void {
  releaseAreas(s, ctx, ioas);
}

/** iommufd_ioas_alloc_ioctl: flags must be 0 (EOPNOTSUPP). */
export function iommufdIoasAllocIoctl(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  if (cmd.flags !== 0) return errno("EOPNOTSUPP");
  const ioas = addObject(ctxOf(s, call), newIoas);
  cmd.out_ioas_id = ioas.id;
  return respond(call, cmd);
}

/** The inline `allowed_iovas` list of a call (docs/trace-format.md "Kernel system calls", `arg`), parsed; undefined when given as a pointer. */
function inlineRanges(call: IoctlCall): IovaRange[] | undefined {
  const v = call.arg.kind === "bytes" ? call.arg.inline.allowed_iovas : undefined;
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new EventError("arg.allowed_iovas", `expected a list of {"start","last"}, got ${describe(v)}`);
  return v.map((r: unknown, i) => {
    const o = r as Record<string, unknown>;
    try {
      if (r === null || typeof r !== "object") throw new ValueError(`expected {"start","last"}, got ${describe(r)}`);
      return { start: parseU64(o.start ?? 0), last: parseU64(o.last ?? 0) };
    } catch (e) {
      throw new EventError(`arg.allowed_iovas[${i}]`, (e as Error).message);
    }
  });
}

/** num_iovas with an inline list: the list's length unless the trace gives num_iovas itself. */
function countOf(call: IoctlCall, given: number, inline: IovaRange[] | undefined): number {
  const arg = call.ev.arg as Record<string, unknown> | undefined;
  return inline && arg?.num_iovas === undefined ? inline.length : given;
}

/**
 * iommufd_ioas_iova_ranges: the holes of the reserved ranges (domain apertures
 * and device regions carve them; ALLOW_IOVAS does not), num_iovas set to
 * their count, at most num_iovas of them copied out (EFAULT for an unmapped
 * buffer), then EMSGSIZE when they did not all fit (after the struct went back).
 */
export function iommufdIoasIovaRanges(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  if (cmd.__reserved !== 0) return errno("EOPNOTSUPP");
  const ioas = getObject(ctxOf(s, call), cmd.ioas_id as number, "ioas");
  if (!ioas) return errno("ENOENT");
  const inline = inlineRanges(call);
  const max = countOf(call, cmd.num_iovas as number, inline);
  const ranges = iovaRanges(ioas);
  const written = ranges.slice(0, max);
  if (!inline)
    for (let i = 0; i < written.length; i++) {
      const r = written[i]!;
      if (!copyToUser(s, call.process, (cmd.allowed_iovas as bigint) + BigInt(16 * i), encodeRange(r.start, r.last))) return errno("EFAULT");
    }
  cmd.num_iovas = ranges.length;
  cmd.out_iova_alignment = ioas.iovaAlignment;
  const out = respond(call, cmd, { allowed_iovas: written.map((r) => ({ start: r.start, last: r.last })) });
  return ranges.length > max ? { errno: "EMSGSIZE", out: out.out! } : out;
}

/** iommufd_ioas_load_iovas: each range read (EFAULT), non-empty (start < last, else EINVAL) and disjoint from the others (EINVAL). */
function loadIovas(s: State, call: IoctlCall, base: bigint, num: number, inline: IovaRange[] | undefined): IovaRange[] | string {
  const out: IovaRange[] = [];
  for (let i = 0; i < num; i++) {
    let r: IovaRange | undefined;
    if (inline) r = inline[i];
    else {
      const b = copyFromUser(s, call.process, base + BigInt(16 * i), 16);
      r = b && decodeRange(b);
    }
    if (!r) return "EFAULT";
    if (r.start >= r.last) return "EINVAL";
    if (intersects(out, r.start, r.last)) return "EINVAL";
    out.push(r);
  }
  return out;
}

/** iommufd_ioas_allow_iovas: replace the allowed list atomically; a range over a reserved range is EADDRINUSE; 0 ranges clear it. */
export function iommufdIoasAllowIovas(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  if (cmd.__reserved !== 0) return errno("EOPNOTSUPP");
  const ioas = getObject(ctxOf(s, call), cmd.ioas_id as number, "ioas");
  if (!ioas) return errno("ENOENT");
  const inline = inlineRanges(call);
  const ranges = loadIovas(s, call, cmd.allowed_iovas as bigint, countOf(call, cmd.num_iovas as number, inline), inline);
  if (typeof ranges === "string") return errno(ranges);
  const err = setAllowed(ioas, ranges);
  return err ? errno(err) : ret0();
}

/**
 * iopt_map_user_pages: map [userVa, userVa + length) of process `pid` at
 * `iova` (undefined: allocate one). uptr + length overflowing is EOVERFLOW,
 * a zero or huge length EINVAL, then iopt_map_pages' rules. prot: IOMMU_READ
 * (1) | IOMMU_WRITE (2). The core of IOMMU_IOAS_MAP and VFIO_IOMMU_MAP_DMA.
 */
export function ioasMap(
  s: State,
  ctx: IommufdCtx,
  ioas: Ioas,
  pid: number,
  userVa: bigint,
  length: bigint,
  iova: bigint | undefined,
  prot: number,
): { iova: bigint } | string {
  if (userVa + length > U64_MAX) return "EOVERFLOW";
  if (length > U64_MAX - PAGE || length === 0n) return "EINVAL";
  const elm = { source: { kind: "user" as const, pid, va: userVa }, length, writable: (prot & 2) !== 0, runs: null };
  return mapPages(s, ctx, ioas, [elm], length, iova, prot);
}

/**
 * iopt_unmap_iova: unmap every area inside [iova, iova + length - 1]; a zero
 * length is EINVAL, an overflowing end EOVERFLOW, an area cut by the range
 * ENOENT (areas before it stay unmapped), an area held by an access EBUSY.
 * Nothing inside the range is not an error here: { unmapped: 0n }. The core of
 * IOMMU_IOAS_UNMAP and VFIO_IOMMU_UNMAP_DMA.
 */
export function ioasUnmap(s: State, ctx: IommufdCtx, ioas: Ioas, iova: bigint, length: bigint): { unmapped: bigint } | string {
  if (length === 0n) return "EINVAL";
  if (iova + length - 1n > U64_MAX) return "EOVERFLOW";
  const r = unmapRange(s, ctx, ioas, iova, iova + length - 1n);
  return r.errno ?? { unmapped: r.unmapped };
}

/** iopt_unmap_all: every area; an empty IOAS is not an error. */
export function ioasUnmapAll(s: State, ctx: IommufdCtx, ioas: Ioas): { unmapped: bigint } | string {
  const r = unmapRange(s, ctx, ioas, 0n, U64_MAX);
  return r.errno ?? { unmapped: r.unmapped };
}

/** iommufd_ioas_map: flags and __reserved (EOPNOTSUPP), 64-bit overflow (EOVERFLOW), neither READABLE nor WRITEABLE (EINVAL), the IOAS (ENOENT). */
export function iommufdIoasMap(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const flags = cmd.flags as number;
  if (flags & ~(MAP_FIXED_IOVA | MAP_WRITEABLE | MAP_READABLE) || cmd.__reserved !== 0) return errno("EOPNOTSUPP");
  if ((cmd.iova as bigint) >= U64_MAX || (cmd.length as bigint) >= U64_MAX) return errno("EOVERFLOW");
  if (!(flags & (MAP_WRITEABLE | MAP_READABLE))) return errno("EINVAL");
  const ctx = ctxOf(s, call);
  const ioas = getObject(ctx, cmd.ioas_id as number, "ioas");
  if (!ioas) return errno("ENOENT");
  const fixed = flags & MAP_FIXED_IOVA ? (cmd.iova as bigint) : undefined;
  const r = ioasMap(s, ctx, ioas, call.process.pid, cmd.user_va as bigint, cmd.length as bigint, fixed, protOf(flags));
  if (typeof r === "string") return errno(r);
  cmd.iova = r.iova;
  return respond(call, cmd);
}

/**
 * iommufd_ioas_unmap: the IOAS first (ENOENT); iova 0 with length U64_MAX
 * unmaps all; otherwise EOVERFLOW, the iopt_unmap_iova rules, and ENOENT when
 * nothing was unmapped. `length` returns the bytes unmapped.
 */
export function iommufdIoasUnmap(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const ctx = ctxOf(s, call);
  const ioas = getObject(ctx, cmd.ioas_id as number, "ioas");
  if (!ioas) return errno("ENOENT");
  const iova = cmd.iova as bigint;
  const length = cmd.length as bigint;
  let r: { unmapped: bigint } | string;
  if (iova === 0n && length === U64_MAX) r = ioasUnmapAll(s, ctx, ioas);
  else {
    if (iova >= U64_MAX || length >= U64_MAX) return errno("EOVERFLOW");
    r = ioasUnmap(s, ctx, ioas, iova, length);
    if (typeof r !== "string" && r.unmapped === 0n) r = "ENOENT";
  }
  if (typeof r === "string") return errno(r);
  cmd.length = r.unmapped;
  return respond(call, cmd);
}
