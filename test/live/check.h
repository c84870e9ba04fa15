/* The checks of the test/live C programs: each failed check is printed with its line and
 * errno, and counted; the program ends with "checks failed: N" (live.test.ts reads it). */
#ifndef IORR_TEST_LIVE_CHECK_H
#define IORR_TEST_LIVE_CHECK_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failed;
#define CHECK(cond, what)                                                                              \
  do {                                                                                                 \
    if (!(cond)) {                                                                                     \
      failed++;                                                                                        \
      fprintf(stderr, "FAIL %s:%d: %s (errno %d %s)\n", __FILE__, __LINE__, what, errno, strerror(errno)); \
    }                                                                                                  \
  } while (0)
/* the call fails with exactly this errno */
#define FAILS(call, e, what) CHECK((call) == -1 && errno == (e), what)
#endif
