// A program that drives a VFIO device cdev through iommufd as a VMM does
// (drivers/vfio/device_cdev.c, drivers/iommu/iommufd/), checking each answer
// against the kernel's behaviour. Run by test/live/live.test.ts under
// `iorr live --platform test/live/vtd_pasid_host.jsonl`, which declares the host:
// a scalable-mode VT-d IOMMU and one PASID-capable device, vfio0.
// Exit status = failed checks.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define IOMMU_IOAS_ALLOC _IO(';', 0x81)
#define IOMMU_IOAS_MAP _IO(';', 0x85)
#define IOMMU_HWPT_ALLOC _IO(';', 0x89)
#define VFIO_DEVICE_BIND_IOMMUFD _IO(';', 100 + 18)
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(';', 100 + 19)
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(';', 100 + 20)
#define IOMMU_HWPT_ALLOC_PASID (1 << 3)
#define VFIO_DEVICE_ATTACH_PASID (1 << 0)
#define VFIO_DEVICE_DETACH_PASID (1 << 0)

struct iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct iommu_ioas_map { uint32_t size, flags, ioas_id, __reserved; uint64_t user_va, length, iova; };
struct iommu_hwpt_alloc { uint32_t size, flags, dev_id, pt_id, out_hwpt_id, __reserved, data_type, data_len; uint64_t data_uptr; uint32_t fault_id; uint8_t __reserved2[4]; };
struct vfio_device_bind_iommufd { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; uint64_t token_uuid_ptr; };
struct vfio_device_attach_iommufd_pt { uint32_t argsz, flags, pt_id, pasid; };
struct vfio_device_detach_iommufd_pt { uint32_t argsz, flags, pasid; };

#include "check.h"

static uint32_t ioas_alloc(int fd) {
  struct iommu_ioas_alloc a = {.size = sizeof a};
  CHECK(ioctl(fd, IOMMU_IOAS_ALLOC, &a) == 0, "IOAS_ALLOC");
  return a.out_ioas_id;
}

static uint32_t hwpt_alloc(int fd, uint32_t dev, uint32_t ioas) {
  struct iommu_hwpt_alloc h = {.size = sizeof h, .flags = IOMMU_HWPT_ALLOC_PASID, .dev_id = dev, .pt_id = ioas};
  CHECK(ioctl(fd, IOMMU_HWPT_ALLOC, &h) == 0 && h.out_hwpt_id != 0, "iommufd_hwpt_alloc: a PASID-capable paging HWPT over the IOAS");
  return h.out_hwpt_id;
}

int main(void) {
  int iommufd = open("/dev/iommu", O_RDWR);
  int dev = open("/dev/vfio/devices/vfio0", O_RDWR);
  CHECK(iommufd >= 0 && dev >= 0, "open /dev/iommu and the device cdev (vfio_device_fops_cdev_open)");
  if (iommufd < 0 || dev < 0) return 1;
  FAILS(open("/dev/vfio/devices/vfio7", O_RDWR), ENOENT, "a cdev no device has is ENOENT");

  struct vfio_device_attach_iommufd_pt at = {.argsz = sizeof at, .pt_id = 2};
  FAILS(ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), EINVAL, "before the bind every other ioctl is EINVAL (vfio_device_fops_unl_ioctl: !access_granted)");

  struct vfio_device_bind_iommufd b = {.argsz = sizeof b, .iommufd = dev};
  FAILS(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EBADFD, "binding to a file that is no iommufd is EBADFD (iommufd_ctx_from_fd: f_op != &iommufd_fops)");
  b.iommufd = iommufd;
  CHECK(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b) == 0 && b.out_devid == 1, "vfio_df_ioctl_bind_iommufd: out_devid is the device object's id, 1");
  FAILS(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL, "a second bind is EINVAL (vfio_df_ioctl_bind_iommufd: df->group... already bound)");

  uint32_t rid_ioas = ioas_alloc(iommufd), pasid_ioas = ioas_alloc(iommufd);
  CHECK(rid_ioas == 2 && pasid_ioas == 3, "IOAS ids follow the device object's (xa_alloc order)");
  void *buf = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct iommu_ioas_map m = {.size = sizeof m, .flags = 7, .ioas_id = rid_ioas, .user_va = (uintptr_t)buf, .length = 0x1000, .iova = 0x1000};
  CHECK(ioctl(iommufd, IOMMU_IOAS_MAP, &m) == 0, "IOAS_MAP into the RID's IOAS");
  uint32_t rid_hwpt = hwpt_alloc(iommufd, b.out_devid, rid_ioas), pasid_hwpt = hwpt_alloc(iommufd, b.out_devid, pasid_ioas);

  at.pt_id = rid_hwpt;
  CHECK(ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) == 0 && at.pt_id == rid_hwpt, "vfio_df_ioctl_attach_pt: the RID attaches to its HWPT, pt_id written back");
  struct vfio_device_attach_iommufd_pt ap = {.argsz = sizeof ap, .flags = VFIO_DEVICE_ATTACH_PASID, .pt_id = pasid_hwpt, .pasid = 5};
  CHECK(ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &ap) == 0 && ap.pt_id == pasid_hwpt, "VFIO_DEVICE_ATTACH_PASID: PASID 5 attaches to the other HWPT");
  ap.pasid = 0x80000000u;
  FAILS(ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &ap), ENOSPC, "a PASID from 2^31 is ENOSPC (ida_alloc_range of a negative int)");

  struct vfio_device_detach_iommufd_pt dp = {.argsz = sizeof dp, .flags = VFIO_DEVICE_DETACH_PASID, .pasid = 5};
  CHECK(ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dp) == 0, "VFIO_DEVICE_DETACH_PASID detaches PASID 5");
  struct vfio_device_detach_iommufd_pt dr = {.argsz = sizeof dr};
  CHECK(ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dr) == 0, "VFIO_DEVICE_DETACH_IOMMUFD_PT detaches the RID");
  CHECK(close(dev) == 0 && close(iommufd) == 0, "close unbinds the device (vfio_df_unbind_iommufd), then the iommufd");
  printf("checks failed: %d\n", failed);
  return failed;
}
