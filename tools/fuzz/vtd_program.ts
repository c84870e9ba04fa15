// Random intel-iommu guest programs for the differential fuzzer against QEMU
// (tools/fuzz/oracle.ts). A program is a valid trace: one VMM with an
// intel-iommu in legacy or scalable mode (second stage, or first stage under
// x-flts), emulated devices on bus 0, the root / context / PASID tables and
// page tables built in guest RAM as a guest driver builds them, then a random
// sequence of DMAs, register reads and writes, invalidations (by register or
// through the queue) and entry corruptions (bit flips, all ones, zero).
// Events carry no `expect`: the oracle compares iorr with QEMU, not with a
// guess. Deterministic: the seed decides everything.
//
// Layouts: VT-d spec 9.1-9.6 (root, context, scalable-mode context, PASID
// directory and table entries), 6.5.2 (invalidation descriptors), 10.4
// (registers); QEMU intel_iommu_internal.h for the offsets and bits.

import { prng } from "../bench/prng.ts";
import { mapPage } from "../gen/page_tables.ts";

const RAM_VA = 0x7f00_0000_0000n;
const RAM_SIZE = 0x400_0000n; // 64 MiB, as q35 lays out -m 64M
const hex = (v: bigint | number) => `0x${BigInt(v).toString(16)}`;

const R = {
  CAP: 0x08,
  ECAP: 0x10,
  GCMD: 0x18,
  GSTS: 0x1c,
  RTADDR: 0x20,
  CCMD: 0x28,
  FSTS: 0x34,
  FECTL: 0x38,
  FEDATA: 0x3c,
  FEADDR: 0x40,
  IQH: 0x80,
  IQT: 0x88,
  IQA: 0x90,
  ICS: 0x9c,
  IECTL: 0xa0,
  IVA: 0xf0,
  IOTLB: 0xf8,
  FRCD: 0x220,
} as const;
const TE = 1n << 31n,
  SRTP = 1n << 30n,
  QIE = 1n << 26n;

export type Mode = "legacy" | "scalable-ss" | "scalable-fs";

export interface Program {
  mode: Mode;
  lines: string[];
}

class Rng {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  /** A random 64-bit value. */
  u64(): bigint {
    return (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32));
  }
}

/** The guest's view while the program is generated: what it wrote where. */
class Guest {
  readonly lines: string[] = [];
  private next = 0x10_0000n;
  /** Every table entry written (qword address -> value): the corruption targets. */
  readonly entries = new Map<bigint, bigint>();
  constructor(readonly rng: Rng) {}
  ev(e: Record<string, unknown>) {
    this.lines.push(JSON.stringify(e));
  }
  page(): bigint {
    const p = this.next;
    this.next += 0x1000n;
    return p;
  }
  write(gpa: bigint, ...u64: bigint[]) {
    for (const [i, v] of u64.entries()) this.entries.set(gpa + BigInt(i) * 8n, v);
    this.ev({ op: "guest.mem.write", pid: 1, gpa: hex(gpa), u64: u64.map(hex) });
  }
  read(gpa: bigint): bigint {
    return this.entries.get(gpa) ?? 0n;
  }
  mw(off: number, size: number, value: bigint) {
    this.ev({ op: "guest.mmio.write", pid: 1, dev: "intel-iommu", off: hex(off), size, value: hex(value) });
  }
  mr(off: number, size: number) {
    this.ev({ op: "guest.mmio.read", pid: 1, dev: "intel-iommu", off: hex(off), size });
  }
  /** Map iova to gpa with a 2^lg2 page in a `levels`-level table at `root` (x86 / VT-d layouts share the shape). */
  map(root: bigint, levels: number, iova: bigint, gpa: bigint, lg2: number, leafBits: bigint, tableBits: bigint) {
    mapPage(this, root, levels, iova, gpa, lg2, leafBits, tableBits);
  }
}

interface Mapping {
  dev: string;
  iova: bigint;
  lg2: number;
}

const DEVICES = ["00:02.0", "00:03.0", "00:04.0", "00:05.0"];
const devfn = (bdf: string) => {
  const [, df] = bdf.split(":") as [string, string];
  const [d, f] = df.split(".") as [string, string];
  return (parseInt(d, 16) << 3) | parseInt(f, 16);
};

/** One random program for `seed`. */
export function vtdProgram(seed: number): Program {
  const rng = new Rng(seed);
  const g = new Guest(rng);
  const mode = rng.pick<Mode>(["legacy", "scalable-ss", "scalable-fs"]);
  const props: Record<string, unknown> = {};
  if (mode !== "legacy") props["x-scalable-mode"] = true;
  if (mode === "scalable-fs") props["x-flts"] = true;
  else if (rng.chance(0.3)) props["aw-bits"] = 39;
  if (rng.chance(0.3)) props["caching-mode"] = true;
  // The properties that change what the guest may program (vtd_init's capability bits, x86-iommu's pt / device-iotlb).
  if (rng.chance(0.15)) props["snoop-control"] = true;
  if (rng.chance(0.15)) props["stale-tm"] = true;
  if (rng.chance(0.15)) props.pt = false;
  if (rng.chance(0.15)) props["device-iotlb"] = true;
  if (mode === "legacy" && rng.chance(0.1)) props["dma-drain"] = false; // scalable mode refuses it (vtd_decide_config)
  if (mode === "scalable-fs" && rng.chance(0.2)) props.fs1gp = false;
  if (mode !== "legacy" && rng.chance(0.15)) props["x-pasid-mode"] = true;
  const levels = props["aw-bits"] === 39 ? 3 : 4;
  const devices = DEVICES.slice(0, 1 + rng.int(3));

  g.lines.push(
    JSON.stringify({
      format: "iorr-trace",
      version: 1,
      title: `random intel-iommu guest program, seed ${seed} (${mode})`,
      source: "synthetic",
      seed,
      generator: "tools/fuzz/vtd_program.ts",
    }),
  );
  g.ev({ op: "process", pid: 1 });
  g.ev({ op: "mem.map", pid: 1, va: hex(RAM_VA), length: hex(RAM_SIZE), pa: "0x100000000" });
  g.ev({ op: "qemu.machine", pid: 1, ram: [{ gpa: "0x0", size: hex(RAM_SIZE), va: hex(RAM_VA) }] });
  g.ev({ op: "qemu.viommu", pid: 1, model: "intel-iommu", props });
  for (const d of devices) g.ev({ op: "qemu.device", pid: 1, guest_bdf: d, model: "e1000e" });

  // Tables: one root table, one context table for bus 0, one page-table tree per domain.
  const root = g.page(),
    ctx = g.page();
  const scalable = mode !== "legacy";
  g.write(root, ctx | 1n);
  const maps: Mapping[] = [];
  const ssBits = () => rng.pick([3n, 3n, 3n, 1n, 2n]);
  const fsBits = () => rng.pick([7n, 7n, 7n, 5n, 3n]); // P | RW | US, read-only, supervisor
  const pasidTables = new Map<string, bigint>();
  const trees: { did: number; root: bigint; fs: boolean }[] = [];
  const tree = (fs: boolean) => {
    const t = { did: 1 + rng.int(4), root: g.page(), fs };
    trees.push(t);
    return t;
  };
  const fill = (dev: string, t: { root: bigint; fs: boolean }, pasid: number | undefined) => {
    for (let i = 0, n = 2 + rng.int(5); i < n; i++) {
      const lg2 = rng.pick([12, 12, 12, 21, 30]);
      const iova = BigInt(rng.int(levels === 3 ? 2 ** 27 : 2 ** 30)) << 12n;
      const aligned = (iova >> BigInt(lg2)) << BigInt(lg2);
      const gpa = rng.chance(0.9) ? (BigInt(rng.int(Number(RAM_SIZE >> 12n))) << 12n) & ~((1n << BigInt(lg2)) - 1n) : rng.u64() & 0x0000_ffff_ffff_f000n;
      g.map(t.root, t.fs ? 4 : levels, aligned, gpa & ~((1n << BigInt(lg2)) - 1n), lg2, t.fs ? fsBits() : ssBits(), t.fs ? 7n : 3n);
      if (pasid === undefined) maps.push({ dev, iova: aligned, lg2 });
    }
  };
  for (const d of devices) {
    const fs = mode === "scalable-fs" && rng.chance(0.8);
    const t = rng.chance(0.3) && trees.length > 0 ? rng.pick(trees) : tree(fs);
    if (!scalable) {
      const tt = rng.pick([0n, 0n, 0n, 0n, 2n, 1n, 3n]);
      const aw = rng.chance(0.9) ? BigInt(levels - 2) : BigInt(rng.int(8));
      g.write(ctx + BigInt(devfn(d)) * 16n, t.root | (tt << 2n) | (rng.chance(0.1) ? 2n : 0n) | 1n, (BigInt(t.did) << 8n) | aw);
    } else {
      const dir = g.page(),
        table = g.page();
      g.write(dir, table | (rng.chance(0.1) ? 2n : 0n) | 1n);
      g.write(ctx + BigInt(devfn(d)) * 32n, dir | (rng.chance(0.1) ? 2n : 0n) | 1n, 0n, 0n, 0n);
      pasidTables.set(d, table);
      const pgtt = t.fs ? 1n : rng.pick([2n, 2n, 2n, 4n]);
      const aw = BigInt(levels - 2);
      const pe0 = (pgtt === 2n ? t.root : 0n) | (pgtt << 6n) | (aw << 2n) | (rng.chance(0.1) ? 2n : 0n) | 1n;
      const pe2 = pgtt === 1n ? t.root | (rng.chance(0.1) ? 1n : 0n) : 0n; // FSPM 0: 4-level; sometimes SRE
      g.write(table, pe0, BigInt(t.did), pe2, 0n, 0n, 0n, 0n, 0n);
      // A second PASID entry (the device sends no PASID; QEMU reads it for PASID-cache invalidation only).
      if (rng.chance(0.3)) g.write(table + 64n * BigInt(1 + rng.int(63)), pe0, BigInt(t.did), pe2, 0n, 0n, 0n, 0n, 0n);
    }
    if (t.fs === (mode === "scalable-fs") || !scalable) fill(d, t, undefined);
  }
  const rtaddr = scalable ? root | (1n << 10n) : root;
  g.mw(R.RTADDR, 8, rtaddr);
  g.mw(R.GCMD, 4, SRTP);
  g.mw(R.GCMD, 4, TE);

  // The invalidation queue, enabled in most programs: 4 KiB (QS 0), 128-bit
  // descriptors in legacy mode, 256-bit (DW) in scalable mode.
  const iq = g.page();
  let qi = false,
    tail = 0;
  const dw = scalable ? 1n << 11n : 0n;
  if (rng.chance(0.7)) {
    g.mw(R.IQA, 8, iq | dw);
    g.mw(R.IQT, 8, 0n);
    g.mw(R.GCMD, 4, TE | QIE);
    qi = true;
  }
  const descSize = scalable ? 32n : 16n;
  const slots = Number(0x1000n / descSize);
  const queue = (lo: bigint, hi: bigint) => {
    g.write(iq + BigInt(tail) * descSize, lo, hi, ...(scalable ? [0n, 0n] : []));
    tail = (tail + 1) % slots;
    g.mw(R.IQT, 8, BigInt(tail) * (scalable ? 32n : 16n));
  };
  const anyDid = () => BigInt(rng.chance(0.8) && trees.length > 0 ? rng.pick(trees).did : rng.int(8));
  const anySid = () => BigInt(devfn(rng.pick(devices)));
  const anyIova = () => (maps.length > 0 ? rng.pick(maps).iova : 0n);

  const actions: (() => void)[] = [
    // A DMA, mostly into a mapping, sometimes anywhere.
    () => {
      const m = maps.length > 0 && rng.chance(0.85) ? rng.pick(maps) : undefined;
      const dev = m?.dev ?? rng.pick(devices);
      const iova = m ? m.iova + (BigInt(rng.int(2 ** Math.min(m.lg2, 30))) & ~7n) : rng.u64() & (rng.chance(0.5) ? 0xffff_f000n : 0xffff_ffff_ffffn);
      g.ev({ op: "dma", pid: 1, guest_bdf: dev, iova: hex(iova), access: rng.pick(["read", "write"]) });
    },
    () => {
      const m = maps.length > 0 ? rng.pick(maps) : undefined;
      if (m) g.ev({ op: "dma", pid: 1, guest_bdf: m.dev, iova: hex(m.iova), access: "read" });
    },
    // Register reads.
    () => {
      const [off, size] = rng.pick([
        [R.GSTS, 4],
        [R.FSTS, 4],
        [R.FECTL, 4],
        [R.FRCD, 8],
        [R.FRCD + 8, 8],
        [R.IQH, 8],
        [R.IQT, 8],
        [R.IQA, 8],
        [R.ICS, 4],
        [R.CCMD, 8],
        [R.IOTLB, 8],
        [R.RTADDR, 8],
        [R.IECTL, 4],
        [R.FEDATA, 4],
        [0x00, 4], // VER
        [R.CAP, 8],
        [R.ECAP, 8],
        [0x64, 4], // PMEN
      ] as const);
      g.mr(off, size);
    },
    // A corrupted entry: one bit flipped, all ones, zero, or a random value.
    () => {
      const at = rng.pick([...g.entries.keys()].filter((a) => a < iq || a >= iq + 0x1000n));
      const old = g.read(at);
      const v = rng.pick([0, 0, 0, 1, 2, 3]);
      const nv = v === 0 ? old ^ (1n << BigInt(rng.int(64))) : v === 1 ? 0xffff_ffff_ffff_ffffn : v === 2 ? 0n : rng.u64();
      g.write(at, nv);
    },
    // Invalidations: through the queue when it is on, else the registers.
    () => {
      if (qi) {
        const kind = rng.int(9);
        const did = anyDid();
        if (kind === 0) queue(0x1n | (BigInt(1 + rng.int(3)) << 4n) | (did << 16n) | (anySid() << 32n) | (BigInt(rng.int(4)) << 48n), 0n);
        else if (kind === 1) queue(0x2n | (BigInt(1 + rng.int(3)) << 4n) | (did << 16n), BigInt(anyIova()) | BigInt(rng.pick([0, 0, 1, 9])));
        else if (kind === 2)
          queue(0x6n | (BigInt(2 + rng.int(2)) << 4n) | (did << 16n) | (BigInt(rng.pick([0, 0, 1])) << 32n), BigInt(anyIova()) | BigInt(rng.pick([0, 1, 9])));
        else if (kind === 3) queue(0x7n | (BigInt(rng.pick([0, 1, 3])) << 4n) | (did << 16n), 0n);
        else if (kind === 4) queue(0x5n | (1n << 5n) | (BigInt(rng.int(256)) << 32n), iq + 0xff0n);
        else if (kind === 5) queue(0x4n | (BigInt(rng.int(2)) << 4n), 0n);
        else if (kind === 6) queue(0x3n | (anySid() << 16n), 0n);
        else if (kind === 7) queue(rng.u64() & 0xfffn, 0n);
        else queue(0x5n | (1n << 4n), 0n);
      } else {
        const kind = rng.int(3);
        if (kind === 0) g.mw(R.CCMD, 8, (1n << 63n) | (BigInt(1 + rng.int(3)) << 61n) | (BigInt(rng.int(4)) << 32n) | (anySid() << 16n) | anyDid());
        else {
          if (rng.chance(0.5)) g.mw(R.IVA, 8, BigInt(anyIova()) | BigInt(rng.pick([0, 0, 1, 9])));
          g.mw(R.IOTLB, 8, (1n << 63n) | (BigInt(1 + rng.int(3)) << 60n) | (anyDid() << 32n));
        }
      }
    },
    // Fault handling: clear a recorded fault, FSTS bits, mask or unmask.
    () => {
      const kind = rng.int(3);
      if (kind === 0) g.mw(R.FRCD + 12, 4, 1n << 31n);
      else if (kind === 1) g.mw(R.FSTS, 4, BigInt(rng.int(256)));
      else g.mw(R.FECTL, 4, rng.chance(0.5) ? 1n << 31n : 0n);
    },
    // Global command: TE off and on, SRTP again, QIE off and on.
    () => {
      const kind = rng.int(4);
      if (kind === 0) g.mw(R.GCMD, 4, qi ? QIE : 0n);
      else if (kind === 1) g.mw(R.GCMD, 4, TE | (qi ? QIE : 0n));
      else if (kind === 2) g.mw(R.GCMD, 4, SRTP | TE | (qi ? QIE : 0n));
      else if (qi) {
        g.mw(R.GCMD, 4, TE);
        g.mw(R.GCMD, 4, TE | QIE);
      }
    },
  ];
  actions.push(
    // A random field in a random register (queue size, fault event, interrupt remapping, PMEN, ...).
    () => {
      const [off, size] = rng.pick([
        [R.IQA, 8],
        [R.FEDATA, 4],
        [R.FEADDR, 4],
        [R.IECTL, 4],
        [0x64, 4],
        [0xb8, 8],
        [R.RTADDR, 8],
        [R.FRCD + 8, 8],
        [R.ICS, 4],
      ] as const);
      g.mw(off, size, off === R.IQA ? iq | dw | BigInt(rng.int(3)) : rng.u64() & (size === 4 ? 0xffff_ffffn : 0xffff_ffff_ffff_ffffn));
    },
    // A burst of wait descriptors: the queue's tail wraps past its end.
    () => {
      if (qi) for (let i = 0, n = 20 + rng.int(60); i < n; i++) queue(0x5n | (1n << 5n) | (BigInt(i) << 32n), iq + 0x1000n + 0x10n);
    },
    // DMAs near the interrupt range, at zero, and with DMAR off.
    () => {
      const dev = rng.pick(devices);
      const iova = rng.pick([0xfee0_0000n, 0xfee0_1000n, 0xfeef_fff8n, 0n, 0xffff_fffcn, 1n << 47n, (1n << 39n) - 8n]);
      g.ev({ op: "dma", pid: 1, guest_bdf: dev, iova: hex(iova), access: rng.pick(["read", "write"]) });
    },
  );
  const weights = [8, 3, 5, 3, 3, 1, 1, 1, 1, 1];
  const total = weights.reduce((a, b) => a + b, 0);
  for (let i = 0, n = 30 + rng.int(50); i < n; i++) {
    let k = rng.int(total);
    let a = 0;
    while (k >= weights[a]!) k -= weights[a++]!;
    actions[a]!();
  }
  return { mode, lines: g.lines };
}
