// vtd-emulated-boot: emulated devices behind QEMU's intel-iommu, two guests: one with
// x-flts (the guest's first-stage tables, PASID 0 and a PASID of its own) and one with
// second-stage tables (x-flts off). Each guest kernel enables the vIOMMU, then its
// drivers map and unmap DMA buffers (intel_iommu_map_pages / unmap_pages), invalidate
// through the queue (qi_flush_piotlb for first stage, qi_flush_iotlb for second), and
// the devices DMA through the vIOMMU (vtd_iommu_translate), including a stale access
// after an unmap, which faults.

import type { Outcome } from "../model/outcome.ts";
import { hex, ok, pick, type RawEvent, type Scenario, type ScenarioContext, type ScenarioRun } from "./scenario.ts";
import { PageTable, PGTT_FS, PGTT_SS, VtdGuest, VtdTables } from "./vtd_guest.ts";

const RAM = 0x4000000; // 64 MiB of guest RAM per VM
const WINDOW = 0x200000; // each driver's IOVA window (512 pages)
const BUFFERS = 0x1000000; // data pages from 16 MiB
const ROUNDS_PER_SCALE = 125;

interface Vm {
  pid: number;
  flts: boolean;
  g: VtdGuest;
  /** One emulated device per VM: its devfn, guest bdf, domain id, table and PASID. */
  dev: { devfn: number; bdf: string; did: number; table: PageTable; pasid: number; pasidTable?: PageTable };
}

function* bootVm(pid: number, hostPa: number, flts: boolean): Generator<RawEvent, Vm, Outcome> {
  const va = 0x7f0000000000;
  // qemu_ram_alloc: guest RAM is the VMM's anonymous memory; pc_memory_init maps it at GPA 0.
  ok(yield { op: "process", pid }, "process");
  ok(yield { op: "mem.map", pid, va: hex(va), length: hex(RAM), pa: hex(hostPa) }, "guest RAM");
  ok(yield { op: "qemu.machine", pid, ram: [{ gpa: "0x0", size: hex(RAM), va: hex(va) }] }, "qemu.machine");
  // -device intel-iommu,x-scalable-mode=on[,x-flts=on,x-pasid-mode=on] (vtd_realize, vtd_decide_config)
  const props = flts ? { "x-scalable-mode": true, "x-flts": true, "x-pasid-mode": true } : { "x-scalable-mode": true };
  ok(yield { op: "qemu.viommu", pid, model: "intel-iommu", props }, "qemu.viommu");
  ok(yield { op: "qemu.device", pid, guest_bdf: "00:03.0", model: flts ? "nvme" : "e1000e" }, "qemu.device");
  // The guest kernel: intel_iommu_init builds the tables, then enables translation and the queue.
  const g = new VtdGuest(pid, 0x100000);
  const t = new VtdTables(g);
  const devfn = 0x18;
  const table = new PageTable(g, 0, !flts);
  yield* t.setupRoot();
  yield* t.setupDevice(devfn);
  yield* table.build();
  // dmar_domain: first stage under PASID 0 (RID_PASID) with x-flts, else second stage.
  yield* t.setPasid(devfn, 0, flts ? PGTT_FS : PGTT_SS, 2, table.root);
  let pasidTable: PageTable | undefined;
  if (flts) {
    // A driver's own PASID (iommu_attach_device_pasid): its first-stage table, domain 3.
    pasidTable = new PageTable(g, 0, false);
    yield* pasidTable.build();
    yield* t.setPasid(devfn, 1, PGTT_FS, 3, pasidTable.root);
  }
  yield* g.enable(t.root);
  return { pid, flts, g, dev: { devfn, bdf: "00:03.0", did: 2, table, pasid: 1, ...(pasidTable ? { pasidTable } : {}) } };
}

function* churn(vm: Vm, rng: () => number): ScenarioRun {
  const { g, dev, pid } = vm;
  const withPasid = vm.flts && rng() < 0.5;
  const table = withPasid ? dev.pasidTable! : dev.table;
  const did = withPasid ? 3 : dev.did;
  const i = pick(rng, 0, WINDOW / 0x1000 - 1);
  const buf = BUFFERS + pick(rng, 0, 0x7ff) * 0x1000;
  const iova = i * 0x1000;
  const off = pick(rng, 0, 0xff) * 16;
  const pasid = withPasid ? { pasid: dev.pasid } : {};
  // dma_map_page: the PTE, then the device's DMA (its descriptors carry the IOVA).
  yield* table.set(i, buf);
  yield { op: "dma", pid, guest_bdf: dev.bdf, ...pasid, iova: hex(iova + off), access: rng() < 0.5 ? "read" : "write" };
  // dma_unmap_page: the PTE cleared, the IOTLB flushed (strict mode) before the IOVA is reused.
  yield* table.set(i, 0);
  yield* g.submit([vm.flts ? VtdGuest.piotlb(did, withPasid ? dev.pasid : 0, iova) : VtdGuest.iotlbPage(did, iova)]);
  // A stale access after the unmap: the walk finds no entry (a translation fault).
  yield { op: "dma", pid, guest_bdf: dev.bdf, ...pasid, iova: hex(iova + off), access: "read" };
}

function* run({ rng, scale }: ScenarioContext): ScenarioRun {
  const vms = [yield* bootVm(1, 0x100000000, true), yield* bootVm(2, 0x200000000, false)];
  const rounds = ROUNDS_PER_SCALE * scale;
  for (let r = 0; r < rounds; r++) yield* churn(vms[r % 2]!, rng);
  // Shutdown: each guest disables translation and the queue; the VMM exits.
  for (const vm of vms) {
    yield* vm.g.disable();
    ok(yield { op: "process.exit", pid: vm.pid }, "exit");
  }
}

export const vtdEmulatedBoot: Scenario = {
  name: "vtd-emulated-boot",
  title:
    "emulated devices behind intel-iommu: guest-built first-stage (x-flts, with a PASID) and second-stage tables, map/unmap churn with queued invalidations",
  profile: ["linux-mainline", "qemu-flts-final"],
  estimate: (scale) => 60 + ROUNDS_PER_SCALE * scale * 8,
  run,
};
