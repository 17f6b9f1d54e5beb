/* l1vh: Kubernetes resource quantities, parsed exactly.
 *
 * A quantity is a decimal number times a power of 1024 (Ki..Ei) or of ten
 * (k..E, or an exponent).  Doubles would round "1.1Gi" differently from
 * Kubernetes, so the digits are kept as a small decimal big number:
 * multiplied by 1024 per binary step, then split at the decimal point; a
 * non-zero fraction rounds up to the next byte, as resource.Quantity.Value()
 * does. */
#include "quantity.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Digits of the input plus what six multiplications by 1024 (Ei) can add. */
#define MAX_DIGITS (L1VH_QUANTITY_MAX_LEN + 6 * 4 + 1)
/* An exponent beyond this cannot give a byte count that fits 64 bits (or
 * is a joke): refuse it instead of looping over it. */
#define MAX_EXPONENT 999

struct decimal {
  unsigned char d[MAX_DIGITS]; /* significant digits, most significant first */
  size_t n;                    /* 0: the value is zero */
  int e10;                     /* value = d * 10^e10 */
};

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static void push_digit(struct decimal *v, char c)
{
  if (v->n == 0 && c == '0')
    return; /* leading zeros carry no value */
  v->d[v->n++] = (unsigned char) (c - '0');
}

/* The mantissa: [+]digits[.digits], at least one digit.  Returns the
 * position after it, or NULL. */
static const char *parse_mantissa(const char *p, struct decimal *v)
{
  bool any = false;

  if (*p == '+')
    p++;
  for (; is_digit(*p); p++, any = true)
    push_digit(v, *p);
  if (*p == '.') {
    for (p++; is_digit(*p); p++, any = true) {
      if (v->n > 0 || *p != '0')
        push_digit(v, *p);
      v->e10--;
    }
  }
  return any ? p : NULL;
}

/* "e3", "E-2", "e+10": the exponent form.  Returns 1 when suf is one, 0
 * when it is not, -1 when it is out of range. */
static int parse_exponent(const char *suf, int *exp)
{
  const char *p = suf + 1;
  bool neg = false;
  int e = 0;

  if (*suf != 'e' && *suf != 'E')
    return 0;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (!is_digit(*p))
    return 0;
  for (; is_digit(*p); p++) {
    e = e * 10 + (*p - '0');
    if (e > MAX_EXPONENT)
      return -1;
  }
  if (*p)
    return 0;
  *exp = neg ? -e : e;
  return 1;
}

/* The suffix as a power of two (binary) and of ten (decimal, exponent). */
static int parse_suffix(const char *s, const char *suf, unsigned *b2, int *e10,
                        struct l1vh_error *err)
{
  static const struct {
    const char *name;
    unsigned b2;
    int e10;
  } units[] = {
    {"", 0, 0},    {"Ki", 10, 0}, {"Mi", 20, 0}, {"Gi", 30, 0}, {"Ti", 40, 0},
    {"Pi", 50, 0}, {"Ei", 60, 0}, {"k", 0, 3},   {"M", 0, 6},   {"G", 0, 9},
    {"T", 0, 12},  {"P", 0, 15},  {"E", 0, 18},
  };
  int exp;

  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if (strcmp(suf, units[i].name) == 0) {
      *b2 = units[i].b2;
      *e10 = units[i].e10;
      return 0;
    }
  }
  switch (parse_exponent(suf, &exp)) {
  case 1:
    *b2 = 0;
    *e10 = exp;
    return 0;
  case -1:
    return l1vh_error_setx(err, "quantity \"%s\": exponent out of range", s);
  }
  if (strcmp(suf, "m") == 0 || strcmp(suf, "u") == 0 || strcmp(suf, "n") == 0)
    return l1vh_error_setx(err,
                           "quantity \"%s\": the suffix \"%s\" means a fraction of a byte "
                           "(use Mi or M for mega)",
                           s, suf);
  return l1vh_error_setx(err,
                         "quantity \"%s\": unknown suffix \"%s\" (expected Ki Mi Gi Ti Pi Ei, "
                         "k M G T P E or an exponent)",
                         s, suf);
}

static void multiply_small(struct decimal *v, unsigned factor)
{
  unsigned carry = 0;

  for (size_t i = v->n; i-- > 0;) {
    unsigned x = v->d[i] * factor + carry;
    v->d[i] = (unsigned char) (x % 10);
    carry = x / 10;
  }
  while (carry) { /* prepend the carry's digits */
    memmove(v->d + 1, v->d, v->n);
    v->d[0] = (unsigned char) (carry % 10);
    v->n++;
    carry /= 10;
  }
}

/* ceil(v) into *out; false on overflow. */
static bool decimal_to_u64(const struct decimal *v, uint64_t *out)
{
  long intlen = (long) v->n + v->e10; /* digits before the decimal point */
  uint64_t x = 0;
  size_t i;

  if (v->n == 0) {
    *out = 0;
    return true;
  }
  if (intlen <= 0) { /* 0 < v < 1 */
    *out = 1;
    return true;
  }
  if (intlen > 20) /* 2^64 has 20 digits */
    return false;
  for (i = 0; i < (size_t) intlen; i++) {
    unsigned digit = i < v->n ? v->d[i] : 0;
    if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, digit, &x))
      return false;
  }
  /* Trailing zeros were dropped, so any digit left is a non-zero fraction. */
  if (i < v->n && __builtin_add_overflow(x, 1, &x))
    return false;
  *out = x;
  return true;
}

int l1vh_quantity_parse(const char *s, uint64_t *bytes, struct l1vh_error *err)
{
  struct decimal v = {.n = 0, .e10 = 0};
  const char *suf;
  unsigned b2 = 0;
  int e10 = 0;

  if (!s || !*s)
    return l1vh_error_setx(err, "empty quantity");
  if (strnlen(s, L1VH_QUANTITY_MAX_LEN + 1) > L1VH_QUANTITY_MAX_LEN)
    return l1vh_error_setx(err, "quantity \"%.24s...\" is longer than %d characters", s,
                           L1VH_QUANTITY_MAX_LEN);
  if (*s == '-')
    return l1vh_error_setx(err, "quantity \"%s\" is negative", s);
  suf = parse_mantissa(s, &v);
  if (!suf)
    return l1vh_error_setx(err, "\"%s\" is not a quantity: it does not start with a number", s);
  if (parse_suffix(s, suf, &b2, &e10, err) < 0)
    return -1;
  for (; b2 > 0 && v.n > 0; b2 -= 10)
    multiply_small(&v, 1024);
  /* Trailing zeros only scale: dropping them keeps the fraction test exact. */
  while (v.n > 0 && v.d[v.n - 1] == 0) {
    v.n--;
    v.e10++;
  }
  if (v.n > 0)
    v.e10 += e10;
  if (!decimal_to_u64(&v, bytes))
    return l1vh_error_setx(err, "quantity \"%s\" does not fit in 64 bits", s);
  return 0;
}
