// Provenance: which event established each piece a translation depends on
// (`iorr why`, src/query/why.ts). Recorded only while a Provenance is
// installed (setProvenance); plain replay installs none, and every hook in
// the model is one test of `active` against null (docs/decisions.md,
// "Provenance").
//
// - Memory: the event that last wrote each byte of simulated physical memory
//   (process and guest writes, the kernel's page-table writes, a page-table
//   frame handed out zeroed), per 4 KiB frame. The IOMMU's own A/D-bit and
//   status writes are not establishing writes and are not recorded
//   (TableMem.hwWrite32).
// - Marks: the event that last set a named piece of state: a vIOMMU register
//   word, the root-table latch (SRTP), translation enable (GSTS.TES), an
//   attachment, a domain, an IOAS area, a process memory map.
// - The vIOMMU's invalidations, and for each IOTLB and context-cache fill the
//   pieces its translation read then (a later hit depends on them, not on
//   what memory holds now).
//
// It is a side table, not part of the state: it is written in place as the
// replay goes forward and asked once at the end, so it needs no copy-on-write.

import type { TraceEvent } from "./events.ts";

/** One dependency: the event that established it and what it is. */
export interface Piece {
  seq: number;
  role: string;
  /** "table" for entries the vIOMMU caches (IOTLB / context cache), used to pick the invalidation; absent otherwise. */
  cls?: "ctx" | "walk";
}

/** A vIOMMU cache invalidation, as far as choosing "the invalidation that made the entry visible" needs it. */
export interface Invalidation {
  seq: number;
  /** The machine (QEMU pid) whose intel-iommu did it. */
  pid: number;
  cache: "iotlb" | "context";
  role: string;
  /** Whether it removes a cached translation (or context entry) of this request. */
  covers(t: CachedTranslation): boolean;
}

/** What an invalidation is matched against: the request and the cache entry it used. */
export interface CachedTranslation {
  sid: number;
  pasid: number;
  did: number;
  iova: bigint;
  pageLg2: number;
  firstStage: boolean;
}

/** A cache fill: the event that filled it and the pieces its lookup read. */
export interface Fill {
  seq: number;
  pieces: Piece[];
  info?: CachedTranslation;
  /** IOTLB fills: the context-cache fill (or read) the walk used. */
  ctxSeq?: number;
}

/** One page of a DMA (a device splits its requests at page boundaries): where its pieces begin and its cache use. */
export interface PageUse {
  /** Index in `pieces` of the page's first piece. */
  from: number;
  /** The cached translation it used or filled; for a fault, the request's (the translation it would have hit). */
  info?: CachedTranslation;
  /** The IOTLB fill a hit used. */
  iotlbFill?: Fill;
  /** The context-cache fill (or read) the lookup used. */
  ctxSeq?: number;
}

const PAGE = 4096;

export class Provenance {
  seq = 0;
  ev: TraceEvent | undefined;
  /** pfn -> the seq that last wrote each byte (0: not written since the trace began). */
  private readonly bytes = new Map<number, Int32Array>();
  private readonly marks = new Map<string, number>();
  /** The event of every seq that established something, for the report. */
  readonly events = new Map<number, TraceEvent>();
  readonly invalidations: Invalidation[] = [];
  /** Fills by cache key ("iotlb:pid:sid:pasid:lg2:base", "ctx:pid:sid:pasid"). */
  readonly fills = new Map<string, Fill>();
  /** Pieces of the translation in progress (the last one is the probe's). */
  pieces: Piece[] = [];
  /** The DMA's pages, in address order: what why needs to pick each page's invalidations. */
  pages: PageUse[] = [];
  /** Host DMA: the IOAS (or type1) addresses its translation went through (each page's IOVA; nested: every GPA the parent translated). */
  ioasAddrs: bigint[] = [];
  /** The host physical address each page of the DMA landed at. */
  outputs: bigint[] = [];

  /** A DMA begins: its pieces, pages and addresses start empty. */
  begin(): void {
    this.pieces = [];
    this.pages = [];
    this.ioasAddrs = [];
    this.outputs = [];
  }

  /** The translation of the DMA's next page begins. */
  page(): PageUse {
    const p: PageUse = { from: this.pieces.length };
    this.pages.push(p);
    return p;
  }

  /** The page being translated. */
  get cur(): PageUse {
    return this.pages[this.pages.length - 1] ?? this.page();
  }

  /** The fold is about to reduce `ev`. */
  at(ev: TraceEvent): void {
    this.ev = ev;
    this.seq = ev.seq;
  }

  private keep(): number {
    if (this.ev && !this.events.has(this.seq)) this.events.set(this.seq, this.ev);
    return this.seq;
  }

  /** `len` bytes at physical address `pa` were written by the current event. */
  wrote(pa: number, len: number): void {
    const seq = this.keep();
    for (let done = 0; done < len; ) {
      const addr = pa + done;
      const pfn = Math.floor(addr / PAGE);
      const off = addr - pfn * PAGE;
      const n = Math.min(PAGE - off, len - done);
      let f = this.bytes.get(pfn);
      if (!f) {
        f = new Int32Array(PAGE);
        this.bytes.set(pfn, f);
      }
      f.fill(seq, off, off + n);
      done += n;
    }
  }

  /** The distinct events that last wrote the bytes [pa, pa + len), in address order (0 for never written). */
  writers(pa: number, len: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < len; i++) {
      const addr = pa + i;
      const pfn = Math.floor(addr / PAGE);
      const s = this.bytes.get(pfn)?.[addr - pfn * PAGE] ?? 0;
      if (!out.includes(s)) out.push(s);
    }
    return out;
  }

  /** A key scoped to the current event's machine (its QEMU pid): "vtd:<pid>:<name>". */
  vtd(name: string): string {
    return `vtd:${String(this.ev?.pid)}:${name}`;
  }

  /** The current event set the piece named `key`. */
  mark(key: string): void {
    this.marks.set(key, this.keep());
  }

  /** The event that last set `key`, if any. */
  markOf(key: string): number | undefined {
    return this.marks.get(key);
  }

  /** A piece of the translation in progress: memory at host physical `pa` (each last writer of its bytes). */
  read(role: string, pa: number, len: number, cls?: Piece["cls"]): void {
    for (const seq of this.writers(pa, len)) if (seq > 0) this.pieces.push(cls ? { seq, role, cls } : { seq, role });
  }

  /** A piece of the translation in progress: the named piece `key`, when something set it. */
  piece(role: string, key: string): void {
    const seq = this.marks.get(key);
    if (seq !== undefined) this.pieces.push({ seq, role });
  }

  invalidated(inv: Omit<Invalidation, "seq" | "pid">): void {
    this.invalidations.push({ ...inv, seq: this.keep(), pid: (this.ev?.pid as number | undefined) ?? -1 });
  }

  fill(key: string, f: Omit<Fill, "seq">): void {
    this.fills.set(key, { ...f, seq: this.keep() });
  }
}

let active: Provenance | null = null;

/** The provenance being recorded, or null (plain replay). */
export function provenance(): Provenance | null {
  return active;
}

/** Install (or with null remove) the recorder the model's hooks write to. */
export function setProvenance(p: Provenance | null): void {
  active = p;
}
