// The live server: one Unix socket, one connection per process running under
// the shim (src/live/shim/iorr_shim.c). Each call becomes trace events folded
// by LiveSession (the same reducers as replay); the answer goes back with the
// out-struct and the memory behind pointer members written into the caller.
// Calls from all processes are handled one at a time, in arrival order.

import { PAGE_SIZE } from "../model/memory/state.ts";
import type { Outcome, OutValue } from "../model/outcome.ts";
import { regionAt } from "../model/process/state.ts";
import { copyFromUser } from "../model/uaccess/copy.ts";
import { PINNED_TOUCH, pinnedTouched } from "../model/uaccess/pinned.ts";
import type { UapiCommand } from "../uapi/commands.ts";
import { ERRNO } from "../uapi/errno.ts";
import { commandsByNumber } from "../uapi/index.ts";
import { type Decoded, decodeStruct, encodeStruct, type FieldValue, type StructDef } from "../uapi/layout.ts";
import { decodePadded, fdMembers, pointerMembers, type PointerDir } from "../uapi/pointers.ts";
import { type Frame, M, OTHER_KINDS, parseIoctl, probeReq, readReq, S, frame, writeReq } from "./protocol.ts";
import { isUnmodelled, type LiveSession } from "./session.ts";
import { Conn, ShimServer } from "./shim_server.ts";

export { Conn };

const PAGE = BigInt(PAGE_SIZE);
/** The most caller memory mirrored for one pointer member (pinned ranges only map pages, they read nothing). */
const MAX_PIN = 1n << 32n;
const MAX_COPY = 1n << 24n;
const ENOSYS = -ERRNO.ENOSYS!;

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const h64 = (v: bigint) => `0x${v.toString(16)}`;

/** A caller's range behind a pointer member, and its bytes before the call when the kernel writes it. */
interface Mirrored {
  va: bigint;
  len: number;
  dir: PointerDir;
  before?: Uint8Array;
}

export class LiveServer extends ShimServer {
  constructor(
    readonly session: LiveSession,
    socketPath: string,
  ) {
    super(socketPath);
  }

  // do_exit: the process's fds are closed (close_files), as process.exit folds them.
  protected async ended(c: Conn): Promise<void> {
    if (c.started) this.session.fold({ op: "process.exit", pid: c.pid });
  }

  protected failed(message: string): void {
    this.session.unmodelled(`live server: ${message}`);
  }

  protected async handle(c: Conn, f: Frame): Promise<void> {
    const s = this.session;
    if (f.type === M.HELLO) {
      c.pid = f.body.readUInt32LE(0);
      const out = s.fold({ op: "process", pid: c.pid });
      c.started = !isUnmodelled(out) && out.ok === true;
      return;
    }
    s.calls++;
    try {
      c.answer(await this.call(c, f));
    } catch (e) {
      // The process went away in the middle of its call: nothing to answer.
      if (!c.closed) throw e;
    }
  }

  private async call(c: Conn, f: Frame): Promise<number | bigint> {
    const s = this.session;
    switch (f.type) {
      case M.OPEN: {
        const real = f.body.readInt32LE(0);
        const path = f.body.subarray(8).toString("utf8");
        const out = s.fold({ op: "open", pid: c.pid, path });
        if (isUnmodelled(out)) return this.enosys(`open: ${out.why}`);
        if (out.fd === undefined) return -errnoOf(out);
        c.toModel.set(real, out.fd);
        return real;
      }
      case M.CLOSE: {
        const real = f.body.readInt32LE(0);
        const fd = c.toModel.get(real);
        c.toModel.delete(real);
        if (fd === undefined) return -ERRNO.EBADF!;
        const out = s.fold({ op: "close", pid: c.pid, fd });
        if (isUnmodelled(out)) return this.enosys(`close: ${out.why}`);
        return out.errno ? -errnoOf(out) : 0;
      }
      case M.IOCTL:
        return this.ioctl(c, parseIoctl(f.body));
      case M.OTHER:
        return this.enosys(`${OTHER_KINDS[f.body.readInt32LE(4)] ?? "unknown call"} on a ${this.kindOf(c, f.body.readInt32LE(0)) ?? "model"} fd`);
      default:
        return this.enosys(`unknown message ${f.type}`);
    }
  }

  private enosys(why: string): number {
    this.session.unmodelled(why);
    return ENOSYS;
  }

  private kindOf(c: Conn, real: number): string | undefined {
    const fd = c.toModel.get(real);
    const id = fd === undefined ? undefined : this.session.state.processes.get(c.pid)?.fds.get(fd);
    return id === undefined ? undefined : this.session.state.files.get(id)?.kind;
  }

  private async ioctl(c: Conn, call: { fd: number; cmd: number; arg: bigint; bytes: Uint8Array | undefined }): Promise<number | bigint> {
    const s = this.session;
    const fd = c.toModel.get(call.fd);
    if (fd === undefined) return -ERRNO.EBADF!;
    const def = commandOf(this.kindOf(c, call.fd), call.cmd);
    const raw: Record<string, unknown> = { op: "ioctl", pid: c.pid, fd, cmd: def ? def.name : call.cmd };
    const name = def?.name ?? `ioctl 0x${call.cmd.toString(16)}`;
    const struct = def?.arg.kind === "struct" ? def.arg.struct : undefined;
    const mirrored: Mirrored[] = [];
    let decoded: Decoded | undefined;
    if (def?.arg.kind === "struct") {
      if (call.bytes && call.arg !== 0n) {
        // The event's copy of the struct carries model fds; the caller's bytes stay as they are.
        const bytes = Uint8Array.from(call.bytes);
        decoded = decodePadded(def.arg.struct, call.bytes);
        const unknownFd = this.fdsToModel(c, def.arg.struct, bytes, decoded);
        if (unknownFd) return this.enosys(`${name}: ${unknownFd}`);
        raw.argHex = hex(bytes);
        const ranges = pointerRanges(def.arg.struct, call.bytes, decoded);
        // Memory the call reaches through pinned pages (the caller's own; another process's is not re-read).
        if (PINNED_TOUCH[def.arg.struct.name]) {
          const modelFds = { ...decoded };
          for (const n of fdMembers(def.arg.struct, bytes, decoded))
            modelFds[n] = new DataView(bytes.buffer).getInt32(def.arg.struct.byName.get(n)!.offset, true);
          for (const t of pinnedTouched(s.state, c.pid, def.arg.struct, modelFds))
            if (t.pid === c.pid && t.len <= MAX_COPY) ranges.push({ va: t.va, len: t.len, dir: t.write ? "inout" : "in" });
        }
        for (const m of ranges) await this.mapRange(c, m);
        // Every READ goes out at once (the shim answers in order), then each is mirrored in turn.
        const reads = ranges.map((m) => (m.dir === "pin" || m.dir === "fill" ? undefined : c.request(readReq(m.va, Number(m.len)))));
        for (const r of reads) r?.catch(() => {});
        for (let i = 0; i < ranges.length; i++) mirrored.push(await this.mirror(c, ranges[i]!, reads[i]));
      } else raw.arg = null;
    } else if (def?.arg.kind === "int") raw.arg = h64(call.arg);
    else if (def && def.arg.kind !== "none") return this.enosys(`${name}: a ${def.arg.kind} argument (live mode passes structs and integers)`);
    const out = s.fold(raw);
    if (isUnmodelled(out)) return this.enosys(`${name}: ${out.why}`);
    // What the kernel wrote back: the struct (on an error too, when the outcome carries it), then pointed-to output.
    if (out.out && struct && call.bytes) await this.writeStruct(c, call.arg, struct, call.bytes, out.out, decoded);
    for (const m of mirrored) if (m.before || (m.dir === "fill" && !out.errno)) this.writeBack(c, m);
    if (out.errno) return -errnoOf(out);
    if (out.fd !== undefined) return this.newFd(c, out.fd);
    return out.ret ?? 0;
  }

  /**
   * An fd member names the caller's fd: the event gets the model's number for it
   * (writeStruct never writes these members back). A caller fd the model does not
   * know (a memfd: memfd_create is not intercepted) cannot be passed: its reason.
   */
  private fdsToModel(c: Conn, struct: StructDef, bytes: Uint8Array, decoded: Decoded): string | undefined {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const name of fdMembers(struct, bytes, decoded)) {
      const f = struct.byName.get(name)!;
      if (f.offset + 4 > bytes.length) continue;
      const real = view.getInt32(f.offset, true);
      const fd = c.toModel.get(real);
      if (fd !== undefined) view.setInt32(f.offset, fd, true);
      else if (real >= 0) return `${name} names an fd the model does not know`;
    }
    return undefined;
  }

  /**
   * Make the caller's range known to the model before the call: the pages
   * the caller has mapped and the model not yet become mem.map events (pages
   * the caller has not mapped stay unmapped: the kernel's copy or pin faults).
   */
  private async mapRange(c: Conn, m: { va: bigint; len: bigint; dir: PointerDir }): Promise<void> {
    const first = m.va - (m.va % PAGE);
    const end = m.va + m.len;
    const pages = Number((end - first + PAGE - 1n) / PAGE);
    for (let i = 0; i < pages; ) {
      const p = this.session.state.processes.get(c.pid);
      if (!p) break;
      if (regionAt(p, first + BigInt(i) * PAGE)) {
        i++;
        continue;
      }
      let j = i;
      while (j < pages && !regionAt(p, first + BigInt(j) * PAGE)) j++;
      const probe = await c.request(probeReq(first + BigInt(i) * PAGE, j - i));
      for (let k = 0; k < j - i; ) {
        if (!probe.data[k]) {
          k++;
          continue;
        }
        let l = k;
        while (l < j - i && probe.data[l]) l++;
        this.session.fold({ op: "mem.map", pid: c.pid, va: h64(first + BigInt(i + k) * PAGE), length: h64(BigInt(l - k) * PAGE) });
        k = l;
      }
      i = j;
    }
  }

  /** The caller's bytes of a range (its READ, already sent) against the model's: a mem.write where they differ. */
  private async mirror(
    c: Conn,
    m: { va: bigint; len: bigint; dir: PointerDir },
    read: Promise<{ status: number; data: Buffer }> | undefined,
  ): Promise<Mirrored> {
    // Pinned pages are not read; a range the call fills is written whole after it (writeBack), never read.
    const len = Number(m.len);
    if (!read) return { va: m.va, len, dir: m.dir };
    const r = await read;
    // A range partly unmapped: the kernel's copy faults; nothing to mirror or write back.
    if (r.status !== 0) return { va: m.va, len, dir: m.dir };
    const p = this.session.state.processes.get(c.pid)!;
    const model = copyFromUser(this.session.state, p, m.va, len);
    if (model && Buffer.compare(Buffer.from(model), r.data) !== 0)
      this.session.fold({ op: "mem.write", pid: c.pid, va: h64(m.va), hex: r.data.toString("hex") });
    return { va: m.va, len, dir: m.dir, ...(m.dir === "in" ? {} : { before: new Uint8Array(r.data) }) };
  }

  /** copy_to_user of pointed-to output: the bytes the model changed go back to the caller (a filled range: all of them). */
  private writeBack(c: Conn, m: Mirrored): void {
    const p = this.session.state.processes.get(c.pid);
    const after = p && copyFromUser(this.session.state, p, m.va, m.len);
    if (after && m.dir === "fill") return c.post(writeReq(m.va, after));
    if (!after || !m.before) return;
    let lo = 0;
    while (lo < m.len && after[lo] === m.before[lo]) lo++;
    if (lo === m.len) return;
    let hi = m.len;
    while (after[hi - 1] === m.before[hi - 1]) hi--;
    c.post(writeReq(m.va + BigInt(lo), after.subarray(lo, hi)));
  }

  /** The out-struct: the caller's struct with the members the kernel set, at most the caller's size (iommufd_ucmd_respond). */
  private async writeStruct(c: Conn, va: bigint, struct: StructDef, bytes: Uint8Array, out: Record<string, OutValue>, decoded?: Decoded): Promise<void> {
    const fields: Record<string, FieldValue> = {};
    for (const [k, v] of Object.entries(decodeStruct(struct, bytes))) fields[k] = v as FieldValue;
    let changed = false;
    const fds = fdMembers(struct, bytes, decoded);
    for (const [k, v] of Object.entries(out)) {
      const f = struct.byName.get(k);
      if (!f || fds.includes(f.name) || (typeof v === "object" && v !== null && !Array.isArray(v))) continue;
      if (Array.isArray(v) !== (f.count !== undefined)) continue; // an inline reply (allowed_iovas): the memory carries it
      // An fd the model installed (out_fault_fd, ...) is a placeholder fd in the caller.
      const value = /_fd$/.test(f.name) && typeof v === "number" ? await this.newFd(c, v) : v;
      fields[f.name] = value as FieldValue;
      changed = true;
    }
    if (!changed) return;
    const n = Math.min(bytes.length, struct.size);
    // A struct with a union (iommu_test_cmd): encoding every decoded member would let a later
    // union member overwrite the one the kernel set, so the caller's bytes get only the set members.
    const enc = struct.fields.some((f, i) => i > 0 && f.offset < struct.fields[i - 1]!.offset + struct.fields[i - 1]!.size)
      ? patchMembers(struct, bytes, out, fields).subarray(0, n)
      : encodeStruct(struct, fields).subarray(0, n);
    if (Buffer.compare(Buffer.from(enc), Buffer.from(bytes.subarray(0, n))) !== 0) c.post(writeReq(va, enc));
  }

  /** A placeholder fd in the caller for a model fd. */
  private async newFd(c: Conn, modelFd: number): Promise<number> {
    const r = await c.request(frame(S.NEWFD));
    if (r.status >= 0) c.toModel.set(r.status, modelFd);
    return r.status;
  }
}

/** The command a number means on this kind of file (VFIO device and type1 commands share numbers; iommufd takes type1's compat ones). */
export function commandOf(kind: string | undefined, number: number): UapiCommand | undefined {
  const defs = commandsByNumber(number);
  const iommufd = defs.find((d) => d.name.startsWith("IOMMU_"));
  // iommufd's type1 compatibility: VFIO_IOMMU_GET_INFO, not VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (one number).
  const compat = defs.find((d) => !d.name.startsWith("VFIO_DEVICE_"));
  return kind === "iommufd" ? (iommufd ?? compat ?? defs[0]) : (defs.find((d) => !d.name.startsWith("IOMMU_")) ?? defs[0]);
}

/** The pointer members of the caller's struct (within its size) and the ranges behind them. */
export function pointerRanges(struct: StructDef, bytes: Uint8Array, decoded?: Decoded): { va: bigint; len: bigint; dir: PointerDir }[] {
  if (pointerMembers(struct).length === 0) return [];
  const m = decoded ?? decodePadded(struct, bytes);
  const out: { va: bigint; len: bigint; dir: PointerDir }[] = [];
  for (const p of pointerMembers(struct)) {
    const f = struct.byName.get(p.member)!;
    if (f.offset + f.size > bytes.length) continue;
    const va = BigInt(m[p.member] as bigint);
    const len = p.length(m);
    if (va === 0n || len === 0n || len > (p.dir === "pin" ? MAX_PIN : MAX_COPY)) continue;
    out.push({ va, len, dir: p.dir });
  }
  return out;
}

/** The caller's bytes with the scalar members `out` names set to their new values (fields: resolved values). */
function patchMembers(struct: StructDef, bytes: Uint8Array, out: Record<string, OutValue>, fields: Record<string, FieldValue>): Uint8Array {
  const buf = new Uint8Array(Math.max(bytes.length, struct.size));
  buf.set(bytes);
  const view = new DataView(buf.buffer);
  for (const k of Object.keys(out)) {
    const f = struct.byName.get(k);
    const v = f && fields[f.name];
    if (!f || f.count !== undefined || (typeof v !== "number" && typeof v !== "bigint")) continue;
    if (f.size === 8) view.setBigUint64(f.offset, BigInt.asUintN(64, BigInt(v)), true);
    else if (f.size === 4) view.setUint32(f.offset, Number(BigInt.asUintN(32, BigInt(v))), true);
    else if (f.size === 2) view.setUint16(f.offset, Number(v) & 0xffff, true);
    else view.setUint8(f.offset, Number(v) & 0xff);
  }
  return buf;
}

function errnoOf(out: Outcome): number {
  return ERRNO[out.errno ?? "EIO"] ?? ERRNO.EIO!;
}
