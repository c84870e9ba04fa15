// Physical memory as a user looks it up: by address. A path "memory.0x40001000"
// names the 8-byte word at that physical address (page-table entries are 8-byte
// words), read little-endian as the IOMMU reads them (x86 and Arm PTEs are
// little-endian); a frame never written reads as zeros (src/model/memory/state.ts).
// `state --path`, the debugger's print/watch and diffs name memory this way.

import { CHUNK_SHIFT, PAGE_SHIFT, PAGE_SIZE, type MemoryState } from "../model/memory/state.ts";
import { hex } from "../model/values.ts";
import { selectPath, splitPath, type PathResult } from "./path.ts";

export const WORD = 8;
const CHUNK_FRAMES = 1 << CHUNK_SHIFT;

/** The frame holding physical frame number `pfn`, if it was ever written. */
export function frameAt(mem: MemoryState, pfn: number): Uint8Array | undefined {
  return mem.frames.get(Math.floor(pfn / CHUNK_FRAMES))?.get(pfn % CHUNK_FRAMES);
}

/** The 8-byte little-endian word at offset `off` of a frame (absent frame: zero). */
export function wordOf(frame: Uint8Array | undefined, off: number): bigint {
  if (!frame) return 0n;
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getBigUint64(off, true);
}

/** "memory.0x40001000": the path of the word at a physical address. */
export function wordPath(addr: bigint): string {
  return `memory.${hex(addr)}`;
}

const ADDRESS = /^0x[0-9a-f]+$/i;

/**
 * selectPath, with "memory.<physical address>" read as the 8-byte word there (a hex
 * string, as diffs show it). The address must be 8-byte aligned.
 */
export function selectStatePath(state: unknown, path: string): PathResult | { found: false; at: string; missing: string; reason: string } {
  const segs = splitPath(path);
  if (segs.length >= 2 && segs[0] === "memory" && ADDRESS.test(segs[1]!) && isMemory((state as { memory?: unknown })?.memory)) {
    const addr = BigInt(segs[1]!);
    if (addr % BigInt(WORD) !== 0n) return { found: false, at: "memory", missing: segs[1]!, reason: "a memory word's address is 8-byte aligned" };
    if (segs.length > 2) return { found: false, at: `memory.${segs[1]}`, missing: segs[2]!, reason: "a memory word has no parts" };
    const mem = (state as { memory: MemoryState }).memory;
    const pfn = Number(addr >> BigInt(PAGE_SHIFT));
    return { found: true, value: hex(wordOf(frameAt(mem, pfn), Number(addr % BigInt(PAGE_SIZE)))) };
  }
  return selectPath(state, path);
}

function isMemory(v: unknown): v is MemoryState {
  return v !== null && typeof v === "object" && (v as { frames?: unknown }).frames instanceof Map;
}

/** Where a path left the state, in words: for --path and the debugger's print. */
export function describeMiss(r: { at: string; missing: string; known?: string[]; reason?: string }): string {
  const where = r.at === "" ? "at the top of the state" : `in ${r.at}`;
  if (r.reason) return `no "${r.missing}" ${where}: ${r.reason}`;
  const known = r.known ?? [];
  const shown = known.length > 24 ? [...known.slice(0, 24), `... ${known.length - 24} more`] : known;
  const hint = r.at === "memory" ? "; a memory word is memory.<8-byte aligned physical address>" : "";
  return `no "${r.missing}" ${where} (${known.length === 0 ? "it has no parts" : `it has: ${shown.join(", ")}`}${hint})`;
}
