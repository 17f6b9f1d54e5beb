/* The unit-test runner: runs every registered test (or those named on the
 * command line), prints TAP and a closing "N passed, N failed, N skipped". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define MAX_TESTS 1024

static struct {
  const char *name;
  unit_fn fn;
} tests[MAX_TESTS];
static size_t n_tests;

void unit_register(const char *name, unit_fn fn)
{
  if (n_tests == MAX_TESTS) {
    fprintf(stderr, "unit: more than %d tests\n", MAX_TESTS);
    abort();
  }
  tests[n_tests].name = name;
  tests[n_tests].fn = fn;
  n_tests++;
}

const char *unit_fixture(const char *rel)
{
  static char path[4096];
  const char *dir = getenv("L1VH_FIXTURES");
  int n = snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/fixtures", rel);
  if (n < 0 || (size_t) n >= sizeof(path))
    abort();
  return path;
}

static int wanted(const char *name, int argc, char **argv)
{
  if (argc < 2)
    return 1;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return 1;
  return 0;
}

int main(int argc, char **argv)
{
  size_t passed = 0, failed = 0, skipped = 0, n = 0;
  int strict = getenv("CI") && strcmp(getenv("CI"), "true") == 0;

  for (size_t i = 0; i < n_tests; i++)
    n += (size_t) wanted(tests[i].name, argc, argv);
  printf("1..%zu\n", n);
  n = 0;
  for (size_t i = 0; i < n_tests; i++) {
    if (!wanted(tests[i].name, argc, argv))
      continue;
    n++;
    switch (tests[i].fn()) {
    case UNIT_PASS:
      printf("ok %zu - %s\n", n, tests[i].name);
      passed++;
      break;
    case UNIT_SKIP:
      /* Under CI=true a skip is a failure: a suite must not pass by skipping. */
      printf("%s %zu - %s # skip\n", strict ? "not ok" : "ok", n, tests[i].name);
      if (strict)
        failed++;
      else
        skipped++;
      break;
    default:
      printf("not ok %zu - %s\n", n, tests[i].name);
      failed++;
    }
  }
  printf("# unit: %zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
  return failed ? 1 : 0;
}
