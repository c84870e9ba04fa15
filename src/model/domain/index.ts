// IOMMU paging domains in simulated memory and the DMA that goes through them.
// The API the iommufd HWPT and IOAS code calls; importing it installs the
// io_pagetable's DOMAIN_HOOKS.

export { domainAlloc, domainFree, domainIovaToPhys, domainMapArea, domainUnmap, pageTableOf, translate, type DomainAllocOpts } from "./domain.ts";
export { domainReadDirty, domainSetDirtyTracking } from "./dirty.ts";
export {
  domainParamsFor,
  MOCK_APERTURE_LAST,
  MOCK_APERTURE_START,
  MOCK_HUGE_PAGE_SIZE,
  MOCK_HUGE_PGSIZE_BITMAP,
  MOCK_IO_PAGE_SIZE,
  type DomainParams,
} from "./params.ts";
export { DMA_ATTACHMENTS, dmaReducers, type Attachment, type AttachmentLookup } from "./dma.ts";
