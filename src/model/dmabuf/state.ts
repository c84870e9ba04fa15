// dma-buf objects (drivers/dma-buf/): the buffers an exporter made, by the id
// of their file. vfio-pci's BAR export is the one exporter modelled, so a
// buffer is its struct vfio_pci_dma_buf. Importers (iommufd's
// IOMMU_IOAS_MAP_FILE) reach the exporter's rules through dmabuf.ts, as
// iommufd reaches vfio_pci_dma_buf_iommufd_map through symbol_get: neither
// side depends on the other's code.

/** struct vfio_pci_dma_buf: a BAR range exported by VFIO_DEVICE_FEATURE_DMA_BUF. */
export interface DmaBuf {
  fileId: number;
  /** priv->vdev: the exporting device, null once the device closed (vfio_pci_dma_buf_cleanup). */
  bdf: string | null;
  regionIndex: number;
  /** The ranges as asked, inside the BAR. */
  ranges: { offset: bigint; length: bigint }[];
  /** priv->phys_vec: the BAR's physical ranges. */
  phys: { pa: bigint; length: bigint }[];
  /** priv->size: the sum of the ranges. */
  size: bigint;
  /** priv->revoked: importers can no longer map it (vfio_pci_dma_buf_iommufd_map: ENODEV). */
  revoked: boolean;
  /** The selftest's mock exporter (iommufd_test_dmabuf_ops: IOMMU_TEST_OP_DMABUF_GET); absent: vfio-pci. */
  exporter?: "iommufd_test";
  /** How many times the exporter revoked it (dma_buf_move_notify to revoked): importers alive then are dead for good. */
  revokeGen: number;
}
