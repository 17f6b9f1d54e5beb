/* l1vh unit tests: no framework.  Each L1VH_TEST returns UNIT_PASS,
 * UNIT_FAIL or UNIT_SKIP; the runner (main.c) prints TAP. */
#ifndef L1VH_UNIT_H
#define L1VH_UNIT_H

#include <stdio.h>
#include <string.h>

enum unit_result { UNIT_PASS, UNIT_FAIL, UNIT_SKIP };

typedef enum unit_result (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn);

#define L1VH_TEST(name)                                                              \
  static enum unit_result test_##name(void);                                         \
  __attribute__((constructor)) static void register_##name(void)                     \
  {                                                                                  \
    unit_register(#name, test_##name);                                               \
  }                                                                                  \
  static enum unit_result test_##name(void)

/* Check a condition; on failure say where and return UNIT_FAIL. */
#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);             \
      return UNIT_FAIL;                                                              \
    }                                                                                \
  } while (0)

#define CHECK_STR(a, b)                                                              \
  do {                                                                               \
    const char *a_ = (a), *b_ = (b);                                                 \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                         \
      printf("# %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,     \
             a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                \
      return UNIT_FAIL;                                                              \
    }                                                                                \
  } while (0)

/* The message contains the substring. */
#define CHECK_HAS(msg, sub)                                                          \
  do {                                                                               \
    const char *m_ = (msg);                                                          \
    if (!m_ || !strstr(m_, (sub))) {                                                 \
      printf("# %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,       \
             m_ ? m_ : "(null)", (sub));                                             \
      return UNIT_FAIL;                                                              \
    }                                                                                \
  } while (0)

/* Path of a file in ../shared/fixtures (L1VH_FIXTURES overrides). */
const char *unit_fixture(const char *rel);

#endif
