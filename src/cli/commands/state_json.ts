// The state as `iorr state --json` prints it: every table as JSON (Maps as
// objects, 64-bit values as numbers, or hex strings past 2^53), except that physical
// memory is a summary unless --memory asks for the bytes (a DMA-heavy trace
// holds megabytes of frames). The shape is documented in README.md.

import { toJsonValue } from "../../model/outcome.ts";
import { CHUNK_SHIFT, KERNEL_BASE_PFN, PAGE_SHIFT, type MemoryState } from "../../model/memory/state.ts";
import type { State } from "../../model/state.ts";
import { hex } from "../../model/values.ts";

const CHUNK_FRAMES = 1 << CHUNK_SHIFT;

export function stateJson(s: State, withMemory: boolean): unknown {
  const o = toJsonValue(s) as Record<string, unknown>;
  o.memory = memoryJson(s, withMemory);
  return o;
}

export function memoryJson(s: State, withMemory: boolean) {
  const mem = s.memory;
  let frames = 0;
  let pageTables = 0;
  for (const [chunk, m] of mem.frames) {
    frames += m.size;
    if (chunk * CHUNK_FRAMES >= KERNEL_BASE_PFN) pageTables += m.size;
  }
  const ranges = [...s.processes.values()].flatMap((p) =>
    p.mm.map((r) => ({
      pid: p.pid,
      va: toJsonValue(r.va),
      length: toJsonValue(r.length),
      pa: toJsonValue(r.pa),
      stride: r.stride,
      frames: framesIn(mem, Number(r.pa >> BigInt(PAGE_SHIFT)), Number(r.length >> BigInt(PAGE_SHIFT)), r.stride),
    })),
  );
  return {
    frames,
    page_table_frames: pageTables,
    allocator: toJsonValue(BigInt(mem.nextPfn) << BigInt(PAGE_SHIFT)),
    kernel_allocator: toJsonValue(BigInt(mem.kernelNextPfn) << BigInt(PAGE_SHIFT)),
    kernel_free: mem.kernelFree.length,
    ranges,
    ...(withMemory ? { contents: contents(mem) } : {}),
  };
}

/** Frames held among first, first + stride, ... (`pages` of them): a process range's backing. */
function framesIn(mem: MemoryState, first: number, pages: number, stride: number): number {
  const last = first + (pages - 1) * stride;
  let n = 0;
  for (let chunk = Math.floor(first / CHUNK_FRAMES); chunk <= Math.floor(last / CHUNK_FRAMES); chunk++) {
    const m = mem.frames.get(chunk);
    if (!m) continue;
    for (const i of m.keys()) {
      const pfn = chunk * CHUNK_FRAMES + i;
      if (pfn >= first && pfn <= last && (pfn - first) % stride === 0) n++;
    }
  }
  return n;
}

/** Every frame held, by physical address, ascending: its 4096 bytes as hex. */
function contents(mem: MemoryState): Record<string, string> {
  const pfns: number[] = [];
  for (const [chunk, m] of mem.frames) for (const i of m.keys()) pfns.push(chunk * CHUNK_FRAMES + i);
  pfns.sort((x, y) => x - y);
  const out: Record<string, string> = {};
  for (const pfn of pfns) {
    const bytes = mem.frames.get(Math.floor(pfn / CHUNK_FRAMES))!.get(pfn % CHUNK_FRAMES)!;
    out[hex(BigInt(pfn) << BigInt(PAGE_SHIFT))] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  }
  return out;
}
