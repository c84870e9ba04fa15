// A parsed QEMU log to trace events, in log order: the platform the log does not show
// is synthesized first (each assumption listed), then every line is converted or counted
// as unused with its reason (docs/qemu-logs.md).

import { Ctx, type DeviceCtx, type Emitted, type EventLine, hex, num, PID, type Report } from "./context.ts";
import { cfgHandlers, PASSED_CFG, planCfg, queuedDescriptors, vtdHandlers, vtdReason } from "./guest.ts";
import { type Handler, IOMMUFD_HANDLERS } from "./iommufd.ts";
import { type LogLine, parseLine } from "./parse.ts";

export interface Conversion {
  header: Record<string, unknown>;
  events: Emitted[];
  report: Report;
  /** Lines that are known events (well-formed or not): none means the file is no QEMU trace log. */
  known: number;
}

/** The host IOMMU assumed when the log shows iommufd use (a VT-d with scalable mode and nesting, as tests/traces/vtd/host_nested_vtd_s1). */
const HOST_IOMMU = { type: "intel_vtd", cap_reg: "0x4002f0400", ecap_reg: "0x480004000000" };
const MIB64 = 0x4000000n;
/** q35's RAM below 4 GiB when -m is 2.75 GiB or more (pc_q35_init: lowmem 0x80000000). */
const Q35_LOWMEM = 0x80000000n;
const PAGE = 0x1000n;
const HOST_BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

const familyReason = (name: string): string => {
  if (name.startsWith("vtd_") || name.startsWith("x86_iommu")) return vtdReason(name);
  if (name.startsWith("vfio_user_")) return "vfio-user (a socket protocol, no kernel VFIO)";
  if (/^vfio_(listener|iommu_map|known_safe|device_dirty|container_query|prereg|spapr)/.test(name))
    return "QEMU's memory listener bookkeeping: its ioctls are the iommufd_backend_* lines";
  if (/^vfio_(container_disconnect|group_put|device_get|device_put|realize|device_attach|device_detach)$/.test(name))
    return "the legacy VFIO group/container backend, whose ioctls are not traced";
  if (/^vfio_(region|intx|msi|msix|pci_intx|vga|rom|quirk|ioeventfd|display)/.test(name))
    return "device region, interrupt or quirk handling, which the model does not replay (no region I/O, no INTx/MSI setup)";
  if (/^vfio_(save|load|migration|state_pending|vmstate)/.test(name)) return "migration, which the model does not replay";
  if (name.startsWith("vfio_") || name.startsWith("iommufd_")) return "QEMU's own step with no system call or guest access of its own";
  if (name.startsWith("pci_") || name.startsWith("msix_") || name.startsWith("sriov_") || name.startsWith("pcie_") || name.startsWith("shpc_"))
    return "PCI emulation inside QEMU (no guest config access, no system call)";
  return "an event the importer does not convert";
};

interface Scan {
  devices: string[];
  pathOf: Map<string, string>;
  maps: { va: bigint; end: bigint }[];
  /** Guest RAM as QEMU maps it for DMA: successful writable map_dma, iova = gpa. */
  ram: { gpa: bigint; size: bigint; va: bigint }[];
  vtd: boolean;
  scalable: boolean;
  flts: boolean;
}

function scan(lines: readonly LogLine[]): Scan {
  const s: Scan = { devices: [], pathOf: new Map(), maps: [], ram: [], vtd: false, scalable: false, flts: false };
  const getfd = new Map<number, string>();
  const see = (name: string) => {
    if (!s.devices.includes(name)) s.devices.push(name);
  };
  for (const l of lines) {
    if (l.kind !== "event") continue;
    const a = l.args;
    if (l.name === "iommufd_cdev_getfd") getfd.set(num(a.devfd), a.dev as string);
    if (l.name === "iommufd_cdev_connect_and_bind") {
      see(a.name as string);
      const p = getfd.get(num(a.devfd));
      if (p) s.pathOf.set(a.name as string, p);
    }
    if (/^(iommufd_cdev_(attach|detach)_ioas_hwpt|vfio_pci_(read|write)_config)$/.test(l.name)) see(a.name as string);
    if (l.name === "iommufd_backend_map_dma" && a.vaddr !== 0n) s.maps.push({ va: a.vaddr as bigint, end: (a.vaddr as bigint) + (a.size as bigint) });
    if (l.name === "iommufd_backend_map_dma" && a.ret === 0n && a.readonly === 0n && !s.ram.some((r) => r.gpa === a.iova))
      s.ram.push({ gpa: a.iova as bigint, size: a.size as bigint, va: a.vaddr as bigint });
    if (l.name === "vtd_reg_write" || l.name === "vtd_reg_read") s.vtd = true;
    if (l.name === "vtd_reg_dmar_root" && a.scalable === 1n) s.scalable = true;
    if (l.name === "vtd_device_attach_hwpt" || (l.name === "iommufd_backend_alloc_hwpt" && a.hwpt_type === 1n)) s.flts = true;
  }
  return s;
}

/** Page-aligned, merged ranges of the user memory QEMU maps for DMA. */
function mergeRanges(ranges: { va: bigint; end: bigint }[]): { va: bigint; end: bigint }[] {
  const sorted = ranges.map((r) => ({ va: r.va & ~(PAGE - 1n), end: (r.end + PAGE - 1n) & ~(PAGE - 1n) })).sort((a, b) => (a.va < b.va ? -1 : 1));
  const out: { va: bigint; end: bigint }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.va <= last.end) last.end = r.end > last.end ? r.end : last.end;
    else out.push({ ...r });
  }
  return out;
}

function cfgRuns(bytes: Map<number, number> | undefined): { off: number; hex: string }[] {
  const offs = [...(bytes?.keys() ?? [])].filter((o) => PASSED_CFG.has(o)).sort((a, b) => a - b);
  const runs: { off: number; hex: string }[] = [];
  for (const o of offs) {
    const last = runs[runs.length - 1];
    const b = bytes!.get(o)!.toString(16).padStart(2, "0");
    if (last && last.off + last.hex.length / 2 === o) last.hex += b;
    else runs.push({ off: o, hex: b });
  }
  return runs;
}

/** Convert the lines of a log (`raw`, without their newlines) named `logName`. */
export function convertLog(raw: readonly string[], logName: string): Conversion {
  const lines = raw.map((r, i) => parseLine(r, i + 1));
  const ctx = new Ctx(lines.length);
  const s = scan(lines);
  const plan = planCfg(lines);
  const qi = queuedDescriptors(lines);
  const hostDevices = s.devices.filter((d) => HOST_BDF.test(d));
  const guestDevices = hostDevices.filter((d) => plan.guestOf.get(d)?.startsWith("00:"));
  let known = 0;

  // The platform.
  const hostSide = hostDevices.length > 0 || lines.some((l) => l.kind === "event" && l.name.startsWith("iommufd_"));
  if (hostSide) {
    ctx.emit(undefined, undefined, { op: "host.iommu", ...HOST_IOMMU, expect: { ok: true } });
    ctx.assume(`the host IOMMU is an Intel VT-d with cap_reg ${HOST_IOMMU.cap_reg} and ecap_reg ${HOST_IOMMU.ecap_reg} (scalable mode, nesting)`);
  }
  hostDevices.forEach((name, index) => {
    const cfg = cfgRuns(plan.bytes.get(name));
    ctx.emit(undefined, undefined, { op: "host.device", bdf: name, ...(cfg.length ? { cfg } : {}), expect: { ok: true } });
    const dev: DeviceCtx = { name, index, ...(s.pathOf.has(name) ? { logPath: s.pathOf.get(name)! } : {}) };
    ctx.devices.set(name, dev);
    ctx.assume(
      `${name} is a PCI Express endpoint bound to vfio-pci, VFIO device ${index} (/dev/vfio/devices/vfio${index}${dev.logPath ? `, the log's ${dev.logPath}` : ""}), ` +
        `its config space the model's default but for the ID, revision, class and subsystem bytes the log reads`,
    );
  });
  for (const d of s.devices.filter((x) => !HOST_BDF.test(x))) ctx.assume(`${d} is not a PCI address (a mediated device?): not synthesized, its lines unused`);
  ctx.emit(undefined, undefined, { op: "process", pid: PID, expect: { ok: true } });
  ctx.assume(`the VMM is one process, pid ${PID}, with every fd it opens in the log`);
  const maps = mergeRanges(s.maps);
  for (const m of maps) ctx.emit(undefined, undefined, { op: "mem.map", pid: PID, va: hex(m.va), length: hex(m.end - m.va), expect: { ok: true } });
  if (maps.length) ctx.assume("the memory QEMU maps for DMA (iommufd_backend_map_dma addr, size) is mapped in the VMM process, merged by page");

  const guestSide = s.vtd || guestDevices.length > 0;
  if (guestSide && s.ram.length) {
    const ram = [...s.ram].sort((a, b) => (a.gpa < b.gpa ? -1 : 1)).map((r) => ({ gpa: hex(r.gpa), size: hex(r.size), va: hex(r.va) }));
    ctx.emit(undefined, undefined, { op: "qemu.machine", pid: PID, ram, expect: { ok: true } });
    ctx.assume("guest RAM is what QEMU maps writable for DMA (iommufd_backend_map_dma: iova = gpa, addr = its VMM address)");
  } else if (guestSide) {
    const size = qi.maxGpa > MIB64 ? ((qi.maxGpa + MIB64 - 1n) / MIB64) * MIB64 : MIB64;
    const top = maps.reduce((t, m) => (m.end > t ? m.end : t), 0n);
    const va = top && top >= 0x7f0000000000n - size * 2n ? ((top + 0x40000000n) >> 30n) << 30n : 0x7f0000000000n;
    // pc_q35_init: below 4 GiB up to 0x80000000 when -m reaches 0xb0000000, the rest from 4 GiB.
    const ram =
      size >= 0xb0000000n
        ? [
            { gpa: "0x0", size: hex(Q35_LOWMEM), va: hex(va) },
            { gpa: "0x100000000", size: hex(size - Q35_LOWMEM), va: hex(va + Q35_LOWMEM) },
          ]
        : [{ gpa: "0x0", size: hex(size), va: hex(va) }];
    ctx.emit(undefined, undefined, { op: "mem.map", pid: PID, va: hex(va), length: hex(size), expect: { ok: true } });
    ctx.emit(undefined, undefined, { op: "qemu.machine", pid: PID, ram, expect: { ok: true } });
    ctx.assume(`guest RAM is ${hex(size)} bytes laid out as q35 lays out -m (enough for every guest address the log shows), backed at VMM address ${hex(va)}`);
  }
  if (s.vtd || s.flts) {
    const props: Record<string, boolean> = {};
    if (s.scalable || qi.wide) props["x-scalable-mode"] = true;
    if (s.flts) props["x-flts"] = true;
    // vtd_decide_config: a vfio-pci device behind intel-iommu needs caching-mode (or x-flts).
    if (guestDevices.length && !s.flts) props["caching-mode"] = true;
    ctx.emit(undefined, undefined, { op: "qemu.viommu", pid: PID, model: "intel-iommu", props, expect: { ok: true } });
    ctx.assume(
      `the machine has an intel-iommu with ${
        Object.keys(props).length
          ? Object.entries(props)
              .map(([k, v]) => `${k}=${v ? "on" : "off"}`)
              .join(", ")
          : "its default properties"
      } (as far as the log shows: vtd_reg_dmar_root, 256-bit descriptors, x-flts events, vfio-pci devices)`,
    );
    if (qi.wide) ctx.assume("the upper 128 bits of each 256-bit invalidation descriptor (not traced) are zero");
  }
  for (const name of guestDevices) {
    const backend = lines.some((l) => l.kind === "event" && l.name === "iommufd_cdev_connect_and_bind" && l.args.name === name) ? "iommufd" : "legacy";
    ctx.emit(undefined, undefined, { op: "qemu.vfio-pci", pid: PID, host: name, guest_bdf: plan.guestOf.get(name), backend, expect: { ok: true } });
    ctx.assume(`${name} is the guest's vfio-pci device ${plan.guestOf.get(name)} on pcie.0 (from its config accesses), backend ${backend}`);
  }

  // The lines, in order.
  const handlers: Record<string, Handler> = {
    ...IOMMUFD_HANDLERS,
    ...vtdHandlers(qi.byWrite, (n) => raw[n - 1] ?? ""),
    ...cfgHandlers(plan, new Set(guestDevices)),
  };
  const descLines = new Set([...qi.byWrite.values()].flat().map((d) => d.line));
  const results = new Map<number, string | undefined>();
  const srcOf = (l: LogLine) => `${l.line}: ${raw[l.line - 1]}`;
  const pairedLines = new Set([...plan.pairs.values()].map((v) => v.line));
  for (const l of lines) {
    if (l.kind === "event" || l.kind === "malformed") known++;
    switch (l.kind) {
      case "blank":
        continue;
      case "malformed":
        ctx.report.malformed.push({ line: l.line, event: l.name, text: l.text, expected: l.expected });
        continue;
      case "unknown":
        ctx.report.unknown[l.name] = (ctx.report.unknown[l.name] ?? 0) + 1;
        continue;
      case "other":
        ctx.unused("not a trace event (another qemu_log user's text)", "(other text)");
        continue;
      case "error_report":
        if (descLines.has(l.line)) ctx.used("(error_report)");
        else ctx.unused("an error_report message (QEMU's text, no event)", "(error_report)");
        continue;
    }
    const why = runHandler(ctx, handlers, l, srcOf(l));
    results.set(l.line, why);
    if (why === undefined && l.name !== "vfio_pci_read_config" && l.name !== "vfio_pci_write_config") ctx.used(l.name);
    else if (why !== undefined && !pairedLines.has(l.line)) ctx.unused(why, l.name);
  }
  // A vfio_pci_*_config line paired with a guest access shares its fate.
  for (const [pciLine, v] of plan.pairs) {
    const why = results.get(pciLine);
    if (why === undefined) ctx.used(v.name);
    else ctx.unused(`the width of a guest access not used: ${why}`, v.name);
  }

  const header: Record<string, unknown> = {
    format: "iorr-trace",
    version: 1,
    title: `QEMU trace log ${logName}`,
    source: "qemu-trace",
    log: logName,
    assumed: ctx.assumed,
    numbering:
      "fds and object ids are the model's (fds from 3, lowest free; iommufd ids from 1, lowest free): the log's are mapped to them in order, and returned ids are not compared",
    devices: hostDevices.map((name, index) => ({ host: name, model_path: `/dev/vfio/devices/vfio${index}`, log_path: s.pathOf.get(name) ?? null })),
  };
  return { header, events: ctx.out, report: ctx.report, known };

  function runHandler(c: Ctx, hs: Record<string, Handler>, l: EventLine, src: string): string | undefined {
    const h = hs[l.name];
    if (!h) return familyReason(l.name);
    const name = l.args.name;
    if (l.name.startsWith("iommufd_cdev_") && typeof name === "string" && !c.devices.has(name)) return `${name} is not a PCI function the importer synthesizes`;
    return h(c, l, src);
  }
}
