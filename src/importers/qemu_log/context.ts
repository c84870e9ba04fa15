// The converter's state: what it emitted, what it counted, and the model's numbering
// (fds from 3, object ids from 1) against the log's.

import type { ArgValue } from "./formats.ts";
import type { LogLine } from "./parse.ts";

export type EventLine = Extract<LogLine, { kind: "event" }>;

export interface Emitted {
  /** The log line the event comes from (absent for the synthesized platform). */
  line?: number;
  /** The log line's text, kept as a comment before the event in JSONL. */
  source?: string;
  event: Record<string, unknown>;
}

export interface Report {
  lines: number;
  /** Log lines turned into events, by event name. */
  used: Record<string, number>;
  /** Log lines not turned into events: reason -> event name (or line kind) -> count. */
  unused: Record<string, Record<string, number>>;
  /** Lines that look like trace events QEMU does not define here, by name. */
  unknown: Record<string, number>;
  malformed: { line: number; event: string; text: string; expected: string[] }[];
  /** Events emitted without `expect` (the log has no recorded result for them), by event name. */
  no_expect: Record<string, number>;
}

/** Lowest free number from `first`, as the kernel's fd table and iommufd's xarray allocate (alloc_fd, xa_alloc). */
export class Numbers {
  private used = new Set<number>();
  constructor(private readonly first: number) {}
  alloc(): number {
    let n = this.first;
    while (this.used.has(n)) n++;
    this.used.add(n);
    return n;
  }
  free(n: number): void {
    this.used.delete(n);
  }
}

export interface IommufdCtx {
  /** The model's fd of this /dev/iommu. */
  fd: number;
  ids: Numbers;
  /** The log's object ids (QEMU's view of the kernel's) to the model's. */
  idMap: Map<number, number>;
  ioas: Set<number>;
  /** Auto-domain HWPT the kernel makes on an attach to an IOAS (iommufd_device_auto_get_domain): log IOAS -> model id and attached devices. */
  auto: Map<number, { id: number; devices: Set<string> }>;
}

export interface DeviceCtx {
  name: string;
  /** VFIO device index in the model (host.device order): /dev/vfio/devices/vfioN. */
  index: number;
  logPath?: string;
  modelFd?: number;
  iommufd?: IommufdCtx;
  logDevid?: number;
  attachedTo?: number;
}

export const PID = 1;

export class Ctx {
  readonly out: Emitted[] = [];
  readonly report: Report;
  readonly assumed: string[] = [];
  readonly fds = new Numbers(3);
  /** The log's fds to the model's. */
  readonly fdMap = new Map<number, number>();
  readonly iommufds = new Map<number, IommufdCtx>();
  readonly devices = new Map<string, DeviceCtx>();
  readonly devfds = new Map<number, DeviceCtx>();

  constructor(lines: number) {
    this.report = { lines, used: {}, unused: {}, unknown: {}, malformed: [], no_expect: {} };
  }

  assume(what: string): void {
    if (!this.assumed.includes(what)) this.assumed.push(what);
  }

  emit(l: EventLine | undefined, source: string | undefined, event: Record<string, unknown>): void {
    this.out.push({ ...(l ? { line: l.line } : {}), ...(source !== undefined ? { source } : {}), event });
    if (l && event.expect === undefined && event.op !== "guest.mem.write") bump(this.report.no_expect, l.name);
  }

  used(name: string): void {
    bump(this.report.used, name);
  }

  unused(reason: string, name: string): void {
    this.report.unused[reason] ??= {};
    bump(this.report.unused[reason]!, name);
  }

  openFd(logFd: number | undefined): number {
    const fd = this.fds.alloc();
    if (logFd !== undefined) this.fdMap.set(logFd, fd);
    return fd;
  }

  closeFd(logFd: number): number | undefined {
    const fd = this.fdMap.get(logFd);
    if (fd === undefined) return undefined;
    this.fdMap.delete(logFd);
    this.fds.free(fd);
    return fd;
  }
}

export function bump(r: Record<string, number>, k: string): void {
  r[k] = (r[k] ?? 0) + 1;
}

export const num = (v: ArgValue | undefined): number => Number(v as bigint);
export const hex = (v: ArgValue | bigint | number | undefined): string => `0x${BigInt(v as bigint).toString(16)}`;
