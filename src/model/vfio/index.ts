// The VFIO model: importing this registers its file hooks and command handlers
// (device cdev, vfio-pci device commands, features and dma-buf export, groups,
// containers with the type1 driver, seed 002's PASID request, and iommufd's
// VFIO compatibility layer on /dev/iommu).
import "./cdev.ts";
import "./pci_core.ts";
import "./feature.ts";
import "./dmabuf.ts";
import "./group.ts";
import "./container.ts";
import "./type1.ts";
import "./pasid_request.ts";
import "./compat.ts";
