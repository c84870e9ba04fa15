// The live server: one Unix socket, one connection per process running under
// the shim (src/live/shim/iorr_shim.c). Each call becomes trace events folded
// by LiveSession (the same reducers as replay); the answer goes back with the
// out-struct and the memory behind pointer members written into the caller.
// Calls from all processes are handled one at a time, in arrival order.

import { PAGE_SIZE } from "../model/memory/state.ts";
import type { Outcome, OutValue } from "../model/outcome.ts";
import { type ProcessState, regionAt, vaToPa } from "../model/process/state.ts";
import type { State } from "../model/state.ts";
import { copyFromUser } from "../model/uaccess/copy.ts";
import { PINNED_TOUCH, pinnedTouched, type TouchedRange } from "../model/uaccess/pinned.ts";
import type { UapiCommand } from "../uapi/commands.ts";
import { ERRNO } from "../uapi/errno.ts";
import { commandsByNumber } from "../uapi/index.ts";
import { type Decoded, decodeStruct, encodeStruct, type FieldValue, type StructDef } from "../uapi/layout.ts";
import { decodePadded, fdMembers, pointerMembers, type PointerDir } from "../uapi/pointers.ts";
import { capsOf, type Frame, fdOpenReq, M, OTHER_KINDS, parseIoctl, parseOther, partialStruct, probeReq, readReq, S, frame, writeReq } from "./protocol.ts";
import { mappingContents } from "../model/iommufd/main.ts";
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

  /** The connection of each process that has one (a pinned page is read from its own process). */
  readonly byPid = new Map<number, Conn>();
  /**
   * A MAP_SHARED page (its file's device, inode and offset, as PROBE names it) -> the model's frame
   * for it, per family of processes the model forked from one another (the root's pid). Processes
   * the model does not know to be related keep their own frames: the model's mm begins at a
   * process's first call, and what it shared with unrelated processes is not its memory.
   */
  private readonly sharedFrames = new Map<string, bigint>();
  /** A live pid -> its fork family (a serial: a new one for a process not forked by a known process). */
  private readonly family = new Map<number, number>();
  private families = 0;
  /** A child the model forked (FORK) whose connection has not come yet: its fd numbers, the parent's at the fork. */
  private readonly forked = new Map<number, Map<number, number>>();

  // do_exit: the process's fds are closed (close_files), as process.exit folds them.
  protected async ended(c: Conn): Promise<void> {
    if (this.byPid.get(c.pid) === c) {
      this.byPid.delete(c.pid);
      this.family.delete(c.pid);
    }
    if (c.started) this.session.fold({ op: "process.exit", pid: c.pid });
    c.started = false;
  }

  protected failed(message: string): void {
    this.session.unmodelled(`live server: ${message}`);
  }

  protected async handle(c: Conn, f: Frame): Promise<void> {
    const s = this.session;
    if (f.type === M.HELLO) {
      c.pid = f.body.readUInt32LE(0);
      this.byPid.set(c.pid, c);
      // A child the parent reported (FORK) is in the model already, with the parent's fds under the same numbers.
      const fds = this.forked.get(c.pid);
      this.forked.delete(c.pid);
      if (fds) for (const [real, fd] of fds) c.toModel.set(real, fd);
      if (!fds) this.family.set(c.pid, ++this.families);
      const out = fds ? undefined : s.fold({ op: "process", pid: c.pid });
      c.started = out === undefined || (!isUnmodelled(out) && out.ok === true);
      return;
    }
    if (f.type === M.FORK || f.type === M.EXIT) {
      c.answer(f.type === M.FORK ? this.fork(c, f.body.readInt32LE(0)) : this.exit(c));
      return;
    }
    if (f.type === M.UNMAP) {
      // The caller unmapped its memory: what the model mirrored of the range goes too (munmap).
      const [va, len] = [f.body.readBigUInt64LE(0), f.body.readBigUInt64LE(8)];
      const p = c.started ? s.state.processes.get(c.pid) : undefined;
      if (p?.mm.some((r) => r.va < va + len && va < r.va + r.length)) s.fold({ op: "munmap", pid: c.pid, va: h64(va), length: h64(len) });
      return;
    }
    if (f.type === M.CAPS) {
      if (c.started) s.fold({ op: "process.caps", pid: c.pid, caps: capsOf(f) });
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
      case M.MEMFD:
        return this.memfd(c, f.body);
      case M.MEMFD_SIZE:
        return this.memfdSize(c, f.body);
      case M.MEMFD_MMAP:
        return this.memfdMmap(c, f.body);
      case M.OTHER:
        return this.other(c, parseOther(f.body));
      default:
        return this.enosys(`unknown message ${f.type}`);
    }
  }

  /** memfd_create made the caller's memfd (its fd, then its name): the model gets a `memfd` event and the caller's fd maps to the model's. */
  private memfd(c: Conn, body: Buffer): number {
    const real = body.readInt32LE(0);
    const out = this.session.fold({ op: "memfd", pid: c.pid, name: body.subarray(4).toString("utf8") });
    if (isUnmodelled(out)) return this.enosys(`memfd_create: ${out.why}`);
    if (out.fd === undefined) return -errnoOf(out);
    c.toModel.set(real, out.fd);
    return 0;
  }

  /** ftruncate/fallocate changed a memfd's size (the caller's call succeeded): `memfd.size`. */
  private memfdSize(c: Conn, body: Buffer): number {
    const fd = c.toModel.get(body.readInt32LE(0));
    if (fd === undefined) return -ERRNO.EBADF!;
    const out = this.session.fold({ op: "memfd.size", pid: c.pid, fd, size: h64(body.readBigUInt64LE(4)) });
    if (isUnmodelled(out)) return this.enosys(`ftruncate: ${out.why}`);
    return out.errno ? -errnoOf(out) : 0;
  }

  /** A MAP_SHARED mmap of a memfd (fd, va, length, offset): `mem.map` with `fd`/`offset`, the length rounded up to pages. */
  private memfdMmap(c: Conn, body: Buffer): number {
    const fd = c.toModel.get(body.readInt32LE(0));
    if (fd === undefined) return -ERRNO.EBADF!;
    const len = ((body.readBigUInt64LE(12) + PAGE - 1n) / PAGE) * PAGE;
    const ev = { op: "mem.map", pid: c.pid, va: h64(body.readBigUInt64LE(4)), length: h64(len), fd, offset: h64(body.readBigUInt64LE(20)) };
    const out = this.session.fold(ev);
    if (isUnmodelled(out)) return this.enosys(`mmap of a memfd: ${out.why}`);
    if (out.errno) return this.enosys(`mmap of a memfd: the model's mem.map answers ${out.errno} (a mapping the caller removed: munmap is not intercepted)`);
    return 0;
  }

  /**
   * read, write, poll, mmap and munmap of a model fd as events: the caller's buffer is made
   * known as for an ioctl's pointer member (read: written back after), an mmap's window is
   * filled with what the model's mapping shows.
   */
  private async other(c: Conn, call: { fd: number; what: number; args: bigint[] | undefined }): Promise<number | bigint> {
    const s = this.session;
    const name = OTHER_KINDS[call.what] ?? "unknown call";
    const fd = call.fd >= 0 ? c.toModel.get(call.fd) : undefined;
    const a = call.args;
    if (!a || call.what === 5 || (fd === undefined && call.what !== 6))
      return this.enosys(call.what === 4 && a === undefined ? "poll of a model fd with other fds" : `${name} on a ${this.kindOf(c, call.fd) ?? "model"} fd`);
    const fold = async (raw: Record<string, unknown>): Promise<number | bigint> => {
      const out = s.fold(raw);
      if (isUnmodelled(out)) return this.enosys(`${name}: ${out.why}`);
      return out.errno ? -errnoOf(out) : (out.ret ?? 0);
    };
    switch (name) {
      case "read":
      case "write": {
        const [va, count] = [a[0]!, a[1]!];
        const range = { va, len: count, dir: name === "read" ? ("out" as const) : ("in" as const) };
        let m: Mirrored | undefined;
        if (count > 0n && count <= MAX_COPY) {
          await this.mapRange(c, range);
          m = await this.mirror(c, range, c.request(readReq(va, Number(count))));
        }
        if (count > MAX_COPY) return this.enosys(`${name} of more than ${MAX_COPY} bytes`);
        const r = await fold({ op: name, pid: c.pid, fd, va: h64(va), count: h64(count) });
        if (m?.before) await this.writeBack(c, m);
        return r;
      }
      case "poll":
        return fold({ op: "poll", pid: c.pid, fd });
      case "mmap": {
        const [va, length, prot, flags, offset] = a as [bigint, bigint, bigint, bigint, bigint];
        const r = await fold({ op: "mmap", pid: c.pid, fd, va: h64(va), length: h64(length), offset: h64(offset), prot: Number(prot), flags: Number(flags) });
        if (r >= 0) {
          // What the mapping shows (the mock vIOMMU's page) goes into the caller's anonymous memory.
          const bytes = mappingContents(s.state, c.pid, va);
          if (bytes?.some((b) => b !== 0)) await c.request(writeReq(va, bytes));
        }
        return r;
      }
      case "munmap":
        return fold({ op: "munmap", pid: c.pid, va: h64(a[0]!), length: h64(a[1]!) });
      default:
        return this.enosys(`${name} on a model fd`);
    }
  }

  /** kernel_clone: the child is folded as a `process` with `parent`; its connection takes the parent's fd numbers. */
  private fork(c: Conn, child: number): number {
    if (!c.started) return ENOSYS;
    const out = this.session.fold({ op: "process", pid: child, parent: c.pid });
    if (isUnmodelled(out)) return this.enosys(`fork: ${out.why}`);
    if (out.errno) return -errnoOf(out);
    this.forked.set(child, new Map(c.toModel));
    this.family.set(child, this.family.get(c.pid)!);
    return 0;
  }

  /** exit(): do_exit now, before the parent's wait can return (the connection's close would come later). */
  private exit(c: Conn): number {
    if (c.started) this.session.fold({ op: "process.exit", pid: c.pid });
    c.started = false;
    c.toModel.clear();
    return 0;
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

  private async ioctl(c: Conn, call: { fd: number; cmd: number; arg: bigint; bytes: Uint8Array | undefined; partial: boolean }): Promise<number | bigint> {
    const s = this.session;
    const fd = c.toModel.get(call.fd);
    if (fd === undefined) return -ERRNO.EBADF!;
    const def = commandOf(this.kindOf(c, call.fd), call.cmd);
    // The caller's memory ended inside the struct it declared: what copy_struct_from_user would make of it.
    if (call.partial && call.bytes && def?.arg.kind === "struct") call.bytes = partialStruct(def.arg.struct, def.arg.sizeField, call.bytes);
    const raw: Record<string, unknown> = { op: "ioctl", pid: c.pid, fd, cmd: def ? def.name : call.cmd };
    const name = def?.name ?? `ioctl 0x${call.cmd.toString(16)}`;
    const struct = def?.arg.kind === "struct" ? def.arg.struct : undefined;
    const mirrored: Mirrored[] = [];
    let temp: number[] = [];
    let decoded: Decoded | undefined;
    if (def?.arg.kind === "struct") {
      if (call.bytes && call.arg !== 0n) {
        // The event's copy of the struct carries model fds; the caller's bytes stay as they are.
        const bytes = Uint8Array.from(call.bytes);
        decoded = decodePadded(def.arg.struct, call.bytes);
        temp = await this.fdsToModel(c, def.arg.struct, bytes, decoded);
        raw.argHex = hex(bytes);
        const ranges = pointerRanges(def.arg.struct, call.bytes, decoded);
        // Memory the call reaches through pinned pages (the caller's own; another process's is not re-read).
        if (PINNED_TOUCH[def.arg.struct.name]) {
          const modelFds = { ...decoded };
          for (const n of fdMembers(def.arg.struct, bytes, decoded))
            modelFds[n] = new DataView(bytes.buffer).getInt32(def.arg.struct.byName.get(n)!.offset, true);
          for (const t of pinnedTouched(s.state, c.pid, def.arg.struct, modelFds)) {
            if (t.len > MAX_COPY) continue;
            // Another process's pages: the caller may map the same MAP_SHARED pages at the same address (inherited over fork).
            if (t.pid !== c.pid) await this.mapRange(c, { va: t.va, len: t.len, dir: "in" });
            for (const r of callerView(s.state, c.pid, t)) ranges.push({ ...r, dir: t.write ? "inout" : "in" });
          }
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
    for (const fd of temp) s.fold({ op: "close", pid: c.pid, fd });
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
   * know is asked about (FDOPEN): an open one becomes a `file` event (a file the
   * model does not simulate, closed again after the call: the returned list), one
   * that is not open is -1 (fdget fails: EBADF), so the kernel's order of checks decides.
   */
  private async fdsToModel(c: Conn, struct: StructDef, bytes: Uint8Array, decoded: Decoded): Promise<number[]> {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const temp: number[] = [];
    for (const name of fdMembers(struct, bytes, decoded)) {
      const f = struct.byName.get(name)!;
      if (f.offset + 4 > bytes.length) continue;
      const real = view.getInt32(f.offset, true);
      let fd = c.toModel.get(real);
      if (fd === undefined && real >= 0) {
        const r = await c.request(fdOpenReq(real));
        const out = r.status === 0 ? this.session.fold({ op: "file", pid: c.pid, path: `caller fd ${real}` }) : undefined;
        fd = out && !isUnmodelled(out) && out.fd !== undefined ? out.fd : -1;
        if (fd >= 0) temp.push(fd);
      }
      if (fd !== undefined) view.setInt32(f.offset, fd, true);
    }
    return temp;
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
      const ids = sharedIds(probe.data, j - i);
      const va = (k: number) => first + BigInt(i + k) * PAGE;
      for (let k = 0; k < j - i; ) {
        if (!probe.data[k]) {
          k++;
          continue;
        }
        // A MAP_SHARED page another process mapped already (the same file page) is the same frame.
        const fam = this.family.get(c.pid);
        const key = (m: number) => `${fam}:${ids.get(m)}`;
        const pa = probe.data[k] === 2 ? this.sharedFrames.get(key(k)) : undefined;
        if (pa !== undefined) {
          this.session.fold({ op: "mem.map", pid: c.pid, va: h64(va(k)), length: h64(PAGE), pa: h64(pa), shared: true });
          k++;
          continue;
        }
        let l = k;
        while (l < j - i && probe.data[l] === probe.data[k] && (probe.data[l] !== 2 || !this.sharedFrames.has(key(l)))) l++;
        // PROBE answers 2 for a MAP_SHARED page: a forked child shares it.
        const shared = probe.data[k] === 2 ? { shared: true } : {};
        this.session.fold({ op: "mem.map", pid: c.pid, va: h64(va(k)), length: h64(BigInt(l - k) * PAGE), ...shared });
        const p = this.session.state.processes.get(c.pid);
        for (let m = k; p && probe.data[k] === 2 && m < l; m++) {
          const pa = vaToPa(p, va(m));
          if (pa !== undefined) this.sharedFrames.set(key(m), pa);
        }
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
    if (after && m.dir === "fill") {
      c.post(writeReq(m.va, after));
      return;
    }
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

/** PROBE's answer past its one byte per page: (dev, inode, offset) of each shared page (2), in page order, as a key per page index. */
function sharedIds(data: Buffer, pages: number): Map<number, string> {
  const ids = new Map<number, string>();
  let at = pages;
  for (let k = 0; k < pages; k++) {
    if (data[k] !== 2 || at + 24 > data.length) continue;
    ids.set(k, `${data.readBigUInt64LE(at)}:${data.readBigUInt64LE(at + 8)}:${data.readBigUInt64LE(at + 16)}`);
    at += 24;
  }
  return ids;
}

function errnoOf(out: Outcome): number {
  return ERRNO[out.errno ?? "EIO"] ?? ERRNO.EIO!;
}

/**
 * Where the caller sees a touched range: its own memory as it is; another process's (an
 * area a forked child mapped: the selftest's fork_present) only through the frames the
 * caller shares with it (MAP_SHARED), at the caller's addresses for them. Pages the caller
 * does not share are read as the model last saw them.
 */
function callerView(st: State, pid: number, t: TouchedRange): { va: bigint; len: bigint }[] {
  if (t.pid === pid) return [{ va: t.va, len: t.len }];
  const owner = st.processes.get(t.pid);
  const caller = st.processes.get(pid);
  if (!caller) return [];
  const out: { va: bigint; len: bigint }[] = [];
  for (let va = t.va; va < t.va + t.len; ) {
    const next = va - (va % PAGE) + PAGE;
    const end = next < t.va + t.len ? next : t.va + t.len;
    // The pinned frame (the owner may have exited: the pin holds the page), else the owner's page now.
    const iova = t.iova + (va - t.va);
    const run = t.runs?.find((r) => r.iova <= iova && iova < r.iova + r.length);
    const pa = run ? run.pa + (iova - run.iova) : owner && vaToPa(owner, va);
    const at = pa === undefined ? undefined : sharedVa(caller, pa);
    if (at !== undefined) {
      const last = out[out.length - 1];
      if (last && last.va + last.len === at) last.len += end - va;
      else out.push({ va: at, len: end - va });
    }
    va = end;
  }
  return out;
}

/** The caller's address of physical `pa` in one of its MAP_SHARED regions, if it maps it. */
function sharedVa(p: ProcessState, pa: bigint): bigint | undefined {
  for (const r of p.mm) {
    if (!r.shared) continue;
    const step = BigInt(r.stride) * PAGE;
    const d = pa - r.pa;
    if (d < 0n || d % step >= PAGE) continue;
    const page = d / step;
    if (page * PAGE < r.length) return r.va + page * PAGE + (d % step);
  }
  return undefined;
}
