/* l1vh: bounded regex compilation (common/bounded_regex.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bounded_regex.h"

/* The size of the group being read: the alternatives already closed, the
 * current concatenation, and the last atom (what a quantifier applies to). */
struct group {
  size_t closed, current, last;
  bool after_quantifier;
};

/* Skip a bracket expression starting at p[0] == '['; returns the index just
 * past its ']', or the end of the string when it is not closed (regcomp
 * then refuses it). */
static size_t skip_bracket(const char *p, size_t i)
{
  i++;
  if (p[i] == '^')
    i++;
  if (p[i] == ']')
    i++; /* a leading ']' is a member */
  while (p[i] && p[i] != ']') {
    if (p[i] == '[' && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
      const char *end = strchr(p + i + 2, p[i + 1]);
      if (!end || end[1] != ']')
        return strlen(p);
      i = (size_t) (end - p) + 2;
      continue;
    }
    i++;
  }
  return p[i] ? i + 1 : i;
}

/* Read "{m}", "{m,}" or "{m,n}" at p[i] == '{'; *copies is how many copies
 * of the atom glibc makes.  Returns the index past '}', 0 when it is not a
 * bound (regcomp judges it), or -1 when a bound is too large. */
static long read_bound(const char *p, size_t i, size_t *copies)
{
  unsigned long m, n;
  char *end;

  if (p[i + 1] < '0' || p[i + 1] > '9')
    return 0;
  m = strtoul(p + i + 1, &end, 10);
  n = m;
  if (*end == ',') {
    end++;
    n = (*end >= '0' && *end <= '9') ? strtoul(end, &end, 10) : m + 1;
  }
  if (*end != '}')
    return 0;
  if (m > L1VH_REGEX_MAX_REPEAT || n > L1VH_REGEX_MAX_REPEAT + 1)
    return -1;
  *copies = (n > m ? n : m) + 1;
  return end - p + 1;
}

static int too_big(struct l1vh_error *err)
{
  return l1vh_error_setx(err, "expands to more than %d nodes when compiled",
                         L1VH_REGEX_MAX_NODES);
}

/* Apply a quantifier of `copies` copies to the last atom of g. */
static int repeat_last(struct group *g, size_t copies, struct l1vh_error *err)
{
  size_t grown;

  if (g->after_quantifier)
    return l1vh_error_setx(err, "a repetition operator repeated");
  grown = (g->last ? g->last : 1) * copies;
  if (grown > L1VH_REGEX_MAX_NODES)
    return too_big(err);
  g->current += grown - g->last;
  g->last = grown;
  g->after_quantifier = true;
  return g->current + g->closed > L1VH_REGEX_MAX_NODES ? too_big(err) : 0;
}

static void add_atom(struct group *g, size_t size)
{
  g->current += size;
  g->last = size;
  g->after_quantifier = false;
}

/* An upper bound of the tree glibc builds for p, checked as it grows. */
static int check_cost(const char *p, struct l1vh_error *err)
{
  struct group stack[L1VH_REGEX_MAX_DEPTH + 1] = {{0}};
  size_t depth = 0, i = 0, copies;
  long next;

  while (p[i]) {
    struct group *g = &stack[depth];

    switch (p[i]) {
    case '(':
      if (depth == L1VH_REGEX_MAX_DEPTH)
        return l1vh_error_setx(err, "groups nested deeper than %d", L1VH_REGEX_MAX_DEPTH);
      stack[++depth] = (struct group){0};
      i++;
      continue;
    case ')':
      if (depth == 0) {
        add_atom(g, 1);
        break;
      }
      depth--;
      add_atom(&stack[depth], g->closed + g->current);
      break;
    case '|':
      g->closed += g->current;
      g->current = g->last = 0;
      g->after_quantifier = false;
      break;
    case '*':
    case '?':
      if (repeat_last(g, 2, err) < 0)
        return -1;
      break;
    case '+':
      if (repeat_last(g, 3, err) < 0) /* "x+" is "xx*" */
        return -1;
      break;
    case '{':
      next = read_bound(p, i, &copies);
      if (next < 0)
        return l1vh_error_setx(err, "a repetition count above %d", L1VH_REGEX_MAX_REPEAT);
      if (next == 0) {
        add_atom(g, 1);
        break;
      }
      if (repeat_last(g, copies, err) < 0)
        return -1;
      i = (size_t) next;
      continue;
    case '[':
      add_atom(g, 1);
      i = skip_bracket(p, i);
      continue;
    case '\\':
      add_atom(g, 1);
      i += p[i + 1] ? 2 : 1;
      continue;
    default:
      add_atom(g, 1);
      break;
    }
    if (stack[depth].closed + stack[depth].current > L1VH_REGEX_MAX_NODES)
      return too_big(err);
    i++;
  }
  return 0;
}

int l1vh_regex_compile(regex_t *re, const char *src, struct l1vh_error *err)
{
  char msg[128];
  int rc;

  if (strlen(src) > L1VH_REGEX_MAX_LEN)
    return l1vh_error_setx(err, "longer than %d bytes", L1VH_REGEX_MAX_LEN);
  if (check_cost(src, err) < 0)
    return -1;
  rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB);
  if (rc == 0)
    return 0;
  regerror(rc, re, msg, sizeof(msg)); /* glibc has freed what it built */
  return l1vh_error_setx(err, "%s", msg);
}
