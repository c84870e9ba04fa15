// Page-walk figures (docs/architecture.md "Page walk core"):
//   walk4_per_s        uncached 4-level x86 first-stage walks (walkX86Fs) of 64k random 4 KiB pages
//                      mapped over 4 GiB of IOVA space, in random order (budget >= 5,000,000)
//   iotlb_hits_per_s   Iotlb.lookup hits over the same 64k pages once filled (budget >= 30,000,000)
//   nested_walk_per_s  the same first stage nested over a 4-level VT-d second stage (2 MiB pages)
//   walk_vs_c_ratio    C walks/s / TS walks/s for the same walks over the same tables, by
//                      tools/bench/walk.c built with the machine's cc -O2 (null without cc)
// The reader is FlatReader: a Uint32Array of the table pages, read32(pa) = u32[pa >>> 2].

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ACCESS_READ,
  FAULT_NONE,
  Iotlb,
  NestedWalker,
  newNestedResult,
  newWalkResult,
  R_PA,
  walkX86Fs,
  type PageTable,
  type PhysReader,
} from "../../src/pagewalk/index.ts";
import { prng } from "./prng.ts";

/** Physical memory as one flat Uint32Array (addresses below 2^32). */
export class FlatReader implements PhysReader {
  constructor(readonly u32: Uint32Array) {}
  read32(pa: number): number {
    return this.u32[pa >>> 2]!;
  }
}

/** A 64-bit entry builder over a growing Uint32Array; tables are allocated from `next`. */
class Builder {
  u32 = new Uint32Array(1 << 20);
  next: number;
  constructor(first: number) {
    this.next = first;
  }
  alloc(): number {
    const pa = this.next;
    this.next += 4096;
    if (this.next / 4 > this.u32.length) {
      const n = new Uint32Array(this.u32.length * 2);
      n.set(this.u32);
      this.u32 = n;
    }
    return pa;
  }
  get(pa: number): [number, number] {
    return [this.u32[pa >>> 2]!, this.u32[(pa >>> 2) + 1]!];
  }
  set(pa: number, lo: number, hi: number): void {
    this.u32[pa >>> 2] = lo >>> 0;
    this.u32[(pa >>> 2) + 1] = hi >>> 0;
  }
  /** Map the page of 2^(12 + 9 * (leafLevel - 1)) at `va` (below 2^48) to `out` with `bits`; tables get `tableBits`. */
  map(root: number, levels: number, va: number, out: number, leafLevel: number, bits: number, tableBits: number): void {
    let t = root;
    for (let level = levels; level > leafLevel; level--) {
      const pa = t + (Math.floor(va / 2 ** (12 + 9 * (level - 1))) % 512) * 8;
      let [lo] = this.get(pa);
      if (lo === 0) {
        const n = this.alloc();
        this.set(pa, n | tableBits, 0);
        lo = n;
      }
      t = lo & ~0xfff;
    }
    const pa = t + (Math.floor(va / 2 ** (12 + 9 * (leafLevel - 1))) % 512) * 8;
    this.set(pa, (out % 2 ** 32) | bits, Math.floor(out / 2 ** 32));
  }
}

export interface WalkBench {
  walk4_per_s: number;
  iotlb_hits_per_s: number;
  nested_walk_per_s: number;
  walk_vs_c_ratio: number | null;
  c_walk4_per_s: number | null;
  pages: number;
  table_bytes: number;
  reader: string;
}

const PAGES = 65536;
const SPACE_PAGES = (4 * 2 ** 30) / 4096; // 4 GiB of IOVA
const FS_T = 7; // P | RW | US

/** Run `body` (one round) until at least `minMs` passed; returns rounds per second. */
function timed(body: () => void, minMs = 700): number {
  body(); // warm-up
  body();
  let rounds = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    body();
    rounds++;
    t = performance.now();
  }
  return (rounds * 1000) / (t - t0);
}

export function benchWalk(): WalkBench {
  const rand = prng(7);
  // 64k distinct random pages over 4 GiB, to random 4 KiB output pages below 2^40.
  const seen = new Set<number>();
  const vpn = new Float64Array(PAGES);
  while (seen.size < PAGES) {
    const p = Math.floor(rand() * SPACE_PAGES);
    if (!seen.has(p)) {
      vpn[seen.size] = p;
      seen.add(p);
    }
  }
  const b = new Builder(0x1000);
  const root = b.alloc();
  const outs = new Float64Array(PAGES);
  for (let i = 0; i < PAGES; i++) {
    outs[i] = Math.floor(rand() * 2 ** 24) * 4096; // below 2^36, so the checksum of a round stays exact
    b.map(root, 4, vpn[i]! * 4096, outs[i]!, 1, FS_T, FS_T);
  }
  const tableBytes = b.next;
  const mem = new FlatReader(b.u32.subarray(0, tableBytes / 4));
  const pt: PageTable = { root, levels: 4, vaBits: 48, oaBits: 52, granuleLg2: 12, superpages: 3 };
  // Addresses in a random order (a shuffle), each with a random offset.
  const hi = new Uint32Array(PAGES);
  const lo = new Uint32Array(PAGES);
  for (let i = 0; i < PAGES; i++) {
    const j = Math.floor(rand() * (i + 1));
    const va = vpn[i]! * 4096 + ((rand() * 4096) & ~7);
    hi[i] = hi[j]!;
    lo[i] = lo[j]!;
    hi[j] = Math.floor(va / 2 ** 32);
    lo[j] = va >>> 0;
  }

  const out = newWalkResult();
  let sum = 0;
  const round = () => {
    let s = 0;
    for (let i = 0; i < PAGES; i++) {
      if (walkX86Fs(mem, pt, hi[i]!, lo[i]!, ACCESS_READ, out) !== FAULT_NONE) throw new Error("bench walk faulted");
      s += out[R_PA]!;
    }
    sum = s;
  };
  const walk4_per_s = Math.round(timed(round) * PAGES);
  const tsSum = sum;

  // IOTLB: fill from the walks, then hits only.
  const tlb = new Iotlb(PAGES * 2);
  for (let i = 0; i < PAGES; i++) {
    walkX86Fs(mem, pt, hi[i]!, lo[i]!, ACCESS_READ, out);
    tlb.fill(1, 0, hi[i]!, lo[i]!, out);
  }
  const hitRound = () => {
    let s = 0;
    for (let i = 0; i < PAGES; i++) {
      if (!tlb.lookup(1, 0, hi[i]!, lo[i]!, out)) throw new Error("bench IOTLB missed");
      s += out[R_PA]!;
    }
    if (s !== tsSum) throw new Error("bench IOTLB answered differently from the walks");
  };
  const iotlb_hits_per_s = Math.round(timed(hitRound) * PAGES);

  const nested_walk_per_s = benchNested(vpn, hi, lo);
  const c = cWalks(b.u32.subarray(0, tableBytes / 4), root, hi, lo, tsSum);
  return {
    walk4_per_s,
    iotlb_hits_per_s,
    nested_walk_per_s,
    walk_vs_c_ratio: c === null ? null : Math.round((c / walk4_per_s) * 100) / 100,
    c_walk4_per_s: c === null ? null : Math.round(c),
    pages: PAGES,
    table_bytes: tableBytes,
    reader: "FlatReader (Uint32Array of the table pages, read32(pa) = u32[pa >>> 2])",
  };
}

/**
 * The same 64k pages nested: first-stage tables at GPA = HPA + 1 GiB, output
 * GPAs in [2 GiB, 3 GiB); a 4-level second stage maps both with 2 MiB pages.
 */
function benchNested(vpn: Float64Array, hi: Uint32Array, lo: Uint32Array): number {
  const rand = prng(11);
  const G = 0x4000_0000;
  const b = new Builder(0x1000);
  const s1root = b.alloc();
  for (let i = 0; i < PAGES; i++) b.map(s1root, 4, vpn[i]! * 4096, 2 * G + Math.floor(rand() * 2 ** 18) * 4096, 1, FS_T, FS_T);
  // The first-stage tables hold HPAs from the builder; turn every table pointer into its GPA.
  const s1end = b.next;
  const fix = (t: number, level: number) => {
    for (let i = 0; i < 512; i++) {
      const pa = t + i * 8;
      const [elo, ehi] = b.get(pa);
      if (elo === 0 || level === 1) continue;
      const next = elo & ~0xfff;
      fix(next, level - 1);
      b.set(pa, (next + G) | (elo & 0xfff), ehi);
    }
  };
  fix(s1root, 4);
  const s2root = b.alloc();
  const M2 = 0x20_0000;
  for (let gpa = 0; gpa < s1end + M2; gpa += M2) b.map(s2root, 4, G + gpa, gpa, 2, 3 | 0x80, 3);
  for (let gpa = 2 * G; gpa < 3 * G; gpa += M2) b.map(s2root, 4, gpa, 0x10_0000_0000 + gpa, 2, 3 | 0x80, 3);
  const mem = new FlatReader(b.u32.subarray(0, b.next / 4));
  const s1: PageTable = { root: s1root + G, levels: 4, vaBits: 48, oaBits: 52, granuleLg2: 12, superpages: 3 };
  const s2: PageTable = { root: s2root, levels: 4, vaBits: 48, oaBits: 52, granuleLg2: 12, superpages: 3 };
  const w = new NestedWalker();
  const out = newNestedResult();
  const round = () => {
    for (let i = 0; i < PAGES; i++) if (w.walk(mem, s1, s2, hi[i]!, lo[i]!, ACCESS_READ, out) !== FAULT_NONE) throw new Error("bench nested walk faulted");
  };
  return Math.round(timed(round) * PAGES);
}

/** Build tools/bench/walk.c into a temp dir and run it on the same tables and addresses; C walks/s, or null without cc. */
function cWalks(words: Uint32Array, root: number, hi: Uint32Array, lo: Uint32Array, expectSum: number): number | null {
  const dir = mkdtempSync(join(tmpdir(), "iorr-walk-c-"));
  try {
    const src = join(dirname(fileURLToPath(import.meta.url)), "walk.c");
    const exe = join(dir, "walk");
    try {
      execFileSync("cc", ["-O2", "-o", exe, src], { stdio: "pipe" });
    } catch {
      return null;
    }
    // File: u32 nwords, root, naddr; words; then naddr (hi, lo) pairs. Little-endian.
    const n = hi.length;
    const buf = new Uint32Array(3 + words.length + 2 * n);
    buf[0] = words.length;
    buf[1] = root;
    buf[2] = n;
    buf.set(words, 3);
    for (let i = 0; i < n; i++) {
      buf[3 + words.length + 2 * i] = hi[i]!;
      buf[3 + words.length + 2 * i + 1] = lo[i]!;
    }
    const data = join(dir, "tables.bin");
    writeFileSync(data, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    const outText = execFileSync(exe, [data], { encoding: "utf8" });
    const m = /walks_per_s (\S+) sum (\d+)/.exec(outText);
    if (!m) throw new Error(`walk.c printed ${outText}`);
    if (Number(m[2]) !== expectSum) throw new Error(`walk.c translated differently: sum ${m[2]} vs ${expectSum}`);
    return Number(m[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
