// The live_calls_per_s loop (tools/bench/live.ts): IOAS_MAP then IOAS_UNMAP of the same
// 64 KiB at a fixed IOVA, argv[1] times, run under `iorr live`; each call is one
// synchronous round trip to the server. Prints "calls N seconds S" (the loop alone).
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

struct iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct iommu_ioas_map { uint32_t size, flags, ioas_id, __reserved; uint64_t user_va, length, iova; };
struct iommu_ioas_unmap { uint32_t size, ioas_id; uint64_t iova, length; };

int main(int argc, char **argv) {
  long loops = argc > 1 ? atol(argv[1]) : 1000;
  int fd = open("/dev/iommu", O_RDWR);
  struct iommu_ioas_alloc a = {.size = sizeof a};
  if (fd < 0 || ioctl(fd, _IO(';', 0x81), &a) != 0) return 1;
  void *buf = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct iommu_ioas_map m = {.size = sizeof m, .flags = 7, .ioas_id = a.out_ioas_id, .user_va = (uintptr_t)buf, .length = 65536, .iova = 0x100000};
  struct iommu_ioas_unmap u = {.size = sizeof u, .ioas_id = a.out_ioas_id, .iova = 0x100000, .length = 65536};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < loops; i++)
    if (ioctl(fd, _IO(';', 0x85), &m) != 0 || ioctl(fd, _IO(';', 0x86), &u) != 0) return 2;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("calls %ld seconds %.6f\n", 2 * loops, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
