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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef IORR_RECORD
#define IORR_RECORD 0
#endif
#define SOCK_ENV (IORR_RECORD ? "IORR_RECORD_SOCK" : "IORR_LIVE_SOCK")

enum { M_HELLO = 1, M_OPEN = 2, M_CLOSE = 3, M_IOCTL = 4, M_OTHER = 5, M_REPLY = 6, M_DONE = 7, M_FORK = 8, M_EXIT = 9 };
enum { S_READ = 16, S_WRITE = 17, S_PROBE = 18, S_NEWFD = 19, S_RESULT = 20, S_CALL = 21 };
/* serve()'s answer to S_CALL (record mode: make the real call now). */
#define SERVE_CALL INT64_MIN
enum { O_READ = 1, O_WRITE = 2, O_MMAP = 3, O_POLL = 4, O_INHERITED = 5 };
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
static pid_t (*real_fork)(void);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int sock = -1;
static pid_t sock_pid;
/* Received from the server, not yet consumed: rbuf[rhead, rtail) (next_frame). */
static unsigned char rbuf[1 << 16];
static size_t rhead, rtail;
/* 1: the fd is a placeholder of this process's model fd; 2: inherited over a fork the server was not told of (fork() below tells it). */
static unsigned char owned[MAX_FD];

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
  real_fork = dlsym(RTLD_NEXT, "fork");
}

static void atfork_child(void) {
  if (sock >= 0) real_close(sock);
  sock = -1;
  for (int i = 0; i < MAX_FD; i++)
    if (owned[i]) owned[i] = 2;
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

static int connect_server(void) {
  if (sock >= 0 && sock_pid == getpid()) return 0;
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
static unsigned char *read_arg_struct(struct call_head *h, uint32_t *size) {
  unsigned char *bytes = NULL;
  if (self_copy(0, h->arg, size, 4) == 0 && *size >= 4) {
    uint32_t n = *size < MAX_ARG ? *size : MAX_ARG;
    bytes = malloc(n);
    if (bytes && self_copy(0, h->arg, bytes, n) == 0) {
      h->status = 1;
      *size = n;
    }
  }
  return bytes;
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
  if (!owned_fd(fd)) return real_close(fd);
  int inherited = owned[fd] == 2;
  owned[fd] = 0;
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

/* read/write/poll/mmap on a recorded fd: the trace format has no event for them; the server counts them. */
ssize_t read(int fd, void *buf, size_t n) {
  init();
  ssize_t r = real_read(fd, buf, n);
  int e = errno;
  if (owned_fd(fd)) other(fd, owned[fd] == 2 ? O_INHERITED : O_READ);
  errno = e;
  return r;
}

ssize_t write(int fd, const void *buf, size_t n) {
  init();
  ssize_t r = real_write(fd, buf, n);
  int e = errno;
  if (owned_fd(fd)) other(fd, owned[fd] == 2 ? O_INHERITED : O_WRITE);
  errno = e;
  return r;
}

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
  if (!(flags & MAP_ANONYMOUS) && owned_fd(fd)) other(fd, owned[fd] == 2 ? O_INHERITED : O_MMAP);
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
  if (owned_fd(fd)) return ret_errno(other(fd, owned[fd] == 2 ? O_INHERITED : O_READ));
  return real_read(fd, buf, n);
}

ssize_t write(int fd, const void *buf, size_t n) {
  init();
  if (owned_fd(fd)) return ret_errno(other(fd, owned[fd] == 2 ? O_INHERITED : O_WRITE));
  return real_write(fd, buf, n);
}

int poll(struct pollfd *fds, nfds_t n, int timeout) {
  init();
  for (nfds_t i = 0; i < n; i++)
    if (owned_fd(fds[i].fd)) return ret_errno(other(fds[i].fd, O_POLL));
  return real_poll(fds, n, timeout);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  init();
  if (!(flags & MAP_ANONYMOUS) && owned_fd(fd)) {
    errno = (int)-other(fd, owned[fd] == 2 ? O_INHERITED : O_MMAP);
    return MAP_FAILED;
  }
  return real_mmap(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) { return mmap(addr, len, prot, flags, fd, off); }

#endif
