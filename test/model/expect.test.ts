// `expect` (docs/trace-format.md "Outcomes and expect"): every value is checked when
// the trace is read, like values elsewhere, so that a typo is bad input naming
// expect.FIELD, never a divergence the simulator did not cause.
import { describe, expect, it } from "vitest";
import { parseTraceEvent } from "../../src/model/ops.ts";
import { refusal } from "../helpers.ts";

const proc = (e: unknown) => ({ op: "process", pid: 1, expect: e });
const ioctl = (cmd: unknown, out: Record<string, unknown>) => ({ op: "ioctl", pid: 1, fd: 3, cmd, expect: { ret: 0, out } });
const accepts = (raw: Record<string, unknown>) => expect(() => parseTraceEvent(raw, 1), JSON.stringify(raw)).not.toThrow();

describe("expect values", () => {
  it("fd and ret are integers >= 0 (a failing system call is errno, never a negative return)", () => {
    for (const k of ["fd", "ret"]) {
      for (const bad of [-1, 1.5, "0x", "three", null, [], {}, false]) expect(refusal(proc({ [k]: bad }))).toMatch(new RegExp(`^expect\\.${k}: `));
      accepts(proc({ [k]: 3 }));
      accepts(proc({ [k]: "0x3" }));
      accepts(proc({ [k]: true })); // present, any value
    }
  });

  it("value, pa, hpa and page_size are 64-bit integers: a number, or a hex or decimal string", () => {
    for (const k of ["value", "pa", "hpa", "page_size"]) {
      for (const bad of ["0x", "0x1g", -1, 1.5, "18446744073709551616", null, [], {}])
        expect(refusal(proc({ [k]: bad }))).toMatch(new RegExp(`^expect\\.${k}: `));
      accepts(proc({ [k]: "0xffffffffffffffff" }));
      accepts(proc({ [k]: 4096 }));
    }
  });

  it("perm is the rights a translation answers (permString: r, w, x in that order); ok is true; errno a Linux errno name", () => {
    for (const bad of ["", "wr", "read", "R", 3, null]) expect(refusal(proc({ perm: bad }))).toMatch(/^expect\.perm: /);
    for (const ok of ["r", "w", "rw", "rwx"]) accepts(proc({ perm: ok }));
    for (const bad of [false, 1, "yes", null]) expect(refusal(proc({ ok: bad }))).toMatch(/^expect\.ok: expected true/);
    for (const bad of ["EWHATEVER", "einval", 22, null]) expect(refusal(proc({ errno: bad }))).toMatch(/^expect\.errno: /);
    for (const k of ["fault", "error", "abort"]) expect(refusal(proc({ [k]: 1 }))).toMatch(new RegExp(`^expect\\.${k}: expected a string`));
  });

  it("an unknown outcome field is bad input, with the known one it is closest to", () => {
    expect(refusal(proc({ ERRNO: "EINVAL" }))).toBe('expect.ERRNO: unknown outcome field (did you mean "errno"?)');
    expect(refusal(proc({ fdd: 3 }))).toBe('expect.fdd: unknown outcome field (did you mean "fd"?)');
  });
});

describe("expect.out members (the struct the kernel copies back)", () => {
  it("an integer must fit the member's C type: 1.5, -1 for an unsigned member, 2^64 are bad input (copy_to_user writes a __u32 / __u64)", () => {
    expect(refusal(ioctl("VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 1.5 }))).toBe("expect.out.pt_id: expected an integer, got 1.5");
    expect(refusal(ioctl("VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: -1 }))).toBe("expect.out.pt_id: -1 is not a value of a u32 member (0..4294967295)");
    expect(refusal(ioctl("VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: "0x100000000" }))).toMatch(/^expect\.out\.pt_id: 4294967296 is not a value of a u32/);
    expect(refusal(ioctl("IOMMU_IOAS_MAP", { iova: "0x10000000000000000" }))).toMatch(/^expect\.out\.iova: .* u64/);
    for (const bad of [null, [null], {}, "0x", false]) expect(refusal(ioctl("IOMMU_IOAS_ALLOC", { out_ioas_id: bad }))).toMatch(/^expect\.out\.out_ioas_id: /);
    // a signed member takes its negative values (vfio_device_bind_iommufd.iommufd is __s32)
    accepts(ioctl("VFIO_DEVICE_BIND_IOMMUFD", { iommufd: -1 }));
    accepts(ioctl("IOMMU_IOAS_MAP", { iova: "0xffffffffffffffff" }));
  });

  it("flag and enumeration members by name, as today; `true` only asks for presence", () => {
    accepts(ioctl("IOMMU_GET_HW_INFO", { out_data_type: "INTEL_VTD", out_capabilities: ["DIRTY_TRACKING"] }));
    expect(refusal(ioctl("IOMMU_GET_HW_INFO", { out_capabilities: ["NOPE"] }))).toMatch(/^expect\.out\.out_capabilities: element 0: unknown flag "NOPE"/);
    accepts(ioctl("IOMMU_IOAS_ALLOC", { out_ioas_id: true }));
  });

  it("a member the struct does not have, in any spelling, is bad input with the member it is closest to; inline replies are not members", () => {
    expect(refusal(ioctl("IOMMU_IOAS_ALLOC", { out_iosa_id: 2 }))).toBe(
      'expect.out.out_iosa_id: iommu_ioas_alloc has no member "out_iosa_id" (did you mean "out_ioas_id"?)',
    );
    expect(refusal(ioctl("IOMMU_IOAS_ALLOC", { OUT_IOAS_ID: 2 }))).toMatch(/did you mean "out_ioas_id"/);
    accepts(ioctl("IOMMU_IOAS_IOVA_RANGES", { allowed_iovas: [{ start: 0, last: "0xffff" }], num_iovas: 1 }));
    accepts(ioctl("IOMMU_GET_HW_INFO", { data: { flags: 0 } }));
    accepts(ioctl("VFIO_DEVICE_GET_REGION_INFO", { caps: [{ id: 3 }] }));
    accepts(ioctl("IOMMU_IOAS_GET_PA", { out_length: 1 })); // the no-IOMMU V4 spelling of `length`
    accepts(ioctl("VFIO_IOMMU_PASID_REQUEST", { result: 1 })); // a union member by its own name
  });

  it("for a cmd given as a number, any command it may mean decides (0x3b70: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and VFIO_IOMMU_GET_INFO)", () => {
    const byNumber = (out: Record<string, unknown>) => ({ op: "ioctl", pid: 1, fd: 3, cmd: 0x3b70, expect: { ret: 0, out } });
    accepts(byNumber({ count: 1 })); // vfio_pci_hot_reset_info
    accepts(byNumber({ iova_pgsizes: 4096 })); // vfio_iommu_type1_info
    expect(refusal(byNumber({ iova_pgsize: 4096 }))).toMatch(/^expect\.out\.iova_pgsize: vfio_pci_hot_reset_info \/ vfio_iommu_type1_info has no member/);
  });
});
