// fork under iorr live, after the kernel's iommufd selftest TEST_F(iommufd_ioas, fork_gone) and
// fork_present (tools/testing/selftests/iommu/iommufd.c): a forked child maps on the iommufd it
// inherited; the pages come from the child's mm (iopt_pages' source_mm). Run by test/live/live.test.ts
// with the selftest's platform (test/selftest/prelude.jsonl: the mock IOMMU, CONFIG_IOMMUFD_TEST);
// exit status = failed checks.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define IOMMUFD_TYPE ';'
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, 0x85)
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, 0x86)
#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, 0x80 + 32)
#define TEST_OP_MOCK_DOMAIN 2
#define TEST_OP_MD_CHECK_MAP 3
#define MAP_FLAGS 7 /* FIXED_IOVA | WRITEABLE | READABLE */
#define APERTURE 0x1000000ull /* MOCK_APERTURE_START */
#define BUF (16 * 4096)

struct iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct iommu_ioas_map { uint32_t size, flags, ioas_id, __reserved; uint64_t user_va, length, iova; };
struct iommu_ioas_unmap { uint32_t size, ioas_id; uint64_t iova, length; };
/* iommufd_test.h's struct iommu_test_cmd: the header, a union at 16, `last` at 64. */
struct test_cmd {
  uint32_t size, op, id, __reserved;
  union {
    struct { uint32_t out_stdev_id, out_hwpt_id, out_idev_id; } mock_domain;
    struct { uint64_t iova, length, uptr; } check_map;
    uint8_t pad[48];
  };
  uint32_t last;
};

#include "check.h"

static int map(int fd, uint32_t ioas, void *va, uint64_t len, uint64_t iova) {
  struct iommu_ioas_map m = {.size = sizeof m, .flags = MAP_FLAGS, .ioas_id = ioas, .user_va = (uintptr_t)va, .length = len, .iova = iova};
  return ioctl(fd, IOMMU_IOAS_MAP, &m);
}

static int mock_domain(int fd, uint32_t ioas, uint32_t *hwpt) {
  struct test_cmd c = {.size = sizeof c, .op = TEST_OP_MOCK_DOMAIN, .id = ioas};
  int r = ioctl(fd, IOMMU_TEST_CMD, &c);
  if (hwpt) *hwpt = c.mock_domain.out_hwpt_id;
  return r;
}

static int check_map(int fd, uint32_t hwpt, uint64_t iova, uint64_t len, void *uptr) {
  struct test_cmd c = {.size = sizeof c, .op = TEST_OP_MD_CHECK_MAP, .id = hwpt, .check_map = {iova, len, (uintptr_t)uptr}};
  return ioctl(fd, IOMMU_TEST_CMD, &c);
}

static int wait_child(pid_t pid) {
  int st = -1;
  return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void) {
  /* setup_sizes(): the selftest's buffer is MAP_SHARED | MAP_ANONYMOUS; priv is a private page. */
  char *buffer = mmap(NULL, BUF, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(buffer, 0x5a, BUF);
  memset(priv, 0xa5, 4096);
  int fd = open("/dev/iommu", O_RDWR);
  struct iommu_ioas_alloc a = {.size = sizeof a};
  CHECK(fd >= 0 && ioctl(fd, IOMMU_IOAS_ALLOC, &a) == 0, "open /dev/iommu, IOAS_ALLOC");
  uint32_t ioas = a.out_ioas_id;

  /* fork_gone: the child maps with its own mm on the inherited fd, then exits. */
  pid_t pid = fork();
  if (pid == 0) _exit(map(fd, ioas, buffer, BUF, APERTURE) == 0 ? 0 : 1);
  CHECK(wait_child(pid) == 0, "fork_gone: the child's IOAS_MAP on its inherited iommufd succeeds");
  errno = 0;
  CHECK(mock_domain(fd, ioas, NULL) == -1 && errno == EFAULT, "fork_gone: a domain must pin from the gone child's mm: EFAULT");
  struct iommu_ioas_unmap u = {.size = sizeof u, .ioas_id = ioas, .iova = APERTURE, .length = BUF};
  CHECK(ioctl(fd, IOMMU_IOAS_UNMAP, &u) == 0 && u.length == BUF, "the parent unmaps the child's area");

  /* fork_present: the child maps and waits; a domain pins from the live child's mm. */
  int ready[2], done[2];
  CHECK(pipe2(ready, O_CLOEXEC) == 0 && pipe2(done, O_CLOEXEC) == 0, "pipes");
  pid = fork();
  if (pid == 0) {
    int bad = map(fd, ioas, buffer, BUF, APERTURE) != 0;
    char c = 1;
    if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1) bad |= 2;
    /* After the parent attached a domain: the child's private page is its own frame (dup_mmap copied it). */
    uint32_t hwpt = (uint8_t)c;
    if (map(fd, ioas, priv, 4096, 2 * APERTURE) != 0 || check_map(fd, hwpt, 2 * APERTURE, 4096, priv) != 0) bad |= 4;
    if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1) bad |= 8;
    /* The child closes its inherited fd: the parent's still names the same iommufd (dup_fd's reference). */
    if (close(fd) != 0) bad |= 16;
    _exit(bad);
  }
  char c;
  CHECK(read(ready[0], &c, 1) == 1, "the child mapped");
  uint32_t hwpt = 0;
  CHECK(mock_domain(fd, ioas, &hwpt) == 0 && hwpt != 0 && hwpt < 256, "fork_present: a domain pins the pages from the live child's mm");
  CHECK(check_map(fd, hwpt, APERTURE, BUF, buffer) == 0, "the shared buffer: the domain maps the frames behind the parent's buffer too");
  c = (char)hwpt;
  CHECK(write(done[1], &c, 1) == 1 && read(ready[0], &c, 1) == 1, "the child mapped its private page");
  errno = 0;
  CHECK(check_map(fd, hwpt, 2 * APERTURE, 4096, priv) == -1 && errno == EINVAL, "the child's private page is not the parent's frame");
  c = 0;
  CHECK(write(done[1], &c, 1) == 1 && wait_child(pid) == 0, "fork_present: the child's maps, its MD_CHECK_MAP and its close succeed");
  a.out_ioas_id = 0;
  CHECK(ioctl(fd, IOMMU_IOAS_ALLOC, &a) == 0 && a.out_ioas_id != 0, "the parent's fd still works after the child closed its copy");
  close(fd);
  printf("checks failed: %d\n", failed);
  return failed;
}
