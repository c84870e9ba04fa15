// walkX86Fs / walkX86FsSetAD take an unrolled fast path for 4- and 5-level
// tables and fall back to a general loop for anything else (x86fs.ts). This
// checks both against a plain reference walk (the walker as it was before the
// fast path) on random tables: random P/RW/US/A/D/PS/XD and reserved bits,
// tables above 4 GiB, every access kind, 3 to 7 levels; every result slot,
// the fault and the A/D writes must agree.

import { describe, expect, it } from "vitest";
import {
  ACCESS_EXEC,
  ACCESS_PRIV,
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_NON_CANONICAL,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PERMISSION,
  FAULT_PRIVILEGE,
  FAULT_RESERVED,
  MAX_STEPS,
  newWalkResult,
  PERM_R,
  PERM_U,
  PERM_W,
  PERM_X,
  R_ENTRY,
  R_LEVEL,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  R_STEPS,
  walkX86Fs,
  walkX86FsSetAD,
  x86Canonical,
  type PageTable,
  type PhysMemory,
  type PhysReader,
} from "../../src/pagewalk/index.ts";
import { field51to12, index9, offsetIn } from "../../src/pagewalk/bits.ts";
import { WordMem } from "./helpers.ts";
import { prng } from "../../src/scenarios/prng.ts";

/** The first-stage walk as written before the fast path (one loop, every check in order). */
function refWalk(mem: PhysReader, writer: PhysMemory | null, pt: PageTable, iovaHi: number, iovaLo: number, access: number, out: Float64Array): number {
  out[R_STEPS] = 0;
  out[R_LEVEL] = pt.levels;
  if (!x86Canonical(iovaHi, iovaLo, pt.vaBits)) return FAULT_NON_CANONICAL;
  const oaBits = Math.max(32, pt.oaBits);
  const rsvdHi = oaBits >= 52 ? 0 : ((1 << (52 - oaBits)) - 1) << (oaBits - 32);
  const write = (access & ACCESS_WRITE) !== 0;
  const user = (access & ACCESS_PRIV) === 0;
  let table = pt.root;
  let rw = 2;
  let us = 4;
  let xd = 0;
  for (let level = pt.levels, step = 0; level >= 1 && step < MAX_STEPS; level--, step++) {
    const pa = table + index9(iovaHi, iovaLo, 12 + 9 * (level - 1)) * 8;
    const lo = mem.read32(pa);
    const hi = mem.read32(pa + 4);
    out[R_ENTRY + step] = pa;
    out[R_STEPS] = step + 1;
    out[R_LEVEL] = level;
    if ((lo & 1) === 0) return FAULT_NOT_PRESENT;
    if (user && (lo & 4) === 0) return FAULT_PRIVILEGE;
    if (write && (lo & 2) === 0) return FAULT_PERMISSION;
    if ((hi & rsvdHi) !== 0) return FAULT_RESERVED;
    rw &= lo;
    us &= lo;
    xd |= hi;
    let leafLg2 = 0;
    if (level === 1) leafLg2 = 12;
    else if (lo & 0x80) {
      if (level === 2) {
        if (lo & 0x1fe000) return FAULT_RESERVED;
        leafLg2 = 21;
      } else if (level === 3 && pt.superpages & 2) {
        if (lo & 0x3fffe000) return FAULT_RESERVED;
        leafLg2 = 30;
      } else return FAULT_RESERVED;
    }
    if (writer !== null) {
      const set = 0x20 | (leafLg2 !== 0 && write ? 0x40 : 0);
      if ((lo & set) !== set) writer.write32(pa, (lo | set) >>> 0);
    }
    if (leafLg2 !== 0) {
      if (access & ACCESS_EXEC && xd & (1 << 31)) return FAULT_PERMISSION;
      const f = field51to12(hi, lo);
      const base = (f - (f % (1 << (leafLg2 - 12)))) * 4096;
      out[R_PA] = base + offsetIn(iovaHi, iovaLo, leafLg2);
      out[R_PAGE_LG2] = leafLg2;
      out[R_PERM] = PERM_R | (rw ? PERM_W : 0) | (us ? PERM_U : 0) | (xd & (1 << 31) ? 0 : PERM_X);
      return FAULT_NONE;
    }
    table = field51to12(hi, lo) * 4096;
  }
  return FAULT_RESERVED;
}

/** A copy of a WordMem that records its writes in order. */
class LoggedMem extends WordMem {
  readonly log: [number, number][] = [];
  override write32(pa: number, value: number): void {
    this.log.push([pa, value >>> 0]);
    super.write32(pa, value);
  }
}

/** Fill the tables on the path of `iova` with random entries, mostly good ones; tables may sit above 4 GiB. */
function randomPath(mem: WordMem, rand: () => number, pt: PageTable, iova: bigint): void {
  let table = pt.root;
  for (let level = pt.levels; level >= 1; level--) {
    const index = Number((iova >> BigInt(12 + 9 * (level - 1))) & 511n);
    const pick = (p: number) => rand() < p;
    const high = pick(0.3) ? Math.floor(rand() * 0x100) + 1 : 0; // address bits 51:32 of the next table / page
    const next = high * 2 ** 32 + Math.floor(rand() * 0x100000) * 4096;
    let lo = (next % 2 ** 32) | 1 | 2 | 4 | 0x20 | 0x40;
    let hi = Math.floor(next / 2 ** 32);
    if (pick(0.05)) lo &= ~1; // not present
    if (pick(0.08)) lo &= ~4; // supervisor only
    if (pick(0.08)) lo &= ~2; // read-only
    if (pick(0.2)) lo &= ~0x20; // A clear
    if (pick(0.2)) lo &= ~0x40; // D clear
    if (pick(0.1)) lo |= 0x80; // PS (PAT on a PTE)
    if (pick(0.05)) lo |= 1 << (13 + Math.floor(rand() * 17)); // superpage reserved bits, or just address bits
    if (pick(0.1)) hi |= 1 << 31; // XD
    if (pick(0.05)) hi |= 1 << Math.floor(rand() * 20); // address bits 51:32, reserved below 52 - oaBits
    mem.set(table, index, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    table = next;
  }
}

describe("x86 first stage: the fast path agrees with the reference walk", () => {
  const accesses = [
    0,
    ACCESS_READ,
    ACCESS_WRITE,
    ACCESS_READ | ACCESS_WRITE,
    ACCESS_EXEC,
    ACCESS_READ | ACCESS_PRIV,
    ACCESS_WRITE | ACCESS_PRIV,
    ACCESS_EXEC | ACCESS_PRIV,
  ];
  for (const levels of [3, 4, 5, 6, 7]) {
    it(`${levels} levels, random tables, every access kind, with and without A/D`, () => {
      const rand = prng(levels * 1000 + 1);
      let faults = 0;
      let ok = 0;
      for (let n = 0; n < 600; n++) {
        const vaBits = levels === 5 ? 57 : 48;
        const pt: PageTable = {
          root: (rand() < 0.2 ? 2 ** 33 : 0) + 0x1000 * (1 + Math.floor(rand() * 1000)),
          levels,
          vaBits,
          oaBits: [32, 39, 46, 48, 52][Math.floor(rand() * 5)]!,
          granuleLg2: 12,
          superpages: rand() < 0.5 ? 3 : 1,
        };
        // Canonical most of the time: sign-extend bit vaBits - 1.
        let iova = BigInt(Math.floor(rand() * 2 ** 30)) | (BigInt(Math.floor(rand() * 2 ** 30)) << 27n);
        iova &= (1n << BigInt(vaBits)) - 1n;
        if (iova >> BigInt(vaBits - 1)) iova |= ~((1n << BigInt(vaBits)) - 1n) & 0xffffffffffffffffn;
        if (rand() < 0.05) iova ^= 1n << 60n;
        const base = new WordMem();
        randomPath(base, rand, pt, iova);
        const hi = Number(iova >> 32n);
        const lo = Number(iova & 0xffffffffn);
        for (const access of accesses) {
          const want = newWalkResult().fill(-7);
          const got = newWalkResult().fill(-7);
          expect(walkX86Fs(base, pt, hi, lo, access, got)).toBe(refWalk(base, null, pt, hi, lo, access, want));
          expect(Array.from(got)).toEqual(Array.from(want));
          const m1 = new LoggedMem();
          const m2 = new LoggedMem();
          for (const [k, v] of base.words) {
            m1.words.set(k, v);
            m2.words.set(k, v);
          }
          want.fill(-7);
          got.fill(-7);
          const f = refWalk(m1, m1, pt, hi, lo, access, want);
          expect(walkX86FsSetAD(m2, pt, hi, lo, access, got)).toBe(f);
          expect(Array.from(got)).toEqual(Array.from(want));
          expect(m2.log).toEqual(m1.log);
          if (f === FAULT_NONE) ok++;
          else faults++;
        }
      }
      // Both outcomes are exercised (levels 6 and 7 can only fault).
      expect(faults).toBeGreaterThan(100);
      if (levels <= 5) expect(ok).toBeGreaterThan(100);
    });
  }
});
