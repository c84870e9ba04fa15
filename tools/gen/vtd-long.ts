// A long guest trace for `iorr why` (tools/bench/why.ts why_ms): one QEMU
// process with an intel-iommu in legacy mode, a 3-level second-stage table
// mapping PAGES pages for the emulated device 00:03.0, then rounds of: the
// guest rewrites one page's leaf entry to another gpa, invalidates that page
// in the IOTLB (register-based: IVA, then IOTLB with IIRG = page), and the
// device reads the page. Deterministic; every expectation follows from the
// tables the trace builds (the gpa the leaf was last given).
//
//   node --import tsx tools/gen/vtd-long.ts <events> <out.jsonl>

import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const hex = (v: bigint | number) => `0x${BigInt(v).toString(16)}`;
const RAM_VA = 0x7f00_0000_0000n;
const RAM_HPA = 0x1_0000_0000n;
const RAM_SIZE = 0x400_0000n;
const PAGES = 256;
const DID = 1;
// Tables: root 0x10000, context table 0x11000, second stage L3 0x12000, L2 0x13000, L1 0x14000.
const ROOT = 0x10000n,
  CTX = 0x11000n,
  L3 = 0x12000n,
  L2 = 0x13000n,
  L1 = 0x14000n;
/** Target gpas: two pools, a page alternating between them at each rewrite. */
const target = (page: number, gen: number) => 0x100_0000n + BigInt(gen % 2) * 0x80_0000n + BigInt(page) * 0x1000n;

/** The trace's lines (header first), about `events` events: the last one a DMA of the last page rewritten. */
export function vtdLongTrace(events: number): { lines: string[]; lastIova: bigint; lastGpa: bigint } {
  const lines: string[] = [
    JSON.stringify({
      format: "iorr-trace",
      version: 1,
      profile: ["linux-mainline", "qemu-flts-final"],
      title: "intel-iommu legacy mode: leaf entries rewritten, invalidated page by page and read by the device",
      source: "synthetic",
      generator: "tools/gen/vtd-long.ts",
    }),
  ];
  let n = 0;
  const ev = (e: Record<string, unknown>, expect: Record<string, unknown> = { ok: true }) => {
    lines.push(JSON.stringify({ ...e, expect }));
    n++;
  };
  const pid = 1;
  const write = (gpa: bigint, ...u64: bigint[]) => ev({ op: "guest.mem.write", pid, gpa: hex(gpa), u64: u64.map(hex) });
  const mw = (off: number, size: number, value: bigint) => ev({ op: "guest.mmio.write", pid, dev: "intel-iommu", off: hex(off), size, value: hex(value) });
  ev({ op: "process", pid });
  ev({ op: "mem.map", pid, va: hex(RAM_VA), length: hex(RAM_SIZE), pa: hex(RAM_HPA) });
  ev({ op: "qemu.machine", pid, ram: [{ gpa: "0x0", size: hex(RAM_SIZE), va: hex(RAM_VA) }] });
  ev({ op: "qemu.viommu", pid, model: "intel-iommu" });
  ev({ op: "qemu.device", pid, guest_bdf: "00:03.0", model: "e1000e" });
  write(ROOT, CTX | 1n); // root entry of bus 0: context table present
  write(CTX + 0x18n * 16n, L3 | 1n, (BigInt(DID) << 8n) | 1n); // devfn 0x18: present, TT 0, DID, AW 1 (3 levels)
  write(L3, L2 | 3n);
  write(L2, L1 | 3n);
  const gen = new Array<number>(PAGES).fill(0);
  for (let p = 0; p < PAGES; p++) write(L1 + BigInt(p) * 8n, target(p, 0) | 1n); // read-only leaves
  mw(0x20, 8, ROOT); // RTADDR
  mw(0x18, 4, 0x4000_0000n); // GCMD.SRTP
  mw(0x18, 4, 0x8000_0000n); // GCMD.TE
  let page = 0;
  let gpa = target(0, 0);
  for (let k = 0; n + 4 <= events; k++) {
    page = (k * 97) % PAGES;
    gen[page]!++;
    gpa = target(page, gen[page]!);
    write(L1 + BigInt(page) * 8n, gpa | 1n);
    mw(0xf0, 8, BigInt(page) * 0x1000n); // IVA: the page, AM 0
    mw(0xf8, 8, (1n << 63n) | (3n << 60n) | (BigInt(DID) << 32n)); // IOTLB: IVT, IIRG page-selective, DID
    ev(
      { op: "dma", pid, guest_bdf: "00:03.0", iova: hex(BigInt(page) * 0x1000n + 0x10n), access: "read" },
      { pa: hex(gpa + 0x10n), page_size: "0x1000", perm: "r", hpa: hex(RAM_HPA + gpa + 0x10n) },
    );
  }
  return { lines, lastIova: BigInt(page) * 0x1000n + 0x10n, lastGpa: gpa };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [events, out] = process.argv.slice(2);
  if (!events || !out) {
    process.stderr.write("usage: node --import tsx tools/gen/vtd-long.ts <events> <out.jsonl>\n");
    process.exit(2);
  }
  writeFileSync(out, `${vtdLongTrace(Number(events)).lines.join("\n")}\n`);
}
