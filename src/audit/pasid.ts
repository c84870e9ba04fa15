// The PASID audit (iorr audit pasid): who held which PASID when, read in one
// replay pass from the state after each event. Two sources, both generic over
// the state: seed 002's allocator ledger (state.pasid.ledger: every ioasid_alloc,
// ioasid_free and refused VFIO_IOMMU_PASID_REQUEST, with the per-mm quotas in
// state.pasid.quota), and the PASIDs each host device has attached
// (HostDevice.attached, the iommu core's pasid_array, whatever attached them),
// with the VFIO_DEVICE_ATTACH_IOMMUFD_PT calls that asked for a PASID.

import type { TraceEvent } from "../model/events.ts";
import { driverOf, maxPasidLog2 } from "../model/iommu/index.ts";
import type { Outcome } from "../model/outcome.ts";
import type { PasidLedgerEntry } from "../model/pasid/state.ts";
import type { State } from "../model/state.ts";
import { userArg } from "../model/uaccess/arg.ts";
import { commandByName, commandsByNumber } from "../uapi/index.ts";
import { decodeStruct } from "../uapi/layout.ts";

/** What the audit reports; `--fail-on` takes these names. */
export const FINDING_KINDS = ["leak", "foreign", "unknown", "refusal", "over-quota", "over-width", "lost"] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  /** The process the finding is about (the caller; for a leak the holder). */
  pid: number | null;
  seq: number;
  pasid: number | null;
  /** Device findings (over-width, a foreign attach): the host device. */
  bdf?: string;
  /** One line for people: what happened. */
  detail: string;
}

export interface ProcessFigures {
  pid: number;
  /** The quota of the process's vfio_mm (the last one it had); null: it never had one. */
  quota: number | null;
  /** PASIDs the allocator handed out (v1's lost ones included: they count against the quota). */
  allocations: number;
  /** PASIDs the process freed with VFIO_IOMMU_PASID_REQUEST. */
  frees: number;
  peak: number;
  peak_seq: number | null;
  /** Failed allocation requests. */
  refusals: number;
  first_refusal_seq: number | null;
  /** PASIDs still held when the process exited or its last container went (freed by ioasid_free_set). */
  leaked_at_exit: number;
  foreign_frees: number;
  unknown_frees: number;
}

export interface DeviceFigures {
  bdf: string;
  /** dev->iommu->max_pasids as a width (the smaller of the device's and the IOMMU's); 0: no PASIDs. */
  max_pasid_log2: number;
  /** PASIDs attached (a replace of an attached PASID is not one). */
  attaches: number;
  detaches: number;
  peak: number;
  peak_seq: number | null;
  /** VFIO_DEVICE_ATTACH_IOMMUFD_PT calls with a PASID that failed. */
  refusals: number;
  first_refusal_seq: number | null;
  /** PASID attaches asked for at or past 2^max_pasid_log2. */
  over_width: number;
  /** PASID attaches of a PASID another process holds in the allocator. */
  foreign_attaches: number;
}

/** PASIDs held over time: (seq, count) at every change, for the plot. */
export interface Usage {
  seqs: number[];
  counts: number[];
}

export interface PasidAudit {
  events: number;
  processes: ProcessFigures[];
  devices: DeviceFigures[];
  global: { allocated_now: number; peak: number };
  findings: Finding[];
  usage: { processes: Map<number, Usage>; global: Usage };
}

const ATTACH_PT = "VFIO_DEVICE_ATTACH_IOMMUFD_PT";
/** VFIO_DEVICE_ATTACH_PASID, and offsetofend(struct vfio_device_attach_iommufd_pt, pasid). */
const ATTACH_PASID = 1;
const ATTACH_PASID_MINSZ = 16;

interface Proc extends ProcessFigures {
  held: number;
  usage: Usage;
}

interface Dev extends DeviceFigures {
  /** The PASIDs attached after the last event (PASID -> domain). */
  attached: Map<number, number>;
}

const record = (u: Usage, seq: number, n: number) => {
  if (u.seqs[u.seqs.length - 1] === seq) u.counts[u.counts.length - 1] = n;
  else {
    u.seqs.push(seq);
    u.counts.push(n);
  }
};

/** The audit's visitor: visit() after each event of a replay from the start, then finish(). */
export class PasidAuditor {
  private readonly procs = new Map<number, Proc>();
  private readonly devs = new Map<string, Dev>();
  /** The allocator as the ledger built it: PASID -> holder (state.pasid.allocated, event by event). */
  private readonly holders = new Map<number, number>();
  /** PASID -> the event that last freed it (an unknown free's detail). */
  private readonly freedAt = new Map<number, number>();
  private readonly findings: Finding[] = [];
  private readonly global: Usage = { seqs: [0], counts: [0] };
  private peak = 0;
  private events = 0;

  visit(ev: TraceEvent, outcome: Outcome, s: State): void {
    this.events = ev.seq;
    // The ledger holds the entries of the last event that made any: this one's when seq matches.
    for (const e of s.pasid.ledger) if (e.seq === ev.seq) this.entry(e, s);
    for (const [pid, q] of s.pasid.quota) {
      const p = this.proc(pid);
      if (p.quota !== q.limit) p.quota = q.limit;
    }
    if (ev.op === "process.exit" && outcome.errno === undefined) this.exited(ev);
    if (ev.op === "ioctl") this.attachCall(ev, outcome, s);
    for (const hd of s.host.devices.values()) this.syncDevice(hd.bdf, hd.attached, ev.seq, s);
  }

  finish(s: State): PasidAudit {
    for (const d of this.devs.values()) {
      const hd = s.host.devices.get(d.bdf);
      if (hd) d.max_pasid_log2 = maxPasidLog2(s.host.iommu, hd, driverOf(s, hd));
    }
    const procs = [...this.procs.values()].sort((a, b) => a.pid - b.pid);
    return {
      events: this.events,
      processes: procs.map(({ held: _h, usage: _u, ...f }) => f),
      devices: [...this.devs.values()].sort((a, b) => (a.bdf < b.bdf ? -1 : 1)).map(({ attached: _a, ...f }) => f),
      global: { allocated_now: s.pasid.allocated.size, peak: this.peak },
      findings: this.findings,
      usage: { processes: new Map(procs.map((p) => [p.pid, p.usage])), global: this.global },
    };
  }

  private proc(pid: number): Proc {
    let p = this.procs.get(pid);
    if (!p) {
      p = {
        pid,
        quota: null,
        allocations: 0,
        frees: 0,
        peak: 0,
        peak_seq: null,
        refusals: 0,
        first_refusal_seq: null,
        leaked_at_exit: 0,
        foreign_frees: 0,
        unknown_frees: 0,
        held: 0,
        usage: { seqs: [0], counts: [0] },
      };
      this.procs.set(pid, p);
    }
    return p;
  }

  private find(kind: FindingKind, pid: number | null, seq: number, pasid: number | null, detail: string, bdf?: string): void {
    this.findings.push({ kind, pid, seq, pasid, ...(bdf !== undefined ? { bdf } : {}), detail });
  }

  private hold(pid: number, pasid: number, seq: number, delta: 1 | -1): void {
    const p = this.proc(pid);
    p.held += delta;
    record(p.usage, seq, p.held);
    if (p.held > p.peak) {
      p.peak = p.held;
      p.peak_seq = seq;
    }
    if (delta > 0) this.holders.set(pasid, pid);
    else {
      this.holders.delete(pasid);
      this.freedAt.set(pasid, seq);
    }
    record(this.global, seq, this.holders.size);
    if (this.holders.size > this.peak) this.peak = this.holders.size;
  }

  /** One ledger entry (src/model/pasid/ioasid.ts, src/model/vfio/pasid_request.ts). */
  private entry(e: PasidLedgerEntry, s: State): void {
    const p = this.proc(e.pid);
    if (e.op === "alloc") {
      p.allocations++;
      this.hold(e.pid, e.pasid!, e.seq, 1);
      // v1's `if (result > 0)`: allocated, reported as a failure, never known to the caller.
      if (e.errno) this.find("lost", e.pid, e.seq, e.pasid!, `PASID ${e.pasid} allocated but reported as ${e.errno}: the caller never learns it holds it`);
      return;
    }
    if (e.op === "free") {
      const holder = this.holders.get(e.pasid!) ?? e.pid;
      this.hold(holder, e.pasid!, e.seq, -1);
      if (e.via === "vfio_mm_release") {
        this.proc(holder).leaked_at_exit++;
        this.find("leak", holder, e.seq, e.pasid!, `PASID ${e.pasid} still allocated when the last container of pid ${holder} went (freed by ioasid_free_set)`);
      } else p.frees++;
      return;
    }
    if (e.request === "alloc") {
      p.refusals++;
      p.first_refusal_seq ??= e.seq;
      this.find("refusal", e.pid, e.seq, null, `allocation refused: ${e.errno}`);
      const q = s.pasid.quota.get(e.pid);
      if (q && q.used >= q.limit) this.find("over-quota", e.pid, e.seq, null, `allocation with the quota used up (${q.used} of ${q.limit} held)`);
      return;
    }
    if (e.request === "free" && e.pasid !== undefined) {
      const holder = this.holders.get(e.pasid);
      if (holder === undefined) {
        p.unknown_frees++;
        const freed = this.freedAt.get(e.pasid);
        this.find(
          "unknown",
          e.pid,
          e.seq,
          e.pasid,
          `free of PASID ${e.pasid}, ${freed === undefined ? "never allocated" : `already freed at event ${freed}`} (${e.errno})`,
        );
      } else if (holder !== e.pid) {
        p.foreign_frees++;
        this.find("foreign", e.pid, e.seq, e.pasid, `free of PASID ${e.pasid}, held by pid ${holder} (${e.errno})`);
      }
    }
  }

  /** do_exit: a PASID the process still holds after its files closed stays allocated with nobody to free it. */
  private exited(ev: TraceEvent): void {
    const pid = ev.pid as number;
    for (const [pasid, holder] of this.holders) {
      if (holder !== pid) continue;
      this.proc(pid).leaked_at_exit++;
      this.find("leak", pid, ev.seq, pasid, `PASID ${pasid} still allocated after pid ${pid} exited`);
    }
  }

  private dev(bdf: string): Dev {
    let d = this.devs.get(bdf);
    if (!d) {
      d = {
        bdf,
        max_pasid_log2: 0,
        attaches: 0,
        detaches: 0,
        peak: 0,
        peak_seq: null,
        refusals: 0,
        first_refusal_seq: null,
        over_width: 0,
        foreign_attaches: 0,
        attached: new Map(),
      };
      this.devs.set(bdf, d);
    }
    return d;
  }

  /** The device's PASID attachments (HostDevice.attached; the RID, NO_PASID -1, left out) against the last event's. */
  private syncDevice(bdf: string, now: ReadonlyMap<number, number>, seq: number, s: State): void {
    const d = this.devs.get(bdf);
    const before = d?.attached;
    let changed = false;
    for (const [pasid, dom] of now)
      if (pasid >= 0 && before?.get(pasid) !== dom) {
        changed = true;
        break;
      }
    if (!changed && before) for (const pasid of before.keys()) if (!now.has(pasid)) changed = true;
    if (!changed) return;
    const dv = d ?? this.dev(bdf);
    const next = new Map<number, number>();
    for (const [pasid, dom] of now) {
      if (pasid < 0) continue;
      next.set(pasid, dom);
      if (!dv.attached.has(pasid)) {
        dv.attaches++;
        this.checkWidth(dv, pasid, seq, null, s);
      }
    }
    for (const pasid of dv.attached.keys()) if (!next.has(pasid)) dv.detaches++;
    dv.attached = next;
    if (next.size > dv.peak) {
      dv.peak = next.size;
      dv.peak_seq = seq;
    }
  }

  /** A PASID used at or past the device's width (dev->iommu->max_pasids): the kernel refuses it (EINVAL). */
  private checkWidth(d: Dev, pasid: number, seq: number, pid: number | null, s: State): void {
    const hd = s.host.devices.get(d.bdf);
    if (!hd) return;
    const width = maxPasidLog2(s.host.iommu, hd, driverOf(s, hd));
    d.max_pasid_log2 = width;
    if (pasid < 2 ** width) return;
    // A failed attach call and the state it left are one use of the PASID.
    const last = this.findings[this.findings.length - 1];
    if (last?.kind === "over-width" && last.seq === seq && last.pasid === pasid && last.bdf === d.bdf) return;
    d.over_width++;
    this.find("over-width", pid, seq, pasid, `PASID ${pasid} on ${d.bdf}, whose PASIDs are ${width} bits wide`, d.bdf);
  }

  /** VFIO_DEVICE_ATTACH_IOMMUFD_PT with VFIO_DEVICE_ATTACH_PASID (vfio_df_ioctl_attach_pt): the PASID a process asked a device to use. */
  private attachCall(ev: TraceEvent, outcome: Outcome, s: State): void {
    const cmd = ev.cmd as string | number;
    const number = typeof cmd === "number" ? cmd : /^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(cmd) ? Number(cmd) : undefined;
    const def = number === undefined ? commandByName(cmd as string) : commandsByNumber(number).find((c) => c.name === ATTACH_PT);
    if (def?.name !== ATTACH_PT || def.arg.kind !== "struct") return;
    const pid = ev.pid as number;
    const fileId = s.processes.get(pid)?.fds.get(ev.fd as number);
    const bdf = fileId === undefined ? undefined : s.files.get(fileId)?.bdf;
    if (bdf === undefined) return;
    const arg = userArg(def, ev);
    if (arg.kind !== "bytes" || arg.bytes.length < ATTACH_PASID_MINSZ) return;
    const a = decodeStruct(def.arg.struct, arg.bytes);
    if (!((a.flags as number) & ATTACH_PASID)) return;
    const pasid = a.pasid as number;
    const d = this.dev(bdf);
    if (outcome.errno !== undefined) {
      d.refusals++;
      d.first_refusal_seq ??= ev.seq;
    }
    this.checkWidth(d, pasid, ev.seq, pid, s);
    const holder = this.holders.get(pasid);
    if (holder !== undefined && holder !== pid) {
      d.foreign_attaches++;
      this.find("foreign", pid, ev.seq, pasid, `attach of PASID ${pasid} to ${bdf}, held by pid ${holder}`, bdf);
    }
  }
}
