// Reads and writes of simulated physical memory. Reads take any MemoryState
// (a draft or a frozen state); writes copy the frame first, because a frame's
// bytes may be shared with earlier states.

import { provenance } from "../provenance.ts";
import { CHUNK_SHIFT, PAGE_SHIFT, PAGE_SIZE, type MemoryState } from "./state.ts";

const CHUNK_FRAMES = 1 << CHUNK_SHIFT;

// Chunk and index by division, not shifts: a pfn may be past 2^32 (addresses up to 2^52).
export function frameAt(mem: MemoryState, pfn: number): Uint8Array | undefined {
  return mem.frames.get(Math.floor(pfn / CHUNK_FRAMES))?.get(pfn % CHUNK_FRAMES);
}

/**
 * Copy-on-write: put a private copy of frame `pfn` (zeros if never written) in
 * its place and return it, free to change. Earlier states keep the old bytes.
 */
export function copyFrame(mem: MemoryState, pfn: number): Uint8Array {
  const key = Math.floor(pfn / CHUNK_FRAMES);
  let chunk = mem.frames.get(key);
  if (!chunk) {
    chunk = new Map();
    mem.frames.set(key, chunk);
  }
  const old = chunk.get(pfn % CHUNK_FRAMES);
  // new Uint8Array(old) copies; slice() would share bytes when the frame is a Buffer from a checkpoint.
  const frame = old ? new Uint8Array(old) : new Uint8Array(PAGE_SIZE);
  chunk.set(pfn % CHUNK_FRAMES, frame);
  return frame;
}

/** Copy `len` bytes at physical address `pa` into `out` (zeros where never written). */
export function readPhys(mem: MemoryState, pa: bigint, out: Uint8Array): void {
  let done = 0;
  while (done < out.length) {
    const addr = pa + BigInt(done);
    const pfn = Number(addr >> BigInt(PAGE_SHIFT));
    const off = Number(addr & BigInt(PAGE_SIZE - 1));
    const n = Math.min(PAGE_SIZE - off, out.length - done);
    const frame = frameAt(mem, pfn);
    if (frame) out.set(frame.subarray(off, off + n), done);
    else out.fill(0, done, done + n);
    done += n;
  }
}

/** Write bytes at physical address `pa`, copying each touched frame. */
export function writePhys(mem: MemoryState, pa: bigint, data: Uint8Array): void {
  provenance()?.wrote(Number(pa), data.length);
  let done = 0;
  while (done < data.length) {
    const addr = pa + BigInt(done);
    const pfn = Number(addr >> BigInt(PAGE_SHIFT));
    const off = Number(addr & BigInt(PAGE_SIZE - 1));
    const n = Math.min(PAGE_SIZE - off, data.length - done);
    copyFrame(mem, pfn).set(data.subarray(done, done + n), off);
    done += n;
  }
}
