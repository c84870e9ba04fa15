// iorr live's LD_PRELOAD shim: open/close/ioctl/read/write/poll/mmap on
// /dev/iommu and /dev/vfio/* go to the iorr server named by $IORR_LIVE_SOCK
// (a Unix socket, one connection per process, made again in a forked child);
// every other call goes to the real libc. The protocol is docs/live.md.
// Built with: cc -O2 -shared -fPIC -o build/iorr_shim.so iorr_shim.c -ldl -lpthread
//
// Built with -DIORR_RECORD=1 (build/iorr_rec.so) it is iorr record's shim: every
// call goes to the next library (the kernel, or iorr live's shim when stacked)
// and is reported to the server named by $IORR_RECORD_SOCK, the ioctl's struct
// before and after and the memory behind its pointer members (docs/live.md).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef IORR_RECORD
#define IORR_RECORD 0
#endif
#define SOCK_ENV (IORR_RECORD ? "IORR_RECORD_SOCK" : "IORR_LIVE_SOCK")

enum { M_HELLO = 1, M_OPEN = 2, M_CLOSE = 3, M_IOCTL = 4, M_OTHER = 5, M_REPLY = 6, M_DONE = 7, M_MEMFD = 8, M_MEMFD_SIZE = 9, M_MEMFD_MMAP = 10, M_CAPS = 11, M_FORK = 12, M_EXIT = 13, M_UNMAP = 14 };
enum { S_READ = 16, S_WRITE = 17, S_PROBE = 18, S_NEWFD = 19, S_RESULT = 20, S_CALL = 21, S_FDOPEN = 22 };
/* serve()'s answer to S_CALL (record mode: make the real call now). */
#define SERVE_CALL INT64_MIN
enum { O_READ = 1, O_WRITE = 2, O_MMAP = 3, O_POLL = 4, O_INHERITED = 5, O_MUNMAP = 6 };
#define MAX_FD 65536
#define MAX_ARG (1u << 20)

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_memfd_create)(const char *, unsigned int);
static int (*real_ftruncate)(int, off_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_munmap)(void *, size_t);
static pid_t (*real_fork)(void);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int sock = -1;
static pid_t sock_pid;
/* Received from the server, not yet consumed: rbuf[rhead, rtail) (next_frame). */
static unsigned char rbuf[1 << 16];
static size_t rhead, rtail;
/* 1: the fd is a placeholder of this process's model fd; 2: inherited over a fork the server was not told of (fork() below tells it). */
static unsigned char owned[MAX_FD];
/* 1: a memfd this process made (live mode): the fd is the caller's real memfd, the model mirrors it. */
static unsigned char memfds[MAX_FD];

static void init(void) {
  if (real_open) return;
  real_open = dlsym(RTLD_NEXT, "open");
  real_openat = dlsym(RTLD_NEXT, "openat");
  real_close = dlsym(RTLD_NEXT, "close");
  real_ioctl = dlsym(RTLD_NEXT, "ioctl");
  real_read = dlsym(RTLD_NEXT, "read");
  real_write = dlsym(RTLD_NEXT, "write");
  real_poll = dlsym(RTLD_NEXT, "poll");
  real_mmap = dlsym(RTLD_NEXT, "mmap");
  real_memfd_create = dlsym(RTLD_NEXT, "memfd_create");
  real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
  real_fallocate = dlsym(RTLD_NEXT, "fallocate");
  real_munmap = dlsym(RTLD_NEXT, "munmap");
  real_fork = dlsym(RTLD_NEXT, "fork");
}

static void atfork_child(void) {
  if (sock >= 0) real_close(sock);
  sock = -1;
  for (int i = 0; i < MAX_FD; i++)
    if (owned[i]) owned[i] = 2;
  /* The child's memfds are its parent's files: the model has no fork, so they are not the child's to report. */
  memset(memfds, 0, sizeof memfds);
  pthread_mutex_init(&lock, NULL);
}

__attribute__((constructor)) static void shim_init(void) {
  init();
  pthread_atfork(NULL, NULL, atfork_child);
}

static int is_ours(const char *path) {
  return path && (strcmp(path, "/dev/iommu") == 0 || strncmp(path, "/dev/vfio/", 10) == 0) && getenv(SOCK_ENV);
}

static int owned_fd(int fd) { return fd >= 0 && fd < MAX_FD && owned[fd]; }

/* ---- framing: u32 length, then the body (u8 type, fields), little-endian ---- */

static int xfer(int out, void *buf, size_t n) {
  char *p = buf;
  while (n) {
    ssize_t r = out ? send(sock, p, n, MSG_NOSIGNAL) : recv(sock, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static int send_msg(uint8_t type, const void *a, uint32_t alen, const void *b, uint32_t blen) {
  uint32_t len = 1 + alen + blen;
  struct iovec v[4] = {{&len, 4}, {&type, 1}, {(void *)a, alen}, {(void *)b, blen}};
  struct msghdr m = {.msg_iov = v, .msg_iovlen = 4};
  size_t total = 5 + alen + blen;
  ssize_t r;
  do r = sendmsg(sock, &m, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  if ((size_t)r == total) return 0;
  /* A short send: finish it piece by piece. */
  char *all = malloc(total);
  if (!all) return -1;
  memcpy(all, &len, 4);
  all[4] = (char)type;
  if (alen) memcpy(all + 5, a, alen);
  if (blen) memcpy(all + 5 + alen, b, blen);
  int rc = xfer(1, all + r, total - (size_t)r);
  free(all);
  return rc;
}

/* The calling thread's effective capabilities (capget): the kernel's capable() reads them at each call. */
static uint64_t effective_caps(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return 0;
  return (uint64_t)d[0].effective | (uint64_t)d[1].effective << 32;
}

static uint64_t sent_caps;
static int caps_known;
static int open_connection(void);

/* Connected, and the server knows this process's capabilities as they are now (CAPS when they changed). */
static int connect_server(void) {
  if (!(sock >= 0 && sock_pid == getpid())) {
    if (open_connection() < 0) return -1;
    caps_known = 0;
  }
  uint64_t caps = effective_caps();
  if (caps_known && caps == sent_caps) return 0;
  sent_caps = caps;
  caps_known = 1;
  return send_msg(M_CAPS, &caps, sizeof caps, NULL, 0);
}

static int open_connection(void) {
  const char *path = getenv(SOCK_ENV);
  if (!path) return -1;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    real_close(s);
    return -1;
  }
  sock = s;
  sock_pid = getpid();
  rhead = rtail = 0;
  uint32_t hello[2] = {(uint32_t)getpid(), (uint32_t)getppid()};
  return send_msg(M_HELLO, hello, sizeof hello, NULL, 0);
}

/* The caller's munmap of its own memory (not a model fd's mapping): one frame, no answer, and
 * only from a process the server knows, which drops what it mirrored of the range. */
static void unmapped(uint64_t va, uint64_t len) {
  pthread_mutex_lock(&lock);
  if (sock >= 0 && sock_pid == getpid()) {
    uint64_t a[2] = {va, len};
    send_msg(M_UNMAP, a, sizeof a, NULL, 0);
  }
  pthread_mutex_unlock(&lock);
}

/* The caller's own memory, read and written without faulting: EFAULT where nothing is mapped. */
static int self_copy(int write, uint64_t va, void *buf, size_t n) {
  struct iovec local = {buf, n}, remote = {(void *)(uintptr_t)va, n};
  ssize_t r = write ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0) : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  return r == (ssize_t)n ? 0 : -EFAULT;
}

static int reply(int32_t status, const void *data, uint32_t n) { return send_msg(M_REPLY, &status, 4, data, n); }

/*
 * The server's frames, read with one recv each where they fit: whatever the socket
 * holds goes into rbuf, and a frame is handed out from there (no allocation). A frame
 * longer than rbuf (a large WRITE) is read into its own buffer.
 */
static int fill(size_t need) {
  if (rhead + need > sizeof rbuf) {
    memmove(rbuf, rbuf + rhead, rtail - rhead);
    rtail -= rhead;
    rhead = 0;
  }
  while (rtail - rhead < need) {
    ssize_t r = recv(sock, rbuf + rtail, sizeof rbuf - rtail, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    rtail += (size_t)r;
  }
  return 0;
}

/* The next frame's body and length; *heap when it must be freed. NULL when the connection failed. */
static unsigned char *next_frame(uint32_t *len, int *heap) {
  if (fill(4) < 0) return NULL;
  memcpy(len, rbuf + rhead, 4);
  rhead += 4;
  *heap = 0;
  if (*len <= sizeof rbuf) {
    if (fill(*len) < 0) return NULL;
    unsigned char *b = rbuf + rhead;
    rhead += *len;
    return b;
  }
  unsigned char *b = malloc(*len);
  size_t have = rtail - rhead;
  if (!b) return NULL;
  memcpy(b, rbuf + rhead, have);
  rhead = rtail = 0;
  if (xfer(0, b + have, *len - have) < 0) {
    free(b);
    return NULL;
  }
  *heap = 1;
  return b;
}

/*
 * Pages of [va, va + n pages) in a MAP_SHARED mapping ('s' in /proc/self/maps) become 2 in map
 * (1: mapped), and ids[3 * i ..] says which page of which file backs page i (dev, inode, offset):
 * the same shared page seen from another process has the same three numbers.
 */
static void mark_shared(unsigned char *map, uint64_t *ids, uint64_t va, uint32_t n, uint64_t pg) {
  int fd = real_open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[8192], line[512];
  size_t ll = 0;
  ssize_t r;
  uint64_t end = va + (uint64_t)n * pg;
  while ((r = real_read(fd, buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] != '\n') {
        if (ll < sizeof line - 1) line[ll++] = buf[i];
        continue;
      }
      line[ll] = 0;
      ll = 0;
      unsigned long long lo, hi, off, ino;
      unsigned maj, min;
      char perms[8];
      if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &lo, &hi, perms, &off, &maj, &min, &ino) != 7 || perms[3] != 's' || hi <= va || lo >= end) continue;
      for (uint64_t a = lo > va ? lo : va; a < hi && a < end; a += pg) {
        uint64_t k = (a - va) / pg;
        if (!map[k]) continue;
        map[k] = 2;
        ids[3 * k] = ((uint64_t)maj << 32) | min;
        ids[3 * k + 1] = ino;
        ids[3 * k + 2] = off + (a - lo);
      }
    }
  real_close(fd);
}

/* Serve the server's requests until it gives the result of the call. */
static int64_t serve(void) {
  for (;;) {
    uint32_t len;
    int heap;
    unsigned char *body = next_frame(&len, &heap);
    if (!body || len < 1) {
      if (body && heap) free(body);
      return -ENOSYS;
    }
    uint64_t va;
    uint32_t n;
    int rc = 0;
    switch (body[0]) {
    case S_RESULT: {
      int64_t ret;
      memcpy(&ret, body + 1, 8);
      if (heap) free(body);
      return ret;
    }
    case S_CALL:
      if (heap) free(body);
      return SERVE_CALL;
    case S_READ: {
      memcpy(&va, body + 1, 8);
      memcpy(&n, body + 9, 4);
      void *buf = malloc(n ? n : 1);
      int st = buf ? self_copy(0, va, buf, n) : -ENOMEM;
      rc = reply(st, buf, st == 0 ? n : 0);
      free(buf);
      break;
    }
    case S_WRITE:
      memcpy(&va, body + 1, 8);
      rc = reply(self_copy(1, va, body + 9, len - 9), NULL, 0);
      break;
    case S_PROBE: {
      /* One byte per page of [va, va + n pages): 1 when the page is mapped (mincore answers ENOMEM otherwise), 2 when MAP_SHARED. */
      memcpy(&va, body + 1, 8);
      memcpy(&n, body + 9, 4);
      unsigned char *map = calloc(n ? n : 1, 1);
      uint64_t *ids = calloc(3 * (size_t)(n ? n : 1), 8);
      long pg = sysconf(_SC_PAGESIZE);
      unsigned char v;
      for (uint32_t i = 0; map && i < n; i++) map[i] = mincore((void *)(uintptr_t)(va + (uint64_t)i * pg), 1, &v) == 0;
      if (map && ids) mark_shared(map, ids, va, n, (uint64_t)pg);
      /* The bytes, then (dev, inode, offset) of each shared page, in page order. */
      uint32_t nshared = 0;
      for (uint32_t i = 0; map && ids && i < n; i++)
        if (map[i] == 2) memmove(ids + 3 * nshared++, ids + 3 * i, 24);
      unsigned char *out = map && ids ? realloc(map, n + 24 * (size_t)nshared) : NULL;
      if (out) {
        map = out;
        memcpy(map + n, ids, 24 * (size_t)nshared);
      }
      rc = out ? reply(0, map, n + 24 * nshared) : reply(-ENOMEM, NULL, 0);
      free(map);
      free(ids);
      break;
    }
    case S_FDOPEN: {
      int32_t fd;
      memcpy(&fd, body + 1, 4);
      rc = reply(fcntl(fd, F_GETFD) >= 0 ? 0 : -EBADF, NULL, 0);
      break;
    }
    case S_NEWFD: {
      int fd = real_open("/dev/null", O_RDWR | O_CLOEXEC);
      if (fd >= 0 && fd < MAX_FD) owned[fd] = 1;
      rc = reply(fd >= 0 ? fd : -errno, NULL, 0);
      break;
    }
    default:
      rc = -1;
    }
    if (heap) free(body);
    if (rc < 0) return -ENOSYS;
  }
}

/* One call: send it, serve the server's memory requests, return its result (-errno on failure). */
static int64_t call(uint8_t type, const void *a, uint32_t alen, const void *b, uint32_t blen) {
  int64_t r;
  pthread_mutex_lock(&lock);
  if (connect_server() < 0 || send_msg(type, a, alen, b, blen) < 0) r = -ENOSYS;
  else r = serve();
  pthread_mutex_unlock(&lock);
  return r;
}

static int64_t other(int fd, uint8_t what) {
  int32_t a[2] = {fd, what};
  return call(M_OTHER, a, sizeof a, NULL, 0);
}

/* OTHER with the call's arguments: read/write (buf, count), poll (events), mmap (va, length, prot, flags, offset), munmap (va, length). */
__attribute__((unused)) static int64_t other_args(int fd, uint8_t what, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) {
  struct {
    int32_t fd, what;
    uint64_t a[5];
  } __attribute__((packed)) m = {fd, what, {a0, a1, a2, a3, a4}};
  return call(M_OTHER, &m, sizeof m, NULL, 0);
}

/*
 * fork of a process the server knows: the parent reports the child (FORK, the
 * server folds the fork: the child's fd table and mm are copies of the parent's)
 * and only then lets the child run (a pipe), so nothing either does can come
 * before the fork in the session; the child connects at once, so that its
 * exit is seen even when it makes no call. Inherited fds then stay ours.
 */
pid_t fork(void) {
  init();
  int known = sock >= 0 && sock_pid == getpid();
  int p[2];
  if (!known || pipe2(p, O_CLOEXEC) < 0) return real_fork();
  pid_t r = real_fork();
  if (r == 0) {
    char ok = 0;
    while (real_read(p[0], &ok, 1) < 0 && errno == EINTR) {}
    real_close(p[0]);
    real_close(p[1]);
    if (ok == 1) {
      for (int i = 0; i < MAX_FD; i++)
        if (owned[i] == 2) owned[i] = 1;
      pthread_mutex_lock(&lock);
      connect_server();
      pthread_mutex_unlock(&lock);
    }
    return 0;
  }
  int e = errno;
  if (r > 0) {
    int32_t child = r;
    char ok = call(M_FORK, &child, 4, NULL, 0) == 0;
    real_write(p[1], &ok, 1);
  }
  real_close(p[0]);
  real_close(p[1]);
  errno = e;
  return r;
}

/* exit() and _exit(): the process's end reaches the server before its parent can wait for it (the socket's close may come later). */
__attribute__((destructor)) static void shim_exit(void) {
  if (sock >= 0 && sock_pid == getpid()) call(M_EXIT, NULL, 0, NULL, 0);
}

void _exit(int status) {
  shim_exit();
  void (*real)(int) = dlsym(RTLD_NEXT, "_exit");
  real(status);
  __builtin_unreachable();
}

void _Exit(int status) { _exit(status); }

__attribute__((unused)) static int ret_errno(int64_t r) {
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return (int)r;
}

#define MODE_ARG(flags)                                                                                                                              \
  mode_t mode = 0;                                                                                                                                   \
  if ((flags) & (O_CREAT | __O_TMPFILE)) {                                                                                                           \
    va_list ap;                                                                                                                                      \
    va_start(ap, flags);                                                                                                                             \
    mode = va_arg(ap, mode_t);                                                                                                                       \
    va_end(ap);                                                                                                                                      \
  }

/* An ioctl message's head: fd, command, argument pointer, and status 0 (the size is
 * unreadable, or no pointer) or 1 (the struct follows). */
struct call_head {
  int32_t fd;
  uint32_t cmd;
  uint64_t arg;
  uint32_t status;
} __attribute__((packed));

/* The caller's struct as the kernel reads it: its first u32 (size / argsz), then that
 * many bytes, at most MAX_ARG; sets h->status and *size, NULL when unreadable. */
/* The readable prefix of [va, va + n): page by page, as process_vm_readv stops at the first
 * element that faults (it never splits one). */
static size_t self_read_prefix(uint64_t va, void *buf, size_t n) {
  struct iovec local = {buf, n}, remote[MAX_ARG / 4096 + 2];
  int k = 0;
  for (uint64_t at = va; at < va + n && k < (int)(sizeof remote / sizeof remote[0]); k++) {
    uint64_t next = (at | 4095) + 1, end = next < va + n ? next : va + n;
    remote[k] = (struct iovec){(void *)(uintptr_t)at, end - at};
    at = end;
  }
  ssize_t r = process_vm_readv(getpid(), &local, 1, remote, (unsigned long)k, 0);
  return r < 0 ? 0 : (size_t)r;
}

static unsigned char *read_arg_struct(struct call_head *h, uint32_t *size) {
  unsigned char *bytes = NULL;
  if (self_copy(0, h->arg, size, 4) == 0) {
    /* A size below 4 still sends the 4 bytes that hold it: the kernel copies its minimum
     * and refuses the size itself (EINVAL), it does not fault. */
    uint32_t n = *size < 4 ? 4 : *size < MAX_ARG ? *size : MAX_ARG;
    bytes = malloc(n);
    if (bytes && self_copy(0, h->arg, bytes, n) == 0) {
      h->status = 1;
      *size = n;
    } else if (bytes) {
      /* The caller's memory ends inside the struct it declared: the part there is (status 2),
       * for the server to decide as copy_struct_from_user would (a non-zero tail byte, or a fault). */
      size_t got = self_read_prefix(h->arg, bytes, n);
      if (got >= 4) {
        h->status = 2;
        *size = (uint32_t)got;
      }
    }
  }
  return bytes;
}

/* ---- memfds: the caller's own (the real calls), reported so that the model (live) or the trace (record)
 * has the file, its size and its shared mappings ---- */

static int is_memfd(int fd) { return fd >= 0 && fd < MAX_FD && memfds[fd]; }

int memfd_create(const char *name, unsigned int flags) {
  init();
  int fd = real_memfd_create(name, flags);
  if (fd < 0 || fd >= MAX_FD || !getenv(SOCK_ENV) || (flags & MFD_HUGETLB)) return fd;
  int e = errno;
  int32_t a = fd;
  if (call(M_MEMFD, &a, 4, name, (uint32_t)strlen(name)) == 0) memfds[fd] = 1;
  errno = e;
  return fd;
}

static void report_size(int fd, uint64_t size) {
  int e = errno;
  struct {
    int32_t fd;
    uint64_t size;
  } __attribute__((packed)) a = {fd, size};
  call(M_MEMFD_SIZE, &a, sizeof a, NULL, 0);
  errno = e;
}

int ftruncate(int fd, off_t len) {
  init();
  int r = real_ftruncate(fd, len);
  if (r == 0 && is_memfd(fd)) report_size(fd, (uint64_t)len);
  return r;
}

int ftruncate64(int fd, off_t len) { return ftruncate(fd, len); }

int fallocate(int fd, int mode, off_t off, off_t len) {
  init();
  int r = real_fallocate(fd, mode, off, len);
  struct stat st;
  /* shmem_fallocate grows i_size unless FALLOC_FL_KEEP_SIZE: the file's size after the call. */
  if (r == 0 && is_memfd(fd) && !(mode & FALLOC_FL_KEEP_SIZE) && fstat(fd, &st) == 0) report_size(fd, (uint64_t)st.st_size);
  return r;
}

int fallocate64(int fd, int mode, off_t off, off_t len) { return fallocate(fd, mode, off, len); }

/* A shared mapping of the caller's memfd: the model (live) or the trace (record) maps the file's pages there. */
static void report_memfd_mmap(void *r, size_t len, int flags, int fd, off_t off) {
  if (r == MAP_FAILED || (flags & MAP_ANONYMOUS) || (flags & MAP_TYPE) != MAP_SHARED || !is_memfd(fd)) return;
  int e = errno;
  struct {
    int32_t fd;
    uint64_t va, len, off;
  } __attribute__((packed)) a = {fd, (uint64_t)(uintptr_t)r, (uint64_t)len, (uint64_t)off};
  call(M_MEMFD_MMAP, &a, sizeof a, NULL, 0);
  errno = e;
}

/* The caller's mappings of model (live) or recorded (record) fds: an munmap over one is that fd's event. */
#define MAX_MAPS 64
static struct {
  uint64_t va, len;
} maps[MAX_MAPS];

static int map_free_slot(void) {
  for (int i = 0; i < MAX_MAPS; i++)
    if (!maps[i].len) return i;
  return -1;
}

static int map_overlaps(uint64_t va, uint64_t len) {
  for (int i = 0; i < MAX_MAPS; i++)
    if (maps[i].len && maps[i].va < va + len && va < maps[i].va + maps[i].len) return 1;
  return 0;
}

static void map_forget(uint64_t va, uint64_t len) {
  for (int i = 0; i < MAX_MAPS; i++)
    if (maps[i].len && maps[i].va >= va && maps[i].va + maps[i].len <= va + len) maps[i].len = 0;
}

#if IORR_RECORD

/* ---- record mode: the real call first (the next library: the kernel, or iorr live's shim when stacked), then its report ---- */

static int rec_open(int r, const char *path, int flags) {
  int e = errno;
  int32_t a[2] = {r < 0 ? -e : r, flags};
  call(M_OPEN, a, sizeof a, path, (uint32_t)strlen(path));
  if (r >= 0 && r < MAX_FD) owned[r] = 1;
  errno = e;
  return r;
}

int open(const char *path, int flags, ...) {
  init();
  MODE_ARG(flags);
  int r = real_open(path, flags, mode);
  return is_ours(path) ? rec_open(r, path, flags) : r;
}

int open64(const char *path, int flags, ...) {
  init();
  MODE_ARG(flags);
  int r = real_open(path, flags | O_LARGEFILE, mode);
  return is_ours(path) ? rec_open(r, path, flags) : r;
}

int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags) { return open64(path, flags); }

int openat(int dirfd, const char *path, int flags, ...) {
  init();
  MODE_ARG(flags);
  int r = real_openat(dirfd, path, flags, mode);
  return path && path[0] == '/' && is_ours(path) ? rec_open(r, path, flags) : r;
}

int openat64(int dirfd, const char *path, int flags, ...) {
  init();
  MODE_ARG(flags);
  int r = real_openat(dirfd, path, flags | O_LARGEFILE, mode);
  return path && path[0] == '/' && is_ours(path) ? rec_open(r, path, flags) : r;
}

int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }
int __openat64_2(int dirfd, const char *path, int flags) { return openat64(dirfd, path, flags); }

int close(int fd) {
  init();
  if (!owned_fd(fd) && !is_memfd(fd)) return real_close(fd);
  int inherited = owned_fd(fd) && owned[fd] == 2;
  if (owned_fd(fd)) owned[fd] = 0;
  else memfds[fd] = 0;
  int r = real_close(fd), e = errno;
  if (!inherited) {
    int32_t a[2] = {fd, r < 0 ? -e : 0};
    call(M_CLOSE, a, sizeof a, NULL, 0);
  }
  errno = e;
  return r;
}

/* IOCTL (the struct before), the server's READ/PROBE requests, CALL; the real ioctl; DONE (its result, the struct after), the server's READs, RESULT. */
int ioctl(int fd, unsigned long cmd, ...) {
  init();
  va_list ap;
  va_start(ap, cmd);
  void *argp = va_arg(ap, void *);
  va_end(ap);
  if (!owned_fd(fd)) return real_ioctl(fd, cmd, argp);
  if (owned[fd] == 2) {
    int r = real_ioctl(fd, cmd, argp), e = errno;
    other(fd, O_INHERITED);
    errno = e;
    return r;
  }
  struct call_head h = {fd, (uint32_t)cmd, (uint64_t)(uintptr_t)argp, 0};
  uint32_t size = 0;
  unsigned char *bytes = read_arg_struct(&h, &size);
  pthread_mutex_lock(&lock);
  int reported = connect_server() == 0 && send_msg(M_IOCTL, &h, sizeof h, bytes, h.status ? size : 0) == 0 && serve() == SERVE_CALL;
  int r = real_ioctl(fd, cmd, argp), e = errno;
  if (reported) {
    struct {
      int64_t ret;
      uint32_t status;
    } __attribute__((packed)) d = {r < 0 ? -e : r, h.status && self_copy(0, h.arg, bytes, size) == 0};
    if (send_msg(M_DONE, &d, sizeof d, bytes, d.status ? size : 0) == 0) serve();
  }
  pthread_mutex_unlock(&lock);
  free(bytes);
  errno = e;
  return r;
}

/* Record mode's report of a read/write/mmap/munmap made on a recorded fd, after the real call: the
 * arguments and, last, the real result (read/write/mmap/munmap events). */
static void report(int fd, uint8_t what, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, int64_t ret) {
  struct {
    int32_t fd, what;
    uint64_t a[5];
    int64_t ret;
  } __attribute__((packed)) m = {fd, what, {a0, a1, a2, a3, a4}, ret};
  call(M_OTHER, &m, sizeof m, NULL, 0);
}

/* read or write of `buf` done on fd with result r (errno as the call left it, kept): reported when fd is recorded. */
static void report_rw(int fd, uint8_t what, const void *buf, size_t n, ssize_t r) {
  int e = errno;
  if (owned_fd(fd)) {
    if (owned[fd] == 2) other(fd, O_INHERITED);
    else report(fd, what, (uint64_t)(uintptr_t)buf, n, 0, 0, 0, r < 0 ? -e : r);
  }
  errno = e;
}

ssize_t read(int fd, void *buf, size_t n) {
  init();
  ssize_t r = real_read(fd, buf, n);
  report_rw(fd, O_READ, buf, n, r);
  return r;
}

ssize_t write(int fd, const void *buf, size_t n) {
  init();
  ssize_t r = real_write(fd, buf, n);
  report_rw(fd, O_WRITE, buf, n, r);
  return r;
}

/* poll's revents are the file's mask filtered by the events asked: the trace's poll event is the unfiltered mask, so it is counted, not recorded. */
int poll(struct pollfd *fds, nfds_t n, int timeout) {
  init();
  int r = real_poll(fds, n, timeout), e = errno;
  for (nfds_t i = 0; i < n; i++)
    if (owned_fd(fds[i].fd)) {
      other(fds[i].fd, O_POLL);
      break;
    }
  errno = e;
  return r;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  init();
  void *r = real_mmap(addr, len, prot, flags, fd, off);
  int e = errno;
  report_memfd_mmap(r, len, flags, fd, off);
  if (!(flags & MAP_ANONYMOUS) && owned_fd(fd)) {
    if (owned[fd] == 2) other(fd, O_INHERITED);
    else {
      report(fd, O_MMAP, r == MAP_FAILED ? 0 : (uint64_t)(uintptr_t)r, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)off, r == MAP_FAILED ? -e : 0);
      int slot = r == MAP_FAILED ? -1 : map_free_slot();
      if (slot >= 0) {
        maps[slot].va = (uint64_t)(uintptr_t)r;
        maps[slot].len = len;
      }
    }
  }
  errno = e;
  return r;
}

int munmap(void *addr, size_t len) {
  init();
  uint64_t va = (uint64_t)(uintptr_t)addr;
  int hit = map_overlaps(va, len);
  int r = real_munmap(addr, len), e = errno;
  if (!hit && r == 0) unmapped(va, len);
  if (hit) {
    report(-1, O_MUNMAP, va, len, 0, 0, 0, r < 0 ? -e : 0);
    if (r == 0) map_forget(va, len);
  }
  errno = e;
  return r;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) { return mmap(addr, len, prot, flags, fd, off); }

#else

/* ---- open ---- */

static int do_open(const char *path, int flags) {
  int fd = real_open("/dev/null", O_RDWR | (flags & O_CLOEXEC));
  if (fd < 0) return fd;
  if (fd >= MAX_FD) {
    real_close(fd);
    errno = EMFILE;
    return -1;
  }
  int32_t a[2] = {fd, flags};
  int64_t r = call(M_OPEN, a, sizeof a, path, (uint32_t)strlen(path));
  if (r < 0) {
    int e = (int)-r;
    real_close(fd);
    errno = e;
    return -1;
  }
  owned[fd] = 1;
  return fd;
}

int open(const char *path, int flags, ...) {
  init();
  MODE_ARG(flags);
  if (is_ours(path)) return do_open(path, flags);
  return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
  init();
  MODE_ARG(flags);
  if (is_ours(path)) return do_open(path, flags);
  return real_open(path, flags | O_LARGEFILE, mode);
}

int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags) { return open64(path, flags); }

int openat(int dirfd, const char *path, int flags, ...) {
  init();
  MODE_ARG(flags);
  if (path && path[0] == '/' && is_ours(path)) return do_open(path, flags);
  return real_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) {
  init();
  MODE_ARG(flags);
  if (path && path[0] == '/' && is_ours(path)) return do_open(path, flags);
  return real_openat(dirfd, path, flags | O_LARGEFILE, mode);
}

int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }
int __openat64_2(int dirfd, const char *path, int flags) { return openat64(dirfd, path, flags); }

/* ---- close ---- */

int close(int fd) {
  init();
  if (owned_fd(fd)) {
    int inherited = owned[fd] == 2;
    owned[fd] = 0;
    int64_t r = 0;
    if (!inherited) {
      int32_t a = fd;
      r = call(M_CLOSE, &a, 4, NULL, 0);
    }
    real_close(fd);
    return ret_errno(r);
  }
  if (fd >= 0 && fd < MAX_FD && memfds[fd]) {
    /* The caller's memfd: the real close, then the model's. */
    memfds[fd] = 0;
    int r = real_close(fd), e = errno;
    int32_t a = fd;
    if (r == 0) call(M_CLOSE, &a, 4, NULL, 0);
    errno = e;
    return r;
  }
  return real_close(fd);
}


/* ---- ioctl: the argument's bytes as the caller has them (size/argsz first, then the whole struct) ---- */

int ioctl(int fd, unsigned long cmd, ...) {
  init();
  va_list ap;
  va_start(ap, cmd);
  void *argp = va_arg(ap, void *);
  va_end(ap);
  if (!owned_fd(fd)) return real_ioctl(fd, cmd, argp);
  if (owned[fd] == 2) return ret_errno(other(fd, O_INHERITED));
  struct call_head h = {fd, (uint32_t)cmd, (uint64_t)(uintptr_t)argp, 0};
  uint32_t size = 0;
  unsigned char *bytes = read_arg_struct(&h, &size);
  int64_t r = call(M_IOCTL, &h, sizeof h, bytes, h.status ? size : 0);
  free(bytes);
  return ret_errno(r);
}

/* ---- read/write/poll/mmap on owned fds: the server answers (ENOSYS: not modelled) ---- */

ssize_t read(int fd, void *buf, size_t n) {
  init();
  if (!owned_fd(fd)) return real_read(fd, buf, n);
  if (owned[fd] == 2) return ret_errno(other(fd, O_INHERITED));
  int64_t r = other_args(fd, O_READ, (uint64_t)(uintptr_t)buf, n, 0, 0, 0);
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return (ssize_t)r;
}

ssize_t write(int fd, const void *buf, size_t n) {
  init();
  if (!owned_fd(fd)) return real_write(fd, buf, n);
  if (owned[fd] == 2) return ret_errno(other(fd, O_INHERITED));
  int64_t r = other_args(fd, O_WRITE, (uint64_t)(uintptr_t)buf, n, 0, 0, 0);
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return (ssize_t)r;
}

/* poll of model fds only: each fd's ->poll mask, filtered by its events (do_pollfd); the model
 * cannot wait, so nothing ready returns 0 at once. A model fd polled with another fd: ENOSYS. */
int poll(struct pollfd *fds, nfds_t n, int timeout) {
  init();
  nfds_t ours = 0;
  for (nfds_t i = 0; i < n; i++) ours += owned_fd(fds[i].fd);
  if (!ours) return real_poll(fds, n, timeout);
  int ready = 0, first = -1;
  for (nfds_t i = 0; i < n && first < 0; i++)
    if (owned_fd(fds[i].fd)) first = fds[i].fd;
  for (nfds_t i = 0; i < n; i++) {
    if (!owned_fd(fds[i].fd)) return ret_errno(other(first, O_POLL)); /* no arguments: the server answers ENOSYS */
    if (owned[fds[i].fd] == 2) return ret_errno(other(fds[i].fd, O_INHERITED));
    int64_t mask = other_args(fds[i].fd, O_POLL, (uint16_t)fds[i].events, 0, 0, 0, 0);
    if (mask < 0) return ret_errno(mask);
    fds[i].revents = (short)(mask & (fds[i].events | POLLERR | POLLHUP));
    ready += fds[i].revents != 0;
  }
  return ready;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  init();
  if ((flags & MAP_ANONYMOUS) || !owned_fd(fd)) {
    void *r = real_mmap(addr, len, prot, flags, fd, off);
    report_memfd_mmap(r, len, flags, fd, off);
    return r;
  }
  if (owned[fd] == 2) {
    errno = (int)-other(fd, O_INHERITED);
    return MAP_FAILED;
  }
  /* The mapping of a model fd (the iommufd fd's mmap window) is anonymous shared memory. */
  int slot = map_free_slot();
  if (slot < 0) {
    errno = (int)-other(fd, O_MMAP);
    return MAP_FAILED;
  }
  /* The place: real anonymous memory, writable until the server has filled it. */
  void *p = len ? real_mmap(addr, len, PROT_READ | PROT_WRITE, (flags & ~(MAP_TYPE | MAP_ANONYMOUS)) | MAP_SHARED | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;
  int64_t r = p == MAP_FAILED ? -EINVAL : other_args(fd, O_MMAP, (uint64_t)(uintptr_t)p, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)off);
  if (r < 0) {
    if (p != MAP_FAILED) real_munmap(p, len);
    errno = (int)-r;
    return MAP_FAILED;
  }
  mprotect(p, len, prot);
  maps[slot].va = (uint64_t)(uintptr_t)p;
  maps[slot].len = len;
  return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) { return mmap(addr, len, prot, flags, fd, off); }

int munmap(void *addr, size_t len) {
  init();
  uint64_t va = (uint64_t)(uintptr_t)addr;
  if (!map_overlaps(va, len)) {
    int r = real_munmap(addr, len), e = errno;
    if (r == 0) unmapped(va, len);
    errno = e;
    return r;
  }
  int64_t r = other_args(-1, O_MUNMAP, va, len, 0, 0, 0);
  if (r < 0) return ret_errno(r);
  map_forget(va, len);
  return real_munmap(addr, len);
}

#endif
