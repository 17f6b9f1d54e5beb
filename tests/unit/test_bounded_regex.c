/* Bounded regex compilation: what hooks.d files and the node config really
 * use compiles and matches; what would make glibc's regcomp expand without
 * bound is refused before regcomp sees it, with one line. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "bounded_regex.h"
#include "unit.h"

/* Patterns and a subject each must match. */
static const struct {
  const char *re, *subject;
} good[] = {
    {"^kubevirt\\.io/domain$", "kubevirt.io/domain"},
    {"^compute$", "compute"},
    {".*", ""},
    {"virt-launcher(@|:)", "quay.io/kubevirt/virt-launcher@sha256:00"},
    {"^io\\.kubernetes\\.(cri\\.)?container[-.]name$", "io.kubernetes.cri.container-name"},
    {"[[:alpha:]]+[]a-]{2,8}", "abc]-"},
    {"^a{1000}$", NULL}, /* the largest count, alone */
    {"(a|b|c)+x?", "cab"},
    {"a{,3}", "a{,3}"},   /* not a bound: literal characters */
    {"[{(|+*]", "+"},     /* specials inside brackets are members */
};

static const struct {
  const char *re, *why;
} bad[] = {
    {"^kube++++++++++++++++++++++++++++virt$", "repetition operator repeated"},
    {"a**", "repetition operator repeated"},
    {"((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)", "expands to more than"},
    {"(a{100}){100}", "expands to more than"},
    {"((a{20}){20}){20}", "expands to more than"},
    {"a{1001}", "a repetition count above 1000"},
    {"a{1,99999}", "a repetition count above 1000"},
    {"((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))",
     "nested deeper than 32"},
    {"(unclosed", "Unmatched ("}, /* regcomp's own message */
};

L1VH_TEST(bounded_regex_compiles_and_matches_real_patterns)
{
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    struct l1vh_error err = L1VH_ERROR_INIT;
    regex_t re;

    if (l1vh_regex_compile(&re, good[i].re, &err) < 0) {
      printf("# \"%s\": %s\n", good[i].re, l1vh_error_msg(&err));
      l1vh_error_clear(&err);
      return UNIT_FAIL;
    }
    int rc = good[i].subject ? regexec(&re, good[i].subject, 0, NULL, 0) : 0;
    regfree(&re);
    if (rc != 0) {
      printf("# \"%s\" does not match \"%s\"\n", good[i].re, good[i].subject);
      return UNIT_FAIL;
    }
  }
  return UNIT_PASS;
}

L1VH_TEST(bounded_regex_refuses_what_would_explode)
{
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct l1vh_error err = L1VH_ERROR_INIT;
    regex_t re;

    if (l1vh_regex_compile(&re, bad[i].re, &err) == 0) {
      printf("# \"%s\" compiled\n", bad[i].re);
      regfree(&re);
      return UNIT_FAIL;
    }
    CHECK_HAS(l1vh_error_msg(&err), bad[i].why);
    CHECK(!strchr(l1vh_error_msg(&err), '\n'));
    l1vh_error_clear(&err);
  }
  return UNIT_PASS;
}

L1VH_TEST(bounded_regex_length_capped)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *long_re = malloc(L1VH_REGEX_MAX_LEN + 2);
  regex_t re;

  CHECK(long_re);
  memset(long_re, 'a', L1VH_REGEX_MAX_LEN + 1);
  long_re[L1VH_REGEX_MAX_LEN + 1] = '\0';
  int rc = l1vh_regex_compile(&re, long_re, &err);
  long_re[L1VH_REGEX_MAX_LEN] = '\0'; /* one byte shorter: fine */
  struct l1vh_error err2 = L1VH_ERROR_INIT;
  int rc2 = l1vh_regex_compile(&re, long_re, &err2);
  free(long_re);
  CHECK(rc < 0);
  CHECK_HAS(l1vh_error_msg(&err), "longer than 512 bytes");
  l1vh_error_clear(&err);
  CHECK(rc2 == 0);
  regfree(&re);
  return UNIT_PASS;
}
