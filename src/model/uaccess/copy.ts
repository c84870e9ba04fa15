// copy_from_user / copy_to_user against a process's simulated memory, for the
// arrays that iommufd commands pass by pointer (allowed_iovas). A range that
// touches an unmapped page faults (EFAULT) before anything is read or written.

import { readPhys, writePhys } from "../memory/physmem.ts";
import { vaToPa } from "../process/state.ts";
import { PAGE_SIZE } from "../memory/state.ts";
import type { ProcessState } from "../process/state.ts";
import type { State } from "../state.ts";
import { U64_MAX } from "../values.ts";

const PAGE = BigInt(PAGE_SIZE);

/** The pieces of [va, va + len) split at page boundaries, with their physical addresses; undefined on a fault. */
function pieces(p: ProcessState, va: bigint, len: number): { pa: bigint; off: number; n: number }[] | undefined {
  if (va + BigInt(len) - 1n > U64_MAX) return undefined;
  const out: { pa: bigint; off: number; n: number }[] = [];
  for (let off = 0; off < len; ) {
    const cur = va + BigInt(off);
    const n = Math.min(len - off, Number(PAGE - (cur % PAGE)));
    const pa = vaToPa(p, cur);
    if (pa === undefined) return undefined;
    out.push({ pa, off, n });
    off += n;
  }
  return out;
}

export function copyFromUser(s: State, p: ProcessState, va: bigint, len: number): Uint8Array | undefined {
  const ps = pieces(p, va, len);
  if (!ps) return undefined;
  const out = new Uint8Array(len);
  for (const x of ps) readPhys(s.memory, x.pa, out.subarray(x.off, x.off + x.n));
  return out;
}

/** false: EFAULT, nothing written. */
export function copyToUser(s: State, p: ProcessState, va: bigint, data: Uint8Array): boolean {
  const ps = pieces(p, va, data.length);
  if (!ps) return false;
  for (const x of ps) writePhys(s.memory, x.pa, data.subarray(x.off, x.off + x.n));
  return true;
}

/** struct iommu_iova_range as the 16 bytes the user's array holds. */
export function encodeRange(start: bigint, last: bigint): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, start, true);
  v.setBigUint64(8, last, true);
  return b;
}

export function decodeRange(b: Uint8Array): { start: bigint; last: bigint } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { start: v.getBigUint64(0, true), last: v.getBigUint64(8, true) };
}
