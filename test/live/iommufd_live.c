// A program that drives /dev/iommu as a VMM would, checking each answer
// against the kernel's behaviour (drivers/iommu/iommufd/). Run by
// test/live/live.test.ts under `iorr live`; exit status = failed checks.
// argv[1]: iterations of the timed IOAS_MAP/IOAS_UNMAP loop (default 1000).
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IOMMUFD_TYPE ';'
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, 0x80)
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, 0x84)
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, 0x85)
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, 0x86)
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, 0x8f)
#define MAP_FIXED_IOVA (1 << 0)
#define MAP_WRITEABLE (1 << 1)
#define MAP_READABLE (1 << 2)

struct iommu_destroy { uint32_t size, id; };
struct iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct iommu_iova_range { uint64_t start, last; };
struct iommu_ioas_iova_ranges { uint32_t size, ioas_id, num_iovas, __reserved; uint64_t allowed_iovas, out_iova_alignment; };
struct iommu_ioas_map { uint32_t size, flags, ioas_id, __reserved; uint64_t user_va, length, iova; };
struct iommu_ioas_unmap { uint32_t size, ioas_id; uint64_t iova, length; };
struct iommu_ioas_map_file { uint32_t size, flags, ioas_id; int32_t fd; uint64_t start, length, iova; };

#include "check.h"

static uint32_t ioas_alloc(int fd) {
  struct iommu_ioas_alloc a = {.size = sizeof a};
  CHECK(ioctl(fd, IOMMU_IOAS_ALLOC, &a) == 0 && a.out_ioas_id != 0, "iommufd_ioas_alloc_ioctl: ALLOC succeeds and writes out_ioas_id");
  return a.out_ioas_id;
}

static int map(int fd, uint32_t ioas, void *va, uint64_t len, uint64_t iova, uint32_t flags, uint64_t *out_iova) {
  struct iommu_ioas_map m = {.size = sizeof m, .flags = flags, .ioas_id = ioas, .user_va = (uintptr_t)va, .length = len, .iova = iova};
  int r = ioctl(fd, IOMMU_IOAS_MAP, &m);
  if (out_iova) *out_iova = m.iova;
  return r;
}

static int unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len, uint64_t *out_len) {
  struct iommu_ioas_unmap u = {.size = sizeof u, .ioas_id = ioas, .iova = iova, .length = len};
  int r = ioctl(fd, IOMMU_IOAS_UNMAP, &u);
  if (out_len) *out_len = u.length;
  return r;
}

int main(int argc, char **argv) {
  long loops = argc > 1 ? atol(argv[1]) : 1000;
  const uint32_t RW = MAP_READABLE | MAP_WRITEABLE;
  int fd = open("/dev/iommu", O_RDWR);
  CHECK(fd >= 0, "open(/dev/iommu) gives an fd (iommufd_fops_open)");
  if (fd < 0) return 1;
  uint32_t ioas = ioas_alloc(fd);

  /* iommufd_ioas_iova_ranges: num_iovas 0 writes back the count and the alignment, then EMSGSIZE */
  struct iommu_ioas_iova_ranges r = {.size = sizeof r, .ioas_id = ioas, .num_iovas = 0};
  FAILS(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &r), EMSGSIZE, "IOVA_RANGES with num_iovas 0 is EMSGSIZE");
  CHECK(r.num_iovas == 1, "IOVA_RANGES writes num_iovas back on EMSGSIZE (one range: no device reserves anything)");
  CHECK(r.out_iova_alignment == 1, "IOVA_RANGES writes out_iova_alignment back on EMSGSIZE (iopt_init_table: alignment 1)");
  /* with room, the range itself goes into the caller's array */
  struct iommu_iova_range ranges[4];
  memset(ranges, 0xa5, sizeof ranges);
  r.num_iovas = 4;
  r.allowed_iovas = (uintptr_t)ranges;
  CHECK(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &r) == 0 && r.num_iovas == 1, "IOVA_RANGES with room succeeds, num_iovas 1");
  CHECK(ranges[0].start == 0 && ranges[0].last == UINT64_MAX, "the empty IOAS allows [0, U64_MAX]");
  CHECK(ranges[1].start == 0xa5a5a5a5a5a5a5a5ull, "copy_to_user writes num_iovas ranges only; the rest of the array is untouched");

  /* IOAS_MAP of the caller's own mmap'd and malloc'd memory (iopt_map_user_pages pins its pages) */
  size_t len = 1 << 20;
  void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(map(fd, ioas, buf, len, 0x100000, MAP_FIXED_IOVA | RW, NULL) == 0, "MAP_FIXED_IOVA of an mmap'd buffer succeeds");
  FAILS(map(fd, ioas, buf, len, 0x100000, MAP_FIXED_IOVA | RW, NULL), EEXIST, "a fixed IOVA already mapped is EEXIST (iopt_reserve_iova)");
  char *heap = malloc(3 * 4096);
  uint64_t iova = 0;
  CHECK(map(fd, ioas, heap, 3 * 4096, 0, RW, &iova) == 0, "MAP without FIXED_IOVA of malloc'd memory succeeds");
  CHECK(iova != 0 && (iova & 4095) == ((uintptr_t)heap & 4095), "iopt_alloc_iova picks an IOVA with the buffer's page offset and writes it back");
  void *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(gone, 4096);
  /* with no domain attached nothing is pinned at map time (iopt_fill_domains_pages has no domain to fill) */
  CHECK(map(fd, ioas, gone, 4096, 0x40000000, MAP_FIXED_IOVA | RW, NULL) == 0, "MAP of an unmapped user range succeeds while no domain needs its pages");
  struct iommu_ioas_iova_ranges rf = {.size = sizeof rf, .ioas_id = ioas, .num_iovas = 4, .allowed_iovas = (uintptr_t)gone};
  FAILS(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &rf), EFAULT, "IOVA_RANGES into an unmapped array is EFAULT (copy_to_user)");
  struct iommu_iova_range *arr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct iommu_ioas_iova_ranges ra = {.size = sizeof ra, .ioas_id = ioas, .num_iovas = 4, .allowed_iovas = (uintptr_t)arr};
  CHECK(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &ra) == 0, "IOVA_RANGES into a mapped array succeeds");
  munmap(arr, 4096);
  ra.num_iovas = 4;
  FAILS(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &ra), EFAULT, "after munmap the array is gone for the kernel too: EFAULT (the caller's munmap reaches the model)");
  FAILS(map(fd, ioas, buf, 0, 0x200000, MAP_FIXED_IOVA | RW, NULL), EINVAL, "a zero length is EINVAL (iopt_map_user_pages)");
  /* a struct whose declared size runs past the caller's memory (copy_struct_from_user): the
   * tail is read up to the first non-zero byte (E2BIG) or the fault (EFAULT) */
  char *edge = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(edge + 4096, 4096);
  struct iommu_ioas_alloc *tailed = (struct iommu_ioas_alloc *)(edge + 4096 - 64);
  memset(tailed, 0, 64);
  tailed->size = 128;
  FAILS(ioctl(fd, IOMMU_IOAS_ALLOC, tailed), EFAULT, "a zero tail that runs into unmapped memory is EFAULT (check_zeroed_user faults)");
  edge[4096 - 8] = 1;
  FAILS(ioctl(fd, IOMMU_IOAS_ALLOC, tailed), E2BIG, "a non-zero tail byte before the unmapped memory is E2BIG (check_zeroed_user stops there)");

  /* IOAS_UNMAP writes back the length unmapped */
  uint64_t unmapped = 0;
  CHECK(unmap(fd, ioas, 0x100000, len, &unmapped) == 0 && unmapped == len, "UNMAP of the whole area writes back its length");
  FAILS(unmap(fd, ioas, 0x100000, len, NULL), ENOENT, "UNMAP of nothing mapped is ENOENT (iopt_unmap_iova)");
  FAILS(unmap(fd, ioas, 0x100000, 0, NULL), EINVAL, "UNMAP of a zero length is EINVAL (iopt_unmap_iova)");
  CHECK(unmap(fd, ioas, 0, UINT64_MAX, &unmapped) == 0 && unmapped == 4 * 4096, "UNMAP of iova 0, length U64_MAX unmaps every area (iopt_unmap_all)");

  /* the entry point's checks (iommufd_fops_ioctl) */
  struct iommu_destroy d = {.size = sizeof d, .id = 9999};
  FAILS(ioctl(fd, IOMMU_DESTROY, &d), ENOENT, "DESTROY of an id that names nothing is ENOENT");
  struct iommu_ioas_alloc small = {.size = 4};
  FAILS(ioctl(fd, IOMMU_IOAS_ALLOC, &small), EINVAL, "size below offsetofend(out_ioas_id) is EINVAL");
  struct { struct iommu_ioas_alloc a; uint32_t tail; } big = {{.size = sizeof big}, 1};
  FAILS(ioctl(fd, IOMMU_IOAS_ALLOC, &big), E2BIG, "a non-zero byte past the kernel's struct is E2BIG (copy_struct_from_user)");
  big.tail = 0;
  CHECK(ioctl(fd, IOMMU_IOAS_ALLOC, &big) == 0 && big.a.out_ioas_id != 0, "a zero tail past the kernel's struct is accepted");
  FAILS(ioctl(fd, IOMMU_IOAS_ALLOC, NULL), EFAULT, "a NULL argument is EFAULT (get_user of size)");
  FAILS(ioctl(fd, _IO(IOMMUFD_TYPE, 0xfe), &d), ENOTTY, "an unknown command number is ENOTTY");

  /* read, poll and mmap of the iommufd fd are events: vfs_read without ->read, vfs_poll's DEFAULT_POLLMASK, iommufd_fops_mmap */
  char c;
  FAILS(read(fd, &c, 1), EINVAL, "read() on iommufd is EINVAL (iommufd_fops has no ->read: vfs_read)");
  struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLOUT};
  CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == (POLLIN | POLLOUT), "poll() on iommufd is DEFAULT_POLLMASK (no ->poll)");
  CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED && errno == ENXIO, "mmap of iommufd without a driver window is ENXIO (iommufd_fops_mmap)");
  /* a memfd: memfd_create and ftruncate are intercepted, so the model has the file (iopt_map_file_pages: no domain, nothing pinned yet) */
  int mfd = memfd_create("iorr-live", 0);
  CHECK(mfd >= 0 && ftruncate(mfd, 4096) == 0, "memfd_create");
  struct iommu_ioas_map_file mf = {.size = sizeof mf, .flags = MAP_FIXED_IOVA | RW, .ioas_id = ioas, .fd = mfd, .length = 4096, .iova = 0x80000000};
  CHECK(ioctl(fd, IOMMU_IOAS_MAP_FILE, &mf) == 0, "IOAS_MAP_FILE of the caller's memfd maps");
  close(mfd);

  /* fork: the child has its own connection; its own open is a new iommufd context, its inherited fd the parent's (dup_fd) */
  struct iommu_ioas_alloc pa = {.size = sizeof pa};
  CHECK(ioctl(fd, IOMMU_IOAS_ALLOC, &pa) == 0, "IOAS_ALLOC before the fork");
  pid_t pid = fork();
  if (pid == 0) {
    int bad = 0;
    int cfd = open("/dev/iommu", O_RDWR);
    struct iommu_ioas_alloc a = {.size = sizeof a};
    if (cfd < 0 || ioctl(cfd, IOMMU_IOAS_ALLOC, &a) != 0 || a.out_ioas_id != 1) bad |= 1; /* a new iommufd_ctx numbers from 1 */
    if (ioctl(fd, IOMMU_IOAS_ALLOC, &a) != 0 || a.out_ioas_id != pa.out_ioas_id + 1) bad |= 2; /* the parent's context: its next id */
    close(cfd);
    _exit(bad);
  }
  int st = -1;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the forked child's own /dev/iommu is a new context, its inherited fd the parent's");
  CHECK(ioctl(fd, IOMMU_IOAS_ALLOC, &pa) == 0, "the parent's fd works after the child exited");

  /* a tight MAP/UNMAP loop, timed */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int loop_ok = 1;
  for (long i = 0; i < loops; i++)
    if (map(fd, ioas, buf, 65536, 0x100000, MAP_FIXED_IOVA | RW, NULL) != 0 || unmap(fd, ioas, 0x100000, 65536, NULL) != 0) loop_ok = 0;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  CHECK(loop_ok, "every MAP/UNMAP of the loop succeeds");
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("live_calls_per_s %.0f\n", s > 0 ? 2.0 * loops / s : 0);

  d.id = ioas;
  CHECK(ioctl(fd, IOMMU_DESTROY, &d) == 0, "DESTROY of the IOAS succeeds");
  FAILS(ioctl(fd, IOMMU_DESTROY, &d), ENOENT, "DESTROY of a destroyed id is ENOENT");
  CHECK(close(fd) == 0, "close");
  printf("checks failed: %d\n", failed);
  return failed;
}
