// What an importer asks of a dma-buf (src/model/dmabuf/state.ts).

import type { State } from "../state.ts";
import type { DmaBuf } from "./state.ts";

/** The dma-buf behind an open file, or undefined (the file is not a dma-buf). */
export function dmabufOfFile(s: State, fileId: number): DmaBuf | undefined {
  return s.dmabufs.get(fileId);
}

/**
 * sym_vfio_pci_dma_buf_iommufd_map: the selftest's exporter first
 * (iommufd_test_dma_buf_iommufd_map), then vfio_pci_dma_buf_iommufd_map; for
 * both a revoked buffer is ENODEV, more than one range EOPNOTSUPP (iommufd
 * takes single-range buffers only), else its range.
 */
export function vfioPciDmaBufIommufdMap(b: DmaBuf): readonly { pa: bigint; length: bigint }[] | string {
  if (b.revoked) return "ENODEV";
  if (b.phys.length !== 1) return "EOPNOTSUPP";
  return b.phys;
}
