// The QEMU log parser: the log backend's `name + " " + printf(fmt)` lines
// (scripts/tracetool/backend/log.py), the prefixes of each QEMU version (util/log.c),
// the older formats of events whose format changed, and the lines other writers interleave.
import { describe, expect, it } from "vitest";
import { cFormat, compilePrintf, EVENT_FORMATS, matchArgs } from "../../src/importers/qemu_log/formats.ts";
import { parseLine } from "../../src/importers/qemu_log/parse.ts";

const ev = (raw: string) => {
  const l = parseLine(raw, 7);
  if (l.kind !== "event") throw new Error(`not an event: ${JSON.stringify(l)}`);
  return l;
};

describe("the table of event formats", () => {
  it("knows every event of the five trace-events files the reference reproduces, each format compiling", () => {
    for (const name of [
      "iommufd_backend_map_dma",
      "iommufd_cdev_getfd",
      "vtd_reg_write",
      "vtd_inv_desc_iotlb_pasid",
      "pci_cfg_read",
      "vfio_user_dma_unmap",
      "x86_iommu_iec_notify",
      "shpc_slot_command",
    ])
      expect(EVENT_FORMATS.has(name), name).toBe(true);
    // 288 definitions plus two events known only by their older names (vfio_realize, the RFC's dep_devices_iommufd).
    expect(EVENT_FORMATS.size).toBe(290);
  });

  it("expands PRI* macros and C escapes as the compiler concatenates the pieces", () => {
    expect(cFormat(String.raw`"Notify IEC invalidation: global=%d index=%" PRIu32 " mask=%" PRIu32`)).toBe(
      "Notify IEC invalidation: global=%d index=%u mask=%u",
    );
    expect(cFormat(String.raw`"\t%04x:%02x:%02x.%x group %d"`)).toBe("\t%04x:%02x:%02x.%x group %d");
    expect(cFormat(String.raw`"Region \"%s\" iova=0x%"PRIx64`)).toBe('Region "%s" iova=0x%x');
  });

  it("reads %x unpadded or zero-padded, %d negative, %p as 0x... or (nil)", () => {
    const { re } = compilePrintf("a=%d b=%x c=%02x p=%p");
    expect(re.test("a=-1 b=ff c=0a p=(nil)")).toBe(true);
    expect(re.test("a=1 b=FF c=0a p=0x1")).toBe(false);
  });
});

describe("a line of the log backend", () => {
  it("with no prefix (QEMU 6.0 and later by default), two spaces when the format starts with one", () => {
    const l = ev("iommufd_backend_map_dma  iommufd=27 ioas=2 iova=0xfffc0000 size=0x40000 addr=0x7f3a3fe00000 readonly=1 (0)");
    expect(l.args).toEqual({ iommufd: 27n, ioas: 2n, iova: 0xfffc0000n, size: 0x40000n, vaddr: 0x7f3a3fe00000n, readonly: 1n, ret: 0n });
    expect(l.prefix).toBeUndefined();
  });

  it("with the pid@sec.usec: prefix (<= 5.2 always, 6.0-10.0 with -msg timestamp=on)", () => {
    const l = ev("480969@1594894035.927040:vtd_context_cache_reset ");
    expect(l.name).toBe("vtd_context_cache_reset");
    expect(l.prefix).toBe("480969@1594894035.927040:");
  });

  it("with the ISO 8601 prefix of 10.1 and later (012842c075), on an event and on an error_report alike", () => {
    expect(ev("2025-07-21T18:43:28.089797Z vtd_dmar_enable enable 1").args).toEqual({ en: 1n });
    expect(parseLine("2025-07-21T18:43:28.089819Z qemu-system-x86_64: Unable to access credentials", 3)).toEqual({
      kind: "error_report",
      line: 3,
      message: "Unable to access credentials",
    });
  });

  it("an empty format: the name and a trailing space, or the name alone once a tool stripped the blank", () => {
    expect(ev("vtd_inv_qi_fetch ").args).toEqual({});
    expect(ev("vfio_device_reset_handler").args).toEqual({});
  });

  it("%s with spaces and parentheses (vtd_replay_ce_valid's mode, MR names)", () => {
    expect(ev("vtd_replay_ce_valid legacy mode: replay valid context device 00:03.00 domain 0x1 hi 0x102 lo 0x1001").args.mode).toBe("legacy mode");
    expect(ev("vfio_listener_region_add_iommu region_add [iommu] vtd-00.0-dmar (x) 0x0 - 0xfedfffff").args.name).toBe("vtd-00.0-dmar (x)");
  });

  it("a TAB-led format (iommufd_cdev_pci_hot_reset_dep_devices)", () => {
    expect(ev("iommufd_cdev_pci_hot_reset_dep_devices \t0000:81:00.0 devid 5").args).toMatchObject({ bus: 0x81n, dev_id: 5n });
  });

  it("master's alloc_viommu labels: the value after type= is the dev_id (the call passes dev_id first)", () => {
    expect(ev("iommufd_backend_alloc_viommu  iommufd=9 type=1 dev_id=0 hwpt_id=3 viommu_id=4 (0)").args).toMatchObject({ dev_id: 1n, type: 0n });
  });
});

describe("older formats", () => {
  it("pci_cfg_* before deeb956c40: slot in decimal, no bus", () => {
    const l = ev("pci_cfg_read vfio-pci 12:1 @0x8 -> 0x2000001");
    expect(l.args).toEqual({ dev: "vfio-pci", devid: 12n, fnid: 1n, offs: 8n, val: 0x2000001n });
    expect(l.format.since).toMatch(/deeb956c40/);
  });

  it("vfio_pci_read_config before 8908eb1a4a: the value without 0x", () => {
    expect(ev("vfio_pci_read_config  (0000:03:00.0, @0x0, len=0x4) 10fb8086").args.val).toBe(0x10fb8086n);
  });

  it("iommufd_backend_connect and alloc_ioas with (%d) before 9067d50dff; get_dirty_bitmap without flags before e98a1c7049", () => {
    expect(ev("iommufd_backend_connect fd=3 owned=1 users=1 (0)").args.ret).toBe(0n);
    expect(ev("iommufd_backend_alloc_ioas  iommufd=3 ioas=2 (0)").args.ioas).toBe(2n);
    expect(ev("iommufd_backend_get_dirty_bitmap  iommufd=3 hwpt=4 iova=0x0 size=0x1000 page_size=0x1000 (0)").args.flags).toBeUndefined();
  });

  it("vfio_realize (renamed vfio_device_attach in 8.2) and region_add [iommu] without the MR name (before 9.1)", () => {
    expect(ev("vfio_realize  (0000:00:02.0) group 1").args).toEqual({ name: "0000:00:02.0", group_id: 1n });
    expect(ev("vfio_listener_region_add_iommu region_add [iommu] 0x0 - 0xfedfffff").args.end).toBe(0xfedfffffn);
  });
});

describe("lines that are not a known event's", () => {
  it("a known event whose arguments match no format is malformed, with every format it could have had", () => {
    const l = parseLine("vtd_reg_write addr 0x20 size 0x8", 12);
    expect(l).toEqual({ kind: "malformed", line: 12, name: "vtd_reg_write", text: "addr 0x20 size 0x8", expected: ["addr 0x%x size 0x%x value 0x%x"] });
  });

  it("an unknown event name, another qemu_log user's text, a blank line", () => {
    expect(parseLine("vtd_dmar_slpte slpte 0x1", 1)).toEqual({ kind: "unknown", line: 1, name: "vtd_dmar_slpte" });
    expect(parseLine("# -machine q35 -trace enable=vtd_*", 2).kind).toBe("other");
    expect(parseLine("   ", 3).kind).toBe("blank");
  });

  it("error_report with a -device prefix", () => {
    const l = parseLine("qemu-system-x86_64: -device vfio-pci,host=0000:02:00.0: vfio 0000:02:00.0: Failed to set vIOMMU: x", 4);
    expect(l).toMatchObject({ kind: "error_report", message: "-device vfio-pci,host=0000:02:00.0: vfio 0000:02:00.0: Failed to set vIOMMU: x" });
  });

  it("matchArgs tries master's format first, then the older ones", () => {
    expect(matchArgs("pci_cfg_read", "vfio-pci 00:04.0 @0x0 -> 0x15728086")?.format.since).toBeUndefined();
  });
});
