// The record server: `iorr record -- <command>`'s side of the shim built in
// record mode (IORR_RECORD). The shim makes every call itself (the kernel, or
// iorr live's shim when stacked) and reports it; the server keeps it as raw
// trace events: `open`/`close` with their result, and for an `ioctl` the
// caller's struct bytes (`argHex`), the memory behind its pointer members as
// `mem.map`/`mem.write` before and `mem.write` after, and the real result as
// `expect`. No model is involved: what is recorded is what the kernel answered.

import { PAGE_SIZE } from "../model/memory/state.ts";
import { errnoName } from "../uapi/errno.ts";
import { decodeStruct, type StructDef } from "../uapi/layout.ts";
import { fdMembers, type PointerDir, pointerMembers } from "../uapi/pointers.ts";
import { capsOf, type Frame, M, OTHER_KINDS, parseIoctl, parseOther, partialStruct, probeReq, readReq, S, frame } from "./protocol.ts";
import { commandOf, pointerRanges } from "./server.ts";
import { type Conn, ShimServer } from "./shim_server.ts";

const PAGE = BigInt(PAGE_SIZE);
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const h64 = (v: bigint) => `0x${v.toString(16)}`;
/** The most bytes of a read or write buffer recorded (16 MiB), as live mode mirrors at most. */
const MAX_COPY = 1n << 24n;

/** A recorded process: its fds as the trace numbers them, and the pages already recorded as mapped. */
interface Proc {
  pid: number;
  /** The caller's fd -> the trace's fd (numbered as the kernel's fd table for these files alone: lowest free from 3) and its file. */
  fds: Map<number, { fd: number; kind: string }>;
  /** Recorded mappings, [first page, end page). */
  mapped: [bigint, bigint][];
}

/** An ioctl the trace cannot express (it still went to the kernel): why. */
class NotRecorded extends Error {}

export class RecordServer extends ShimServer {
  private readonly procs = new Map<Conn, Proc>();
  /** The recorded events, raw, each with the real outcome as `expect`. */
  readonly events: Record<string, unknown>[] = [];
  /** Calls made but not recorded, by reason. */
  readonly notRecorded = new Map<string, number>();
  /** A child reported by its parent (FORK) whose connection has not come yet. */
  private readonly forked = new Map<number, Proc>();
  /** pid -> the parent's pid, for processes forked by a recorded process. */
  readonly parents = new Map<number, number>();
  calls = 0;

  constructor(socketPath: string) {
    super(socketPath);
  }

  // do_exit: the kernel closes what the process left open.
  protected async ended(c: Conn): Promise<void> {
    const p = this.procs.get(c);
    if (p) this.events.push({ op: "process.exit", pid: p.pid, expect: { ok: true } });
    this.procs.delete(c);
  }

  protected failed(message: string): void {
    this.skip(`record server: ${message}`);
  }

  notRecordedTotal(): number {
    let n = 0;
    for (const v of this.notRecorded.values()) n += v;
    return n;
  }

  private skip(why: string): void {
    this.notRecorded.set(why, (this.notRecorded.get(why) ?? 0) + 1);
  }

  protected async handle(c: Conn, f: Frame): Promise<void> {
    if (f.type === M.HELLO) {
      const pid = f.body.readUInt32LE(0);
      const parent = f.body.readUInt32LE(4);
      if ([...this.procs.values()].some((p) => p.pid === parent)) this.parents.set(pid, parent);
      // A child its parent reported (FORK) is recorded already, with the parent's fds and memory.
      const child = this.forked.get(pid);
      this.forked.delete(pid);
      this.procs.set(c, child ?? { pid, fds: new Map(), mapped: [] });
      if (!child) this.events.push({ op: "process", pid, expect: { ok: true } });
      return;
    }
    const p = this.procs.get(c);
    if (!p) return;
    if (f.type === M.UNMAP) {
      // The caller unmapped memory the trace has mapped: a munmap event, and those pages are no longer recorded as mapped.
      const va = f.body.readBigUInt64LE(0);
      const [first, end] = [va / PAGE, (va + f.body.readBigUInt64LE(8) + PAGE - 1n) / PAGE];
      if (!p.mapped.some(([a, b]) => a < end && first < b)) return;
      p.mapped = p.mapped.flatMap(([a, b]): [bigint, bigint][] => {
        if (b <= first || end <= a) return [[a, b]];
        const keep: [bigint, bigint][] = [];
        if (a < first) keep.push([a, first]);
        if (end < b) keep.push([end, b]);
        return keep;
      });
      this.events.push({ op: "munmap", pid: p.pid, va: h64(first * PAGE), length: h64((end - first) * PAGE), expect: { ret: 0 } });
      return;
    }
    if (f.type === M.CAPS) {
      this.events.push({ op: "process.caps", pid: p.pid, caps: capsOf(f), expect: { ok: true } });
      return;
    }
    if (f.type === M.FORK) {
      // The fork as the event: the child's fd table and mm are the parent's (docs/trace-format.md `process` `parent`).
      const pid = f.body.readInt32LE(0);
      this.parents.set(pid, p.pid);
      this.forked.set(pid, { pid, fds: new Map(p.fds), mapped: p.mapped.map(([a, b]) => [a, b]) });
      this.events.push({ op: "process", pid, parent: p.pid, expect: { ok: true } });
      c.answer(0);
      return;
    }
    if (f.type === M.EXIT) {
      await this.ended(c);
      c.answer(0);
      return;
    }
    this.calls++;
    try {
      await this.call(c, p, f);
      c.answer(0);
    } catch (e) {
      if (c.closed) return; // the process went away in the middle of its call
      if (!(e instanceof NotRecorded)) throw e;
      this.skip(e.message);
      c.answer(0);
    }
  }

  private async call(c: Conn, p: Proc, f: Frame): Promise<void> {
    switch (f.type) {
      case M.OPEN: {
        const res = f.body.readInt32LE(0);
        const path = f.body.subarray(8).toString("utf8");
        if (res < 0) this.events.push({ op: "open", pid: p.pid, path, expect: errnoExpect(-res) });
        else this.events.push({ op: "open", pid: p.pid, path, expect: { fd: this.install(p, res, path === "/dev/iommu" ? "iommufd" : "vfio") } });
        return;
      }
      case M.CLOSE: {
        const real = f.body.readInt32LE(0);
        const res = f.body.readInt32LE(4);
        const t = p.fds.get(real);
        if (!t) throw new NotRecorded("close of an fd not recorded");
        p.fds.delete(real);
        this.events.push({ op: "close", pid: p.pid, fd: t.fd, expect: res < 0 ? errnoExpect(-res) : { ret: 0 } });
        return;
      }
      case M.IOCTL:
        return this.ioctl(c, p, parseIoctl(f.body));
      case M.MEMFD: {
        // memfd_create made the caller's memfd (its fd, then its name): a memfd in the trace.
        const real = f.body.readInt32LE(0);
        this.events.push({ op: "memfd", pid: p.pid, name: f.body.subarray(4).toString("utf8"), expect: { fd: this.install(p, real, "memfd") } });
        return;
      }
      case M.MEMFD_SIZE: {
        const t = p.fds.get(f.body.readInt32LE(0));
        if (!t) throw new NotRecorded("ftruncate of a memfd not recorded");
        this.events.push({ op: "memfd.size", pid: p.pid, fd: t.fd, size: h64(f.body.readBigUInt64LE(4)), expect: { ret: 0 } });
        return;
      }
      case M.MEMFD_MMAP: {
        // A MAP_SHARED mapping of the memfd: mem.map with fd/offset, and its pages are the trace's from now on.
        const t = p.fds.get(f.body.readInt32LE(0));
        if (!t) throw new NotRecorded("mmap of a memfd not recorded");
        const va = f.body.readBigUInt64LE(4);
        const len = ((f.body.readBigUInt64LE(12) + PAGE - 1n) / PAGE) * PAGE;
        p.mapped.push([va / PAGE, (va + len) / PAGE]);
        this.events.push({ op: "mem.map", pid: p.pid, va: h64(va), length: h64(len), fd: t.fd, offset: h64(f.body.readBigUInt64LE(20)), expect: { ok: true } });
        return;
      }
      case M.OTHER:
        if (f.body.length < 56) {
          const what = OTHER_KINDS[f.body.readInt32LE(4)] ?? "unknown call";
          throw new NotRecorded(
            what === "poll" ? "poll on a recorded fd (revents are filtered by the events asked: no poll event)" : `${what} on a recorded fd`,
          );
        }
        return this.other(c, p, f.body);
      default:
        throw new NotRecorded(`unknown message ${f.type}`);
    }
  }

  /**
   * read/write/mmap/munmap made on a recorded fd, reported after the real call with its
   * result: the event with that result as `expect`; a read's or write's buffer made known
   * (mem.map), a write's bytes before it and a read's bytes after it as mem.write, as for
   * an ioctl's pointer ranges.
   */
  private async other(c: Conn, p: Proc, body: Buffer): Promise<void> {
    const { fd: real, what, args } = parseOther(body);
    const [a0, a1, a2, a3, a4] = args!;
    const ret = body.readBigInt64LE(48);
    const expect = ret < 0n ? errnoExpect(Number(-ret)) : { ret: Number(ret) };
    const name = OTHER_KINDS[what];
    if (name === "munmap") {
      this.events.push({ op: "munmap", pid: p.pid, va: h64(a0!), length: h64(a1!), expect });
      return;
    }
    const t = p.fds.get(real);
    if (!t) throw new NotRecorded(`${name ?? "unknown call"} on an fd not recorded`);
    // The model answers these on iommufd and its event-queue files; a VFIO region or a dma-buf's are not modelled.
    if (t.kind === "vfio" || t.kind === "dma-buf") throw new NotRecorded(`${name ?? "unknown call"} on a ${t.kind} fd (not modelled)`);
    if (name === "mmap") {
      this.events.push({
        op: "mmap",
        pid: p.pid,
        fd: t.fd,
        va: h64(a0!),
        length: h64(a1!),
        prot: Number(a2),
        flags: Number(a3),
        offset: h64(a4!),
        expect: ret < 0n ? expect : { ret: Number(a0) },
      });
      return;
    }
    if (name !== "read" && name !== "write") throw new NotRecorded(`${name ?? "unknown call"} on a recorded fd`);
    const [va, count] = [a0!, a1!];
    const pre: Record<string, unknown>[] = [];
    const post: Record<string, unknown>[] = [];
    const bytes = name === "write" ? count : ret > 0n ? ret : 0n;
    if (count > 0n && count <= MAX_COPY) await this.mapPages(c, p, va, count, pre);
    if (bytes > 0n && bytes <= MAX_COPY) {
      const r = await c.request(readReq(va, Number(bytes)));
      // write: copy_from_user read these bytes; read: copy_to_user left them.
      if (r.status === 0) (name === "write" ? pre : post).push({ op: "mem.write", pid: p.pid, va: h64(va), hex: r.data.toString("hex"), expect: { ok: true } });
    }
    this.events.push(...pre, { op: name, pid: p.pid, fd: t.fd, va: h64(va), count: h64(count), expect }, ...post);
  }

  /** A new fd in the trace for the caller's `real`: the lowest free one from 3, as the kernel's fd table for these files alone. */
  private install(p: Proc, real: number, kind: string): number {
    const used = new Set([...p.fds.values()].map((t) => t.fd));
    let fd = 3;
    while (used.has(fd)) fd++;
    p.fds.set(real, { fd, kind });
    return fd;
  }

  private async ioctl(c: Conn, p: Proc, call: { fd: number; cmd: number; arg: bigint; bytes: Uint8Array | undefined; partial: boolean }): Promise<void> {
    const t = p.fds.get(call.fd);
    if (!t) throw new NotRecorded("ioctl on an fd not recorded");
    const def = commandOf(t.kind, call.cmd);
    // The caller's memory ended inside the struct it declared: what copy_struct_from_user would make of it.
    if (call.partial && call.bytes && def?.arg.kind === "struct") call.bytes = partialStruct(def.arg.struct, def.arg.sizeField, call.bytes);
    const name = def?.name ?? `ioctl 0x${call.cmd.toString(16)}`;
    const ev: Record<string, unknown> = { op: "ioctl", pid: p.pid, fd: t.fd, cmd: def ? def.name : call.cmd };
    const pre: Record<string, unknown>[] = [];
    const ranges: { va: bigint; len: number; dir: PointerDir; before: Buffer | undefined }[] = [];
    const struct = def?.arg.kind === "struct" && call.bytes && call.arg !== 0n ? def.arg.struct : undefined;
    if (struct && call.bytes) {
      const bytes = Uint8Array.from(call.bytes);
      this.fdsToTrace(p, name, struct, bytes);
      ev.argHex = hex(bytes);
      for (const m of pointerRanges(struct, call.bytes)) {
        await this.mapPages(c, p, m.va, m.len, pre);
        if (m.dir === "pin") continue;
        const r = await c.request(readReq(m.va, Number(m.len)));
        const before = r.status === 0 ? Buffer.from(r.data) : undefined;
        // copy_from_user reads these bytes: the caller's memory as it was.
        if (before && (m.dir === "in" || m.dir === "inout"))
          pre.push({ op: "mem.write", pid: p.pid, va: h64(m.va), hex: before.toString("hex"), expect: { ok: true } });
        ranges.push({ va: m.va, len: Number(m.len), dir: m.dir, before });
      }
    } else if (def?.arg.kind === "struct") ev.arg = null;
    else if (def?.arg.kind === "int") ev.arg = h64(call.arg);
    else if (def && def.arg.kind !== "none") throw new NotRecorded(`${name}: a ${def.arg.kind} argument (the recorder passes structs and integers)`);

    const done = await c.exchange(frame(S.CALL));
    if (done.type !== M.DONE) throw new Error(`expected the call's result, got message ${done.type}`);
    const ret = done.body.readBigInt64LE(0);
    const after = done.body.readUInt32LE(8) === 1 ? new Uint8Array(done.body.subarray(12)) : undefined;

    const expect: Record<string, unknown> = ret < 0n ? errnoExpect(Number(-ret)) : {};
    // An fd returned by the ioctl (a dma-buf from VFIO_DEVICE_FEATURE): a new fd in the trace.
    if (ret > 0n && def?.name === "VFIO_DEVICE_FEATURE") expect.fd = this.install(p, Number(ret), "dma-buf");
    else if (ret >= 0n) expect.ret = Number(ret);
    if (struct && call.bytes && after) {
      const out = this.outMembers(p, struct, call.bytes, after);
      if (Object.keys(out).length) expect.out = out;
    }
    ev.expect = expect;
    const post: Record<string, unknown>[] = [];
    for (const m of ranges) {
      if (m.dir === "in" || !m.before) continue;
      const r = await c.request(readReq(m.va, m.len));
      // copy_to_user wrote these bytes: the caller's memory as the kernel left it.
      if (r.status === 0 && Buffer.compare(r.data, m.before) !== 0)
        post.push({ op: "mem.write", pid: p.pid, va: h64(m.va), hex: r.data.toString("hex"), expect: { ok: true } });
    }
    this.events.push(...pre, ev, ...post);
  }

  /** An fd member names the caller's fd: the trace names its own number for it; a caller fd the trace has no file for cannot be written. */
  private fdsToTrace(p: Proc, name: string, struct: StructDef, bytes: Uint8Array): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const member of fdMembers(struct, bytes)) {
      const f = struct.byName.get(member)!;
      if (f.offset + 4 > bytes.length) continue;
      const real = view.getInt32(f.offset, true);
      const t = p.fds.get(real);
      if (t) view.setInt32(f.offset, t.fd, true);
      else if (real >= 0) throw new NotRecorded(`${name}: ${member} names an fd the trace has no file for`);
    }
  }

  /** The members the kernel changed in the caller's struct (pointer and input fd members aside), as `expect.out` names them. */
  private outMembers(p: Proc, struct: StructDef, before: Uint8Array, after: Uint8Array): Record<string, unknown> {
    const pad = (b: Uint8Array) => (b.length >= struct.size ? b : Uint8Array.from({ length: struct.size }, (_, i) => b[i] ?? 0));
    const a = decodeStruct(struct, pad(before));
    const b = decodeStruct(struct, pad(after));
    const skip = new Set([...pointerMembers(struct).map((m) => m.member), ...fdMembers(struct, before)]);
    const out: Record<string, unknown> = {};
    for (const f of struct.fields) {
      if (skip.has(f.name) || f.offset + f.size > before.length) continue;
      const x = b[f.name]!;
      if (json(a[f.name]) === json(x)) continue;
      // An fd the kernel installed (out_fault_fd, out_veventq_fd): a new fd in the trace.
      if (/_fd$/.test(f.name) && typeof x === "number" && x >= 0) out[f.name] = this.install(p, x, "anon");
      else out[f.name] = Array.isArray(x) ? x.map(jsonInt) : jsonInt(x);
    }
    return out;
  }

  /** The caller's pages of [va, va + len) not recorded yet become mem.map events, run by run, where the caller has them mapped. */
  private async mapPages(c: Conn, p: Proc, va: bigint, len: bigint, pre: Record<string, unknown>[]): Promise<void> {
    const first = va / PAGE;
    const end = (va + len + PAGE - 1n) / PAGE;
    const covered = (pg: bigint) => p.mapped.some(([s, e]) => pg >= s && pg < e);
    for (let i = first; i < end; ) {
      if (covered(i)) {
        i++;
        continue;
      }
      let j = i;
      while (j < end && !covered(j)) j++;
      const probe = await c.request(probeReq(i * PAGE, Number(j - i)));
      for (let k = 0; k < Number(j - i); ) {
        if (!probe.data[k]) {
          k++;
          continue;
        }
        let l = k;
        while (l < Number(j - i) && probe.data[l] === probe.data[k]) l++;
        const s = i + BigInt(k);
        p.mapped.push([s, i + BigInt(l)]);
        // PROBE answers 2 for a MAP_SHARED page (a forked child shares it).
        const shared = probe.data[k] === 2 ? { shared: true } : {};
        pre.push({ op: "mem.map", pid: p.pid, va: h64(s * PAGE), length: h64(BigInt(l - k) * PAGE), ...shared, expect: { ok: true } });
        k = l;
      }
      i = j;
    }
  }
}

function errnoExpect(n: number): Record<string, unknown> {
  const name = errnoName(n);
  if (!name) throw new NotRecorded(`errno ${n} has no name`);
  return { errno: name };
}

const jsonInt = (v: number | bigint) =>
  typeof v === "bigint" ? (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n ? Number(v) : h64(BigInt.asUintN(64, v))) : v;
const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
