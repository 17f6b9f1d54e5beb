/* Kubernetes quantities: the values Kubernetes gives (resource.Quantity
 * .Value() rounds up to a whole unit) and one-line errors naming the value
 * for everything hostile. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quantity.h"
#include "unit.h"

static const struct {
  const char *in;
  uint64_t bytes;
} good[] = {
  {"0", 0},
  {"1", 1},
  {"1073741824", 1073741824ULL},
  {"+1Ki", 1024},
  {"1Ki", 1024},
  {"4Mi", 4194304ULL},
  {"8Mi", 8388608ULL},
  {"1Gi", 1073741824ULL},
  {"2Ti", 2199023255552ULL},
  {"1Pi", 1125899906842624ULL},
  {"1Ei", 1152921504606846976ULL},
  {"15Ei", 17293822569102704640ULL}, /* 15 x 2^60 < 2^64 */
  {"0Ei", 0},
  {"1k", 1000},
  {"1M", 1000000},
  {"1G", 1000000000ULL},
  {"1T", 1000000000000ULL},
  {"1P", 1000000000000000ULL},
  {"1E", 1000000000000000000ULL}, /* a suffix, not an exponent */
  {"18E", 18000000000000000000ULL},
  {"1.5Gi", 1610612736ULL},
  {"1.1Gi", 1181116007ULL}, /* 1181116006.4 rounds up */
  {"1.Gi", 1073741824ULL},   /* Kubernetes accepts "1." */
  {".5Ki", 512},
  {"0.5Ki", 512},             /* 5 x 1024 = 5120 x 10^-1: the trailing zero is no fraction */
  {"0.5", 1},                 /* half a byte rounds up */
  {"0.000000001", 1},
  {"2.5k", 2500},
  {"1e3", 1000},
  {"1E3", 1000},
  {"12e+2", 1200},
  {"15e-1", 2}, /* 1.5 */
  {"1e-3", 1},
  {"1e-999", 1},
  {"0e999", 0},
  {"1.00000000000000000000000000000Gi", 1073741824ULL},
  {"000000000000000000000000000000001Ki", 1024},
  {"18446744073709551615", UINT64_MAX},
  {"17179869183.999999999Gi", UINT64_MAX}, /* just under 2^64, rounded up to it */
};

static const struct {
  const char *in;
  const char *why; /* a substring of the message */
} bad[] = {
  {"", "empty quantity"},
  {"-1", "negative"},
  {"-1Gi", "negative"},
  {"-0", "negative"},
  {"Gi", "does not start with a number"},
  {".", "does not start with a number"},
  {"+", "does not start with a number"},
  {"abc", "does not start with a number"},
  {" 1Gi", "does not start with a number"},
  {"inf", "does not start with a number"},
  {"nan", "does not start with a number"},
  {"1Gi ", "unknown suffix"},
  {"1GiB", "unknown suffix"},
  {"1K", "unknown suffix"}, /* Kubernetes' kilo is lower case */
  {"1gi", "unknown suffix"},
  {"1e", "unknown suffix"},
  {"1e+", "unknown suffix"},
  {"1e3Gi", "unknown suffix"},
  {"1.2.3", "unknown suffix"},
  {"0x10", "unknown suffix"},
  {"1_000", "unknown suffix"},
  {"1Ki1", "unknown suffix"},
  {"1,5Gi", "unknown suffix"},
  {"4m", "fraction of a byte"},
  {"4u", "fraction of a byte"},
  {"4n", "fraction of a byte"},
  {"16Ei", "does not fit in 64 bits"},
  {"19E", "does not fit in 64 bits"},
  {"18446744073709551616", "does not fit in 64 bits"},
  {"18446744073709551615.1", "does not fit in 64 bits"},
  {"17179869184Gi", "does not fit in 64 bits"},
  {"99999999999999999999999999999999", "does not fit in 64 bits"},
  {"1e20", "does not fit in 64 bits"},
  {"1e999", "does not fit in 64 bits"},
  {"1e1000", "exponent out of range"},
  {"1e-99999999999999999999", "exponent out of range"},
};

L1VH_TEST(quantity_values)
{
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    struct l1vh_error err = L1VH_ERROR_INIT;
    uint64_t b = 12345;
    if (l1vh_quantity_parse(good[i].in, &b, &err) < 0 || b != good[i].bytes) {
      printf("# \"%s\": got %llu (%s), expected %llu\n", good[i].in, (unsigned long long) b,
             err.msg ? err.msg : "ok", (unsigned long long) good[i].bytes);
      l1vh_error_clear(&err);
      return UNIT_FAIL;
    }
  }
  return UNIT_PASS;
}

L1VH_TEST(quantity_errors_name_the_value)
{
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct l1vh_error err = L1VH_ERROR_INIT;
    uint64_t b = 0;
    int rc = l1vh_quantity_parse(bad[i].in, &b, &err);
    if (rc >= 0 || !err.msg || !strstr(err.msg, bad[i].why) ||
        (bad[i].in[0] && !strstr(err.msg, bad[i].in)) || strchr(err.msg, '\n')) {
      printf("# \"%s\": rc %d, message \"%s\", expected \"%s\" naming the value\n", bad[i].in, rc,
             err.msg ? err.msg : "(none)", bad[i].why);
      l1vh_error_clear(&err);
      return UNIT_FAIL;
    }
    l1vh_error_clear(&err);
  }
  return UNIT_PASS;
}

L1VH_TEST(quantity_null_is_empty)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  uint64_t b;
  CHECK(l1vh_quantity_parse(NULL, &b, &err) < 0);
  CHECK_HAS(err.msg, "empty quantity");
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

/* Control characters in the value must not split the log line. */
L1VH_TEST(quantity_error_is_one_line)
{
  static const char *const inputs[] = {"\n1", "1Gi\n", "1\r\nX-Injected: yes", "4\tMi"};
  for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
    struct l1vh_error err = L1VH_ERROR_INIT;
    uint64_t b;
    CHECK(l1vh_quantity_parse(inputs[i], &b, &err) < 0);
    CHECK(err.msg && !strpbrk(err.msg, "\n\r\t"));
    l1vh_error_clear(&err);
  }
  return UNIT_PASS;
}

/* A megabyte of digits is refused by length, quickly, with a short message. */
L1VH_TEST(quantity_huge_digit_strings)
{
  size_t n = 1024 * 1024;
  char *s = malloc(n + 1);
  struct l1vh_error err = L1VH_ERROR_INIT;
  uint64_t b;

  CHECK(s);
  memset(s, '9', n);
  s[n] = '\0';
  CHECK(l1vh_quantity_parse(s, &b, &err) < 0);
  CHECK_HAS(err.msg, "longer than 64 characters");
  CHECK(strlen(err.msg) < 120);
  l1vh_error_clear(&err);
  /* At the limit: 64 characters parse (a long but valid number). */
  memset(s, '0', 63);
  s[63] = '7';
  s[64] = '\0';
  CHECK(l1vh_quantity_parse(s, &b, &err) == 0 && b == 7);
  s[64] = '7';
  s[65] = '\0';
  CHECK(l1vh_quantity_parse(s, &b, &err) < 0);
  l1vh_error_clear(&err);
  free(s);
  return UNIT_PASS;
}

/* Every one- and two-character string: never a crash, and any success is a
 * well-formed quantity (starts with a digit, '+' or '.'). */
L1VH_TEST(quantity_short_strings_fuzz)
{
  char s[3];
  for (int a = 1; a < 256; a++) {
    for (int c = 0; c < 256; c++) {
      struct l1vh_error err = L1VH_ERROR_INIT;
      uint64_t b;
      s[0] = (char) a;
      s[1] = (char) c;
      s[2] = '\0';
      if (l1vh_quantity_parse(s, &b, &err) == 0)
        CHECK((s[0] >= '0' && s[0] <= '9') || s[0] == '+' || s[0] == '.');
      l1vh_error_clear(&err);
    }
  }
  return UNIT_PASS;
}
