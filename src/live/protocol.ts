// The wire protocol between the shim (src/live/shim/iorr_shim.c) and the
// server (server.ts), as docs/live.md describes it: frames of a u32 length
// then a body (u8 type, fields), little-endian.

import type { StructDef } from "../uapi/layout.ts";

/**
 * Shim to server (DONE: record mode's real result of an ioctl, after CALL; CAPS: the
 * process's effective capability mask, after HELLO and whenever it changed before a call;
 * FORK: the parent's new child; EXIT: exit(); UNMAP: the caller's munmap of its own memory, no answer).
 */
export const M = {
  HELLO: 1,
  OPEN: 2,
  CLOSE: 3,
  IOCTL: 4,
  OTHER: 5,
  REPLY: 6,
  DONE: 7,
  MEMFD: 8,
  MEMFD_SIZE: 9,
  MEMFD_MMAP: 10,
  CAPS: 11,
  FORK: 12,
  EXIT: 13,
  UNMAP: 14,
} as const;

/** A CAPS frame's mask as the `caps` field of a `process.caps` event (CAP_* bit numbers are below 41). */
export function capsOf(f: Frame): number {
  return Number(f.body.readBigUInt64LE(0));
}
/** Server to shim, during a call (CALL: record mode's "make the real call now"). */
export const S = { READ: 16, WRITE: 17, PROBE: 18, NEWFD: 19, RESULT: 20, CALL: 21, FDOPEN: 22 } as const;
/** What an OTHER message names. */
export const OTHER_KINDS: Readonly<Record<number, string>> = { 1: "read", 2: "write", 3: "mmap", 4: "poll", 5: "inherited-fd", 6: "munmap" };

/** An OTHER call: the fd, what, and the call's arguments when the shim sent them (read/write: buf, count; poll: events; mmap: va, length, prot, flags, offset; munmap: va, length). */
export function parseOther(body: Buffer): { fd: number; what: number; args: bigint[] | undefined } {
  const args = body.length >= 48 ? [0, 1, 2, 3, 4].map((i) => body.readBigUInt64LE(8 + 8 * i)) : undefined;
  return { fd: body.readInt32LE(0), what: body.readInt32LE(4), args };
}

export interface Frame {
  type: number;
  body: Buffer;
}

/** Splits a byte stream into frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + len) break;
      out.push({ type: this.buf[4]!, body: this.buf.subarray(5, 4 + len) });
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }
}

export function frame(type: number, ...parts: Uint8Array[]): Buffer {
  const len = 1 + parts.reduce((n, p) => n + p.length, 0);
  const head = Buffer.alloc(5);
  head.writeUInt32LE(len, 0);
  head[4] = type;
  return Buffer.concat([head, ...parts]);
}

export function readReq(va: bigint, len: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64LE(va, 0);
  b.writeUInt32LE(len, 8);
  return frame(S.READ, b);
}

export function writeReq(va: bigint, data: Uint8Array): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(va, 0);
  return frame(S.WRITE, b, data);
}

export function probeReq(va: bigint, pages: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64LE(va, 0);
  b.writeUInt32LE(pages, 8);
  return frame(S.PROBE, b);
}

/** FDOPEN: is the caller's fd open (the shim answers 0, or -EBADF)? */
export function fdOpenReq(fd: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(fd, 0);
  return frame(S.FDOPEN, b);
}

export function result(ret: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(ret), 0);
  return frame(S.RESULT, b);
}

/** A REPLY: its status (0 or -errno; a fd for NEWFD) and data. */
export function parseReply(f: Frame): { status: number; data: Buffer } {
  return { status: f.body.readInt32LE(0), data: f.body.subarray(4) };
}

/** An IOCTL call: the caller's fd, the command number, the argument, and the struct's bytes when they could be read. */
export function parseIoctl(body: Buffer): { fd: number; cmd: number; arg: bigint; bytes: Uint8Array | undefined; partial: boolean } {
  const status = body.readUInt32LE(16);
  return {
    fd: body.readInt32LE(0),
    cmd: body.readUInt32LE(4),
    arg: body.readBigUInt64LE(8),
    bytes: status === 1 || status === 2 ? new Uint8Array(body.subarray(20)) : undefined,
    partial: status === 2,
  };
}

/**
 * An iommufd struct the caller's memory ends inside (IOCTL status 2): copy_struct_from_user
 * copies the kernel's struct, then check_zeroed_user reads the tail up to `size` and stops at
 * the first non-zero byte (E2BIG) or faults (EFAULT). The bytes as an argument that gives the
 * same answer: as they are when the part there holds a non-zero tail byte, else none (EFAULT).
 * A VFIO struct (argsz) is copied up to its minimum only: its bytes stay as they are.
 */
export function partialStruct(struct: StructDef, sizeField: string | undefined, bytes: Uint8Array): Uint8Array | undefined {
  if (sizeField !== "size") return bytes;
  if (bytes.length < struct.size) return undefined;
  return bytes.subarray(struct.size).some((b) => b !== 0) ? bytes : undefined;
}
