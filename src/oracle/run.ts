// The QEMU oracle: the trace's guest part given to a real QEMU over qtest,
// each register value, DMA translation and fault compared with iorr's
// outcome for the same event, up to the first difference.

import { Effect } from "effect";
import type { TraceEvent } from "../model/events.ts";
import { BadInput, ProfileService } from "../model/framework.ts";
import type { Outcome } from "../model/outcome.ts";
import type { Profile } from "../profiles/profile.ts";
import { replay, type ReplayFault } from "../replay/engine.ts";
import { memorySource, Trace } from "../replay/source.ts";
import type { TraceHeader } from "../trace/jsonl.ts";
import { differs, faultName, type Observation } from "./compare.ts";
import { machineArgs, planOracle, viommuDevice, VTD_BASE, type NotIssued, type Plan, type TestDevice, type VmmPlan } from "./plan.ts";
import { QemuError, Qtest } from "./qemu.ts";

/** iommu-testdev's BAR0 registers and values (include/hw/misc/iommu-testdev.h). */
const ITD = { TRIGGER: 0x00n, GVA_LO: 0x04n, GVA_HI: 0x08n, LEN: 0x0cn, RESULT: 0x10n, DBELL: 0x14n, ATTRS: 0x18n, GPA_LO: 0x1cn, GPA_HI: 0x20n };
const ITD_ATTRS_NONSECURE = 0x2n; // ITD_ATTRS_SET_SPACE(0, ITD_ATTRS_SPACE_NONSECURE), the reset value
const ITD_ATTRS_READ = 0x10n; // the oracle's patch (docs/oracle.md): the DMA reads instead of writing
const ITD_DMA_ERR_TX_FAIL = 0xdead0002n;

export interface Verdict {
  seq: number;
  op: string;
  qemu: Observation;
}

export interface Difference extends Verdict {
  field: string;
  iorr: Outcome;
}

export interface OracleResult {
  /** Each VMM's QEMU arguments. */
  qemu: { pid: number; args: string[] }[];
  /** Events given to QEMU. */
  issued: number;
  /** QEMU's answers compared with iorr's outcomes (register reads, DMAs). */
  verdicts: Verdict[];
  difference: Difference | null;
  notIssued: NotIssued[];
  hostSide: number;
}

/** iorr's outcome for every event the oracle keeps (the trace less the guest events QEMU cannot be given). */
export function iorrOutcomes(
  file: string,
  header: TraceHeader,
  events: readonly TraceEvent[],
  profile: Profile,
): Effect.Effect<Map<number, Outcome>, ReplayFault | BadInput> {
  const out = new Map<number, Outcome>();
  return replay({ onOutcome: (ev, o) => out.set(ev.seq, o) }).pipe(
    Effect.provideService(Trace, memorySource(file, header, events)),
    Effect.provideService(ProfileService, profile),
    Effect.as(out),
  );
}

/** The events iorr replays for the comparison: all but the guest events QEMU is not given. */
export function keptEvents(events: readonly TraceEvent[], notIssued: readonly { seq: number }[]): TraceEvent[] {
  const skip = new Set(notIssued.map((n) => n.seq));
  return events.filter((ev) => !skip.has(ev.seq));
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

/**
 * What QEMU's trace events say of the DMA just made (vtd_iommu_translate, vtd_report_fault).
 * A translation to an address outside guest RAM is still the vIOMMU's answer: the access
 * that follows reaches nothing, which is not the vIOMMU's doing.
 */
function dmaObservation(lines: readonly string[], iova: bigint, result: bigint, ram: VmmPlan["ram"]): Observation {
  for (const l of lines) {
    const f = /vtd_dmar_fault sid \S+ fault (\d+)/.exec(l);
    if (f) return { fault: faultName(Number(f[1])) };
    if (/vtd_fault_disabled/.test(l)) return { fault: null };
  }
  const t = lines.map((l) => /vtd_dmar_translate dev \S+ iova (0x[0-9a-f]+) -> gpa (0x[0-9a-f]+) mask (0x[0-9a-f]+)/.exec(l)).find((m) => m !== null);
  // Plain guest RAM: q35's 0xa0000-0xfffff is VGA and the PAM ROM window, never written by DMA without firmware.
  const inRam = (a: bigint) => ram.some((r) => a >= r.gpa && a < r.gpa + r.size) && !(a >= 0xa0000n && a < 0x10_0000n);
  // No translation (DMAR off, the pass-through fast path): the DMA address is the gpa; an
  // access beyond guest RAM reaches nothing, which is not the vIOMMU's doing either.
  if (!t) return result === ITD_DMA_ERR_TX_FAIL && inRam(iova) ? { fault: "MEMTX_ERROR" } : { pa: hex(iova) };
  const mask = BigInt(t[3]!);
  const pa = BigInt(t[2]!) + (iova & mask);
  // Translated, in RAM, and refused: the memory core's check of the entry's perm (flatview_do_translate).
  if (result === ITD_DMA_ERR_TX_FAIL && inRam(pa)) return { fault: "MEMTX_DECODE_ERROR" };
  // Failed beyond RAM: the entry's perm refused it or nothing was there; QEMU's trace does not say which.
  if (result === ITD_DMA_ERR_TX_FAIL) return { pa: hex(pa), page_size: hex(mask + 1n), unbacked: true };
  return { pa: hex(pa), page_size: hex(mask + 1n) };
}

/** A DMA by the device's iommu-testdev: arm, trigger by reading the trigger register, read the result. */
async function testdevDma(q: Qtest, d: TestDevice, iova: bigint, size: number, read: boolean): Promise<{ result: bigint; lines: string[] }> {
  const w = (r: bigint, v: bigint) => q.write(d.bar + r, 4, v);
  await w(ITD.GVA_LO, iova & 0xffffffffn);
  await w(ITD.GVA_HI, iova >> 32n);
  await w(ITD.LEN, BigInt(size));
  await w(ITD.GPA_LO, 0n);
  await w(ITD.GPA_HI, 0n);
  await w(ITD.ATTRS, ITD_ATTRS_NONSECURE | (read ? ITD_ATTRS_READ : 0n));
  await w(ITD.DBELL, 1n);
  const from = q.log.length;
  await q.read(d.bar + ITD.TRIGGER, 4);
  const result = await q.read(d.bar + ITD.RESULT, 4);
  // A register read prints vtd_reg_read: once it is in, every trace line of the DMA is.
  const mark = q.log.length;
  await q.read(VTD_BASE, 4);
  await q.waitLog(mark, /vtd_reg_read addr 0x0 /);
  return { result, lines: q.log.slice(from, mark).concat(q.log.slice(mark).filter((l) => !/vtd_reg_read/.test(l))) };
}

/**
 * A qemu.viommu: QEMU started with the machine, the vIOMMU(s) it already accepted and this one.
 * Its answer is `ok` or the message of its start-up error, without the "<binary>: -device
 * <option>: " prefixes qemu_init and qdev_device_add's error_prepend put before it
 * (the trace's `error`, as the failing function sets it).
 */
async function viommuStart(binary: string, plan: VmmPlan, accepted: readonly TraceEvent[], ev: TraceEvent): Promise<Observation> {
  const option = viommuDevice(ev);
  const q = new Qtest(binary, [...plan.base, ...[...accepted, ev].flatMap((a) => ["-device", viommuDevice(a)])]);
  try {
    const r = await q.started();
    if (r === true) return { ok: true };
    const prefix = `: -device ${option}: `;
    const line = r.find((l) => l.includes(prefix));
    if (line === undefined) throw new QemuError(`QEMU did not start with -device ${option}: ${r.slice(-3).join(" / ")}`);
    return { error: line.slice(line.indexOf(prefix) + prefix.length) };
  } finally {
    await q.quit();
  }
}

/**
 * One VMM: each qemu.viommu checked by a QEMU of its own (vtd_realize / vtd_decide_config answer
 * at start-up), then the guest's QEMU, with the vIOMMU QEMU accepted, given the steps, comparing
 * as it goes; stops at the first difference.
 */
/** Where QEMU's stderr (its trace events and errors) goes once a QEMU has quit: `iorr oracle --log`. */
export type QemuLog = (args: readonly string[], lines: readonly string[]) => void;

async function driveVmm(binary: string, plan: VmmPlan, outcomes: ReadonlyMap<number, Outcome>, log?: QemuLog) {
  const verdicts: Verdict[] = [];
  const notIssued: NotIssued[] = [];
  let issued = 0;
  const accepted: TraceEvent[] = [];
  for (const ev of plan.viommus) {
    const qemu = await viommuStart(binary, plan, accepted, ev);
    issued++;
    const iorr = outcomes.get(ev.seq)!;
    const field = differs(qemu, iorr);
    if (field !== undefined) return { args: plan.base, issued, verdicts, difference: { seq: ev.seq, op: ev.op, qemu, field, iorr }, notIssued };
    verdicts.push({ seq: ev.seq, op: ev.op, qemu });
    if ("ok" in qemu) accepted.push(ev);
  }
  const viommu = accepted[accepted.length - 1];
  if (viommu === undefined || plan.steps.length === 0) {
    for (const { ev } of plan.steps) notIssued.push({ seq: ev.seq, op: ev.op, reason: "no intel-iommu started for this VMM" });
    return { args: plan.base, issued, verdicts, difference: null, notIssued };
  }
  const args = machineArgs(plan, viommu, log !== undefined);
  const q = new Qtest(binary, args);
  let difference: Difference | null = null;
  try {
    // Each root port as firmware sets it: primary 0, secondary = subordinate = the trace's bus (pci_bus_num
    // then gives vtd_find_add_as's requester id that bus), its memory window over the device's BAR, and enabled.
    for (const p of plan.ports) {
      await q.pciConfigWrite(0, p.devfn, 0x18, (p.bus << 8) | (p.bus << 16)); // PCI_PRIMARY_BUS, SECONDARY, SUBORDINATE
      const w = Number(p.window >> 16n) & 0xfff0;
      await q.pciConfigWrite(0, p.devfn, 0x20, (w | (w << 16)) >>> 0); // PCI_MEMORY_BASE / LIMIT: the window's 1 MiB
      await q.pciConfigWrite(0, p.devfn, 0x04, 0x6); // PCI_COMMAND: memory space, bus master
    }
    for (const d of plan.devices.values()) {
      await q.pciConfigWrite(d.bus, d.devfn, 0x10, Number(d.bar)); // BAR0
      await q.pciConfigWrite(d.bus, d.devfn, 0x04, 0x6); // PCI_COMMAND: memory space, bus master
    }
    for (const { ev, kind } of plan.steps) {
      const iorr = outcomes.get(ev.seq)!;
      let qemu: Observation | undefined;
      if (kind === "mem.write") {
        if (iorr.ok !== true) {
          notIssued.push({ seq: ev.seq, op: ev.op, reason: `outside guest RAM (iorr: ${iorr.errno ?? "refused"})` });
          continue;
        }
        await q.writeBytes(ev.gpa as bigint, ev.bytes as Uint8Array);
      } else if (kind === "mmio.read") {
        qemu = { value: hex(await q.read(VTD_BASE + BigInt(ev.off as number), ev.size as 4 | 8)) };
      } else if (kind === "mmio.write") {
        await q.write(VTD_BASE + BigInt(ev.off as number), ev.size as 4 | 8, ev.value as bigint);
      } else {
        const iova = ev.iova as bigint;
        const size = (ev.size as number | undefined) ?? 1;
        const read = ev.access === "read";
        // The test device writes a pattern: keep what iorr says it lands on, to put it back.
        const saved = !read && iorr.pa !== undefined ? { pa: BigInt(iorr.pa), bytes: await q.readBytes(BigInt(iorr.pa), size) } : undefined;
        const r = await testdevDma(q, plan.devices.get(ev.guest_bdf as string)!, iova, size, read);
        qemu = dmaObservation(r.lines, iova, r.result, plan.ram);
        if (saved && "pa" in qemu && BigInt(qemu.pa) === saved.pa) await q.writeBytes(saved.pa, saved.bytes);
      }
      issued++;
      if (qemu === undefined) continue;
      const field = differs(qemu, iorr);
      if (field !== undefined) {
        difference = { seq: ev.seq, op: ev.op, qemu, field, iorr };
        break;
      }
      verdicts.push({ seq: ev.seq, op: ev.op, qemu });
    }
  } finally {
    await q.quit();
    log?.(args, q.log);
  }
  return { args, issued, verdicts, difference, notIssued };
}

/** Every VMM's QEMU in turn (they share nothing); the difference reported is the trace's first. */
export async function drive(binary: string, plan: Plan, outcomes: ReadonlyMap<number, Outcome>, log?: QemuLog): Promise<OracleResult> {
  const runs: Awaited<ReturnType<typeof driveVmm>>[] = [];
  for (const v of plan.vmms) runs.push(await driveVmm(binary, v, outcomes, log));
  const difference = runs.map((r) => r.difference).reduce<Difference | null>((a, d) => (d && (!a || d.seq < a.seq) ? d : a), null);
  const before = (x: { seq: number }) => difference === null || x.seq < difference.seq;
  const bySeq = (a: { seq: number }, b: { seq: number }) => a.seq - b.seq;
  return {
    qemu: plan.vmms.map((v, i) => ({ pid: v.pid, args: runs[i]!.args })),
    issued: runs.reduce((n, r) => n + r.issued, 0),
    verdicts: runs
      .flatMap((r) => r.verdicts)
      .filter(before)
      .sort(bySeq),
    difference,
    notIssued: [...plan.notIssued, ...runs.flatMap((r) => r.notIssued)].sort(bySeq),
    hostSide: plan.hostSide,
  };
}

/** Plan, replay iorr on the kept events, drive QEMU: the oracle's whole run over one trace. */
export function runOracle(
  binary: string,
  file: string,
  header: TraceHeader,
  events: readonly TraceEvent[],
  profile: Profile,
  log?: QemuLog,
): Effect.Effect<OracleResult, BadInput | ReplayFault> {
  return Effect.gen(function* () {
    const plan = yield* Effect.suspend(() => {
      try {
        return Effect.succeed(planOracle(file, events));
      } catch (e) {
        if (e instanceof BadInput) return Effect.fail(e);
        throw e;
      }
    });
    const outcomes = yield* iorrOutcomes(file, header, keptEvents(events, plan.notIssued), profile);
    for (const ev of events) {
      const o = outcomes.get(ev.seq);
      if (ev.op === "qemu.device" && o && o.ok !== true)
        return yield* Effect.fail(
          new BadInput({
            file,
            seq: ev.seq,
            message: `the QEMU oracle cannot drive this: iorr refuses the qemu.device (${JSON.stringify(o)}), so QEMU would not start`,
          }),
        );
    }
    return yield* Effect.tryPromise({
      try: () => drive(binary, plan, outcomes, log),
      catch: (e) => new BadInput({ file: binary, field: "--qemu", message: e instanceof Error ? e.message : String(e) }),
    });
  });
}
