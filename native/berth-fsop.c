/*
 * berth-fsop: resolves one path inside a container's root with the kernel's
 * openat2(RESOLVE_IN_ROOT) and lends the resulting file descriptor to berthd.
 *
 * Why a helper: Node has no openat2, and resolving a path in a live
 * container's root by host paths races with the container (CVE-2018-15664).
 * Here the kernel scopes every "..", absolute symlink and relative symlink to
 * the root, atomically, during the one lookup.
 *
 * Protocol: berthd passes the container root directory as fd 3 and runs
 *   berth-fsop <path>
 * The helper prints "ok <fd> <container-path>\n" (or "err <errno> <text>\n"),
 * keeps the fd open until its stdin closes, and berthd reopens the file
 * through /proc/<helper-pid>/fd/<fd>, which names that exact open file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static int resolve(int rootfd, const char *path) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  /* EAGAIN: a concurrent rename in the tree; the kernel asks us to retry. */
  for (int i = 0; i < 64; i++) {
    long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) return (int)fd;
  }
  return -1;
}

/* The path of fd as this process sees it; for a container root, relative to the
 * container's mount namespace root, which is all we need for a prefix strip. */
static int fdpath(int fd, char *buf, size_t n) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t l = readlink(link, buf, n - 1);
  if (l < 0) return -1;
  buf[l] = 0;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: berth-fsop PATH (root directory on fd 3)\n");
    return 2;
  }
  const char *path = argv[1];
  while (*path == '/') path++;
  if (!*path) path = ".";
  int fd = resolve(3, path);
  if (fd < 0) {
    int e = errno;
    printf("err %d %s\n", e, strerror(e));
    return 1;
  }
  char rootp[4096], p[4096];
  const char *rel = "?";
  if (fdpath(3, rootp, sizeof rootp) == 0 && fdpath(fd, p, sizeof p) == 0) {
    size_t rl = strlen(rootp);
    if (strcmp(rootp, "/") == 0) rel = p;
    else if (strncmp(p, rootp, rl) == 0 && (p[rl] == '/' || p[rl] == 0)) rel = p[rl] ? p + rl : "/";
  }
  printf("ok %d %s\n", fd, rel);
  fflush(stdout);
  /* Hold the fd until berthd has reopened it. */
  char b[256];
  while (read(0, b, sizeof b) > 0) {
  }
  return 0;
}
