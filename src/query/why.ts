// `iorr why`: the outcome of a DMA probe after event N and the events that
// established every piece it depends on (docs/architecture.md "Queries").
//
// The trace is replayed from its first event with a Provenance installed
// (src/model/provenance.ts): checkpoints carry no provenance, and plain
// replay records none. The probe is then folded as event N+1 (probe.ts); the
// DMA's translation gathers its pieces as it reads them: each table entry by
// the last writers of its bytes (a write later overwritten is not one), the
// cached entries by what their fill read then, registers, attachments and
// domains by the event that last set them. Added here from the state at N:
// the map that made the IOAS area (or type1 mapping), the process memory map
// backing the output, and for a guest translation the invalidations that
// made its entries visible.

import { Effect } from "effect";
import { NO_PASID } from "../model/domain/state.ts";
import type { TraceEvent } from "../model/events.ts";
import type { BadInput, ProfileService, SimulatorFault } from "../model/framework.ts";
import type { Outcome } from "../model/outcome.ts";
import { type Piece, Provenance, setProvenance } from "../model/provenance.ts";
import type { State } from "../model/state.ts";
import { replay, type ReplayFault } from "../replay/engine.ts";
import type { Trace } from "../replay/source.ts";
import { probeAt } from "./probe.ts";

export interface WhyEvent {
  seq: number;
  op: string;
  /** The ioctl's command, for an ioctl. */
  cmd?: string;
  role: string;
}

export interface WhyResult {
  outcome: Outcome;
  events: WhyEvent[];
}

/** The outcome of the DMA `probe` after event `at`, and the events it depends on, in seq order. */
export function why(probe: TraceEvent, at: number): Effect.Effect<WhyResult, ReplayFault | BadInput | SimulatorFault, Trace | ProfileService> {
  const rec = new Provenance();
  return Effect.acquireUseRelease(
    Effect.sync(() => setProvenance(rec)),
    () =>
      Effect.gen(function* () {
        const r = yield* replay({ until: at });
        const outcome = yield* probeAt(r.state, at, probe);
        const pieces = [...rec.pieces, ...statePieces(rec, r.state, probe), ...invalidationPieces(rec, probe, at)];
        return { outcome, events: report(rec, pieces, at) };
      }),
    () => Effect.sync(() => setProvenance(null)),
  );
}

/**
 * Pieces read from the state at N: the map of the area behind every IOAS
 * address the translation went through (each page's IOVA; for a nested
 * domain every GPA its parent translated), the process memory map behind
 * every page's output, one piece per area and per region.
 */
function statePieces(rec: Provenance, s: State, probe: TraceEvent): Piece[] {
  const out: Piece[] = [];
  const push = (role: string, key: string) => {
    const seq = rec.markOf(key);
    if (seq !== undefined) out.push({ seq, role });
  };
  if (probe.guest_bdf === undefined) {
    const id = s.host.devices.get(probe.bdf as string)?.attached.get((probe.pasid as number | undefined) ?? NO_PASID);
    const d = id === undefined ? undefined : s.domains.table.get(id);
    const pagingId = d?.type === "nested" ? d.parentId : d?.id;
    for (const iova of new Set(rec.ioasAddrs)) {
      // iommufd: the IOAS of the HWPT holding the domain, its area at the IOVA (IOMMU_IOAS_MAP / COPY / MAP_FILE).
      for (const ctx of s.iommufd.values())
        for (const o of ctx.objects.values()) {
          if (o.type !== "hwpt_paging" || o.domainId !== pagingId) continue;
          const ioas = ctx.objects.get(o.ioasId);
          const area = ioas?.type === "ioas" ? ioas.areas.find((a) => a.iova <= iova && iova <= a.last) : undefined;
          if (area && ioas)
            push(`map (IOAS ${ioas.id} area 0x${area.iova.toString(16)}-0x${area.last.toString(16)})`, `area:${ctx.fileId}:${ioas.id}:${area.iova}`);
        }
      // VFIO type1: the container's vfio_dma at the IOVA (VFIO_IOMMU_MAP_DMA).
      for (const c of s.vfio.containers.values()) {
        const t = c.type1;
        if (!t || t.domainId !== pagingId) continue;
        const dma = t.dmaList.find((m) => m.iova <= iova && iova < m.iova + m.size);
        if (dma) push(`map (container ${c.id} 0x${dma.iova.toString(16)}+0x${dma.size.toString(16)})`, `type1:${dma.pid}:${dma.iova}:${dma.vaddr}`);
      }
    }
  }
  // The memory behind the output: guest DMA lands at hpa, host DMA at pa; each region once, named by its first page.
  const regions = new Map<string, { role: string; more: number }>();
  for (const pa of rec.outputs)
    for (const p of s.processes.values()) {
      if (probe.guest_bdf !== undefined && p.pid !== probe.pid) continue;
      for (const r of p.mm) {
        const off = pa - r.pa;
        const span = r.length * BigInt(r.stride);
        // A region's 4 KiB pages are every `stride` frames from r.pa.
        if (off < 0n || off >= span || (off >> 12n) % BigInt(r.stride) !== 0n) continue;
        const key = `mm:${p.pid}:${r.va}`;
        const seen = regions.get(key);
        if (seen) seen.more++;
        else regions.set(key, { role: `process memory map (pid ${p.pid} va 0x${r.va.toString(16)}, backing 0x${pa.toString(16)}`, more: 0 });
      }
    }
  for (const [key, r] of regions) push(`${r.role}${r.more ? ` and ${r.more} more page${r.more > 1 ? "s" : ""}` : ""})`, key);
  return out;
}

/**
 * The invalidations that made a guest translation's entries visible, for each
 * page of the DMA: of each cache (IOTLB, context cache), the last one covering
 * the request before its entries were read from memory (the IOTLB fill a hit
 * used, or the probe) and after the final write of the entries that cache
 * holds (every entry for the IOTLB, root and context entries for the context
 * cache). None when no invalidation came after those writes: nothing stale
 * could have been cached. A page that faulted is matched by its request (sid,
 * PASID, domain, IOVA): the invalidation removed the cached translation it
 * would otherwise have hit.
 */
function invalidationPieces(rec: Provenance, probe: TraceEvent, at: number): Piece[] {
  if (probe.guest_bdf === undefined) return [];
  const out: Piece[] = [];
  rec.pages.forEach((page, i) => {
    const t = page.info;
    if (!t) return;
    const pieces = rec.pieces.slice(page.from, rec.pages[i + 1]?.from ?? rec.pieces.length);
    const after = (cls: (p: Piece) => boolean) => Math.max(0, ...pieces.filter(cls).map((p) => p.seq));
    const pick = (cache: "iotlb" | "context", written: number, before: number): void => {
      for (let j = rec.invalidations.length - 1; j >= 0; j--) {
        const inv = rec.invalidations[j]!;
        if (inv.seq >= before || inv.pid !== probe.pid || inv.cache !== cache) continue;
        if (inv.seq <= written) return;
        if (inv.covers(t)) return void out.push({ seq: inv.seq, role: inv.role });
      }
    };
    pick(
      "iotlb",
      after((p) => p.cls !== undefined),
      page.iotlbFill?.seq ?? at + 1,
    );
    pick(
      "context",
      after((p) => p.cls === "ctx"),
      page.ctxSeq ?? at + 1,
    );
  });
  return out;
}

/** The pieces as the report lists them: in seq order (stable), each (seq, role) once; none of the probe itself (a page's cache fill another page used). */
function report(rec: Provenance, pieces: Piece[], at: number): WhyEvent[] {
  const seen = new Set<string>();
  const out: WhyEvent[] = [];
  for (const p of [...pieces].sort((a, b) => a.seq - b.seq)) {
    if (p.seq > at) continue;
    const ev = rec.events.get(p.seq);
    const cmd = ev?.op === "ioctl" ? String(ev.cmd) : undefined;
    const role = p.role === "domain allocation" && cmd === "IOMMU_HWPT_ALLOC" ? "hwpt-alloc" : p.role;
    const k = `${p.seq}\u0000${role}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ seq: p.seq, op: ev?.op ?? "?", ...(cmd !== undefined ? { cmd } : {}), role });
  }
  return out;
}
