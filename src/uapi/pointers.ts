// The pointer members of the uAPI structs: which member of a command struct is
// an address in the caller's memory, how many bytes behind it the kernel may
// touch, and in which direction. One definition for every tool that moves the
// caller's memory (live mode reads and writes it through the shim).

import { decodeStruct, type Decoded, type StructDef } from "./layout.ts";
import { IOMMU_TEST_OPS, iommu_iova_range, MOCK_ACCESS_RW_WRITE } from "./iommufd.ts";

/**
 * in: the kernel reads the bytes (copy_from_user); out: it writes them
 * (copy_to_user); inout: both; fill: it writes every byte when the call
 * succeeds and none when it fails (one copy_to_user of a whole kernel buffer
 * as the call's last step), so a tool need not read them first; pin: it pins
 * the pages (pin_user_pages), which must be mapped, and reads their contents
 * only when a device or an access object touches them.
 */
export type PointerDir = "in" | "out" | "inout" | "fill" | "pin";

export interface PointerMember {
  /** The member holding the address. */
  readonly member: string;
  /** Bytes behind it the kernel may touch, from the struct as the caller passed it. */
  readonly length: (m: Decoded) => bigint;
  readonly dir: PointerDir;
}

const u = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(v as number));

/** iommufd_hwpt_get_dirty_bitmap: one bit per page_size unit of [iova, iova + length), in u64 words (iova_bitmap). */
function dirtyBitmapBytes(m: Decoded): bigint {
  const length = u(m.length);
  const pageSize = u(m.page_size);
  if (length === 0n || pageSize === 0n || (pageSize & (pageSize - 1n)) !== 0n) return 0n;
  const units = (length - 1n) / pageSize + 1n;
  return ((units + 63n) / 64n) * 8n;
}

/** iommufd_test_dirty: DIV_ROUND_UP(length / page_size, 8) bytes of bitmap. */
function testDirtyBytes(m: Decoded): bigint {
  const pageSize = u(m["dirty.page_size"]);
  if (m.op !== IOMMU_TEST_OPS.DIRTY || pageSize === 0n) return 0n;
  return (u(m["dirty.length"]) / pageSize + 7n) / 8n;
}

/** By struct name (src/uapi/iommufd.ts). A struct not listed has no pointer member. */
export const POINTER_MEMBERS: Readonly<Record<string, readonly PointerMember[]>> = {
  // iopt_map_user_pages: the pages of [user_va, user_va + length) are pinned.
  iommu_ioas_map: [{ member: "user_va", length: (m) => u(m.length), dir: "pin" }],
  // iommufd_ioas_iova_ranges copies at most num_iovas ranges out.
  iommu_ioas_iova_ranges: [{ member: "allowed_iovas", length: (m) => u(m.num_iovas) * BigInt(iommu_iova_range.size), dir: "out" }],
  // iommufd_ioas_load_iovas reads num_iovas ranges.
  iommu_ioas_allow_iovas: [{ member: "allowed_iovas", length: (m) => u(m.num_iovas) * BigInt(iommu_iova_range.size), dir: "in" }],
  // iommu_copy_struct_from_user of the driver data (struct iommu_user_data).
  iommu_hwpt_alloc: [{ member: "data_uptr", length: (m) => u(m.data_len), dir: "in" }],
  // iommufd_get_hw_info copies the driver's info out, at most data_len bytes.
  iommu_hw_info: [{ member: "data_uptr", length: (m) => u(m.data_len), dir: "out" }],
  // The entry array (struct iommu_user_data_array): entry_num entries of entry_len bytes.
  iommu_hwpt_invalidate: [{ member: "data_uptr", length: (m) => u(m.entry_len) * u(m.entry_num), dir: "in" }],
  // The driver reads its data and may copy a reply back into it (iommu_copy_struct_to_user).
  iommu_viommu_alloc: [{ member: "data_uptr", length: (m) => u(m.data_len), dir: "inout" }],
  // iommufd_vfio_map_dma (VFIO_IOMMU_MAP_DMA on an iommufd): iopt_map_user_pages pins [vaddr, vaddr + size).
  vfio_iommu_type1_dma_map: [{ member: "vaddr", length: (m) => u(m.size), dir: "pin" }],
  // iova_bitmap: the bitmap is read and written back with the dirty bits set.
  iommu_hwpt_get_dirty_bitmap: [{ member: "data", length: dirtyBitmapBytes, dir: "inout" }],
  // IOMMU_TEST_CMD: the union's pointer is the op's (iommufd_test_md_check_refs: get_user_pages_fast, one page at a time).
  iommu_test_cmd: [
    { member: "check_refs.uptr", length: (m) => (m.op === IOMMU_TEST_OPS.MD_CHECK_REFS ? u(m["check_refs.length"]) : 0n), dir: "pin" },
    // iommufd_test_md_check_pa: get_user_pages_fast of each page under uptr.
    { member: "check_map.uptr", length: (m) => (m.op === IOMMU_TEST_OPS.MD_CHECK_MAP ? u(m["check_map.length"]) : 0n), dir: "pin" },
    // iommufd_test_dirty: copy_from_user of one bit per page_size unit.
    { member: "dirty.uptr", length: testDirtyBytes, dir: "in" },
    // iommufd_test_access_pages: iommufd_test_check_pages looks up each page under uptr (get_user_pages_fast).
    { member: "access_pages.uptr", length: (m) => (m.op === IOMMU_TEST_OPS.ACCESS_PAGES ? u(m["access_pages.length"]) : 0n), dir: "pin" },
    // iommufd_test_access_rw: a write copies the buffer in (copy_from_user), a read copies all of it out last (copy_to_user).
    {
      member: "access_rw.uptr",
      length: (m) => (accessRw(m) && Number(m["access_rw.flags"]) & MOCK_ACCESS_RW_WRITE ? u(m["access_rw.length"]) : 0n),
      dir: "in",
    },
    {
      member: "access_rw.uptr",
      length: (m) => (accessRw(m) && !(Number(m["access_rw.flags"]) & MOCK_ACCESS_RW_WRITE) ? u(m["access_rw.length"]) : 0n),
      dir: "fill",
    },
  ],
};

function accessRw(m: Decoded): boolean {
  return m.op === IOMMU_TEST_OPS.ACCESS_RW;
}

/** The struct as the kernel copies it in: bytes past a short caller's size read as zero. */
export function decodePadded(def: StructDef, bytes: Uint8Array): Decoded {
  return decodeStruct(def, bytes.length >= def.size ? bytes : Uint8Array.from({ length: def.size }, (_, i) => bytes[i] ?? 0));
}

export function pointerMembers(def: StructDef): readonly PointerMember[] {
  return POINTER_MEMBERS[def.name] ?? [];
}

/** A member naming a caller's fd: in every call with the struct, or only where `when` holds (a union member, one op's). */
export type FdMember = string | { readonly member: string; readonly when: (m: Decoded) => boolean };

/** The selftest ops whose `id` is the access's fd (iommufd_access_get: fget(cmd->id)). */
const ACCESS_FD_OPS = [IOMMU_TEST_OPS.ACCESS_PAGES, IOMMU_TEST_OPS.ACCESS_RW, IOMMU_TEST_OPS.DESTROY_ACCESS_PAGES, IOMMU_TEST_OPS.ACCESS_REPLACE_IOAS];

/**
 * Members that name one of the caller's fds (fdget in the kernel): a tool that
 * renumbers fds translates them. By struct name.
 */
export const FD_MEMBERS: Readonly<Record<string, readonly FdMember[]>> = {
  vfio_device_bind_iommufd: ["iommufd"],
  iommu_ioas_map_file: ["fd"],
  // The access ops name the access by its fd (iommufd_test_access_get: fget(cmd->id));
  // iommufd_test_dmabuf_revoke: dma_buf_get(cmd->dmabuf_revoke.dmabuf_fd). Union members: by op.
  iommu_test_cmd: [
    { member: "id", when: (m) => ACCESS_FD_OPS.includes(m.op as number) },
    { member: "dmabuf_revoke.dmabuf_fd", when: (m) => m.op === IOMMU_TEST_OPS.DMABUF_REVOKE },
  ],
};

/** The fd members of this call's struct (the caller's bytes, short ones read as zero past their end; or the struct decoded so). */
export function fdMembers(def: StructDef, bytes: Uint8Array, decoded?: Decoded): string[] {
  const list = FD_MEMBERS[def.name] ?? [];
  if (list.every((f) => typeof f === "string")) return list as string[];
  const m = decoded ?? decodePadded(def, bytes);
  return list.flatMap((f) => (typeof f === "string" ? [f] : f.when(m) ? [f.member] : []));
}
