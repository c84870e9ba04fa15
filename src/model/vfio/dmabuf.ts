// vfio-pci's dma-buf export of BAR ranges (drivers/vfio/pci/vfio_pci_dmabuf.c,
// v6.19 5d74781ebc86, seed 004): VFIO_DEVICE_FEATURE_DMA_BUF makes a dma-buf
// file (src/model/dmabuf); iommufd imports it through
// vfio_pci_dma_buf_iommufd_map; reset and close of the device revoke it.

import { installFile, unusedFd } from "../files/fd.ts";
import { notModelled, type FileOps, type SimulatorFault } from "../framework.ts";
import { errno, type Outcome } from "../outcome.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import type { State } from "../state.ts";
import { U64_MAX } from "../values.ts";
import { hostDevOf, vdevOf } from "./core.ts";

const PAGE = 4096n;
/** KMALLOC_MAX_SIZE on x86-64 (order-10 pages): memdup_array_user of more is ENOMEM. */
const KMALLOC_MAX_SIZE = 4n << 20n;

/** dma_buf_fops: no modelled ioctl (only DMA_BUF_IOCTL_* exist); vfio_pci_dma_buf_release makes the device forget the buffer. */
export const DMABUF_FOPS: Omit<FileOps, "ioctl"> = {
  release: (s, file) => {
    const b = s.dmabufs.get(file.id);
    if (b?.bdf) {
      const d = vdevOf(s, b.bdf);
      d.dmabufs = d.dmabufs.filter((id) => id !== file.id);
    }
    s.dmabufs.delete(file.id);
  },
};

/**
 * vfio_pci_core_feature_dma_buf after vfio_check_feature (GET only, 16 bytes
 * of payload): flags != 0 or no range (EINVAL), not a BAR (ENODEV), the range
 * array (ENOMEM past KMALLOC_MAX_SIZE), each range non-empty and page aligned
 * with a sum that does not overflow (EINVAL), a BAR that is memory (EINVAL),
 * each range inside it (EOVERFLOW on wrap, else EINVAL); then the new dma-buf
 * fd (EMFILE) is the ioctl's return value.
 */
export function exportDmabuf(s: State, call: IoctlCall, payload: Uint8Array): Outcome | SimulatorFault {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const regionIndex = v.getUint32(0, true);
  // open_flags (O_CLOEXEC, the access mode) go to the new file: nothing the model keeps.
  const flags = v.getUint32(8, true);
  const nr = v.getUint32(12, true);
  if (!nr || flags) return errno("EINVAL");
  if (regionIndex >= 6) return errno("ENODEV");
  if (BigInt(nr) * 16n > KMALLOC_MAX_SIZE) return errno("ENOMEM");
  const ranges: { offset: bigint; length: bigint }[] = [];
  for (let i = 0; i < nr; i++) {
    const at = 16 + 16 * i;
    ranges.push(at + 16 <= payload.length ? { offset: v.getBigUint64(at, true), length: v.getBigUint64(at + 8, true) } : { offset: 0n, length: 0n });
  }
  // validate_dmabuf_input
  let size = 0n;
  for (const r of ranges) {
    if (!r.length || r.offset % PAGE || r.length % PAGE) return errno("EINVAL");
    size += r.length;
    if (size > U64_MAX) return errno("EINVAL");
  }
  // vfio_pci_core_get_dmabuf_phys: pcim_p2pdma_provider needs a memory BAR; vfio_pci_core_fill_phys_vec
  const bdf = call.file.bdf!;
  const bar = hostDevOf(s, bdf).regions.find((r) => r.index === regionIndex);
  if (!bar?.size) return errno("EINVAL");
  if (bar.pa === undefined) return notModelled(call.ev, `dma-buf export of BAR ${regionIndex} without its physical address (host.device regions[].pa)`);
  const phys: { pa: bigint; length: bigint }[] = [];
  for (const r of ranges) {
    const pa = bar.pa + r.offset;
    if (pa > U64_MAX || pa + r.length > U64_MAX) return errno("EOVERFLOW");
    if (pa + r.length > bar.pa + bar.size) return errno("EINVAL");
    phys.push({ pa, length: r.length });
  }
  const fd = unusedFd(call.process);
  if (fd === "EMFILE") return errno("EMFILE");
  const file = installFile(s, call.process, fd, { path: "anon_inode:dmabuf", kind: "dmabuf", bdf });
  s.dmabufs.set(file.id, { fileId: file.id, bdf, regionIndex, ranges, phys, size, revoked: false, revokeGen: 0 });
  const d = vdevOf(s, bdf);
  d.dmabufs = [...d.dmabufs, file.id];
  return { fd };
}
