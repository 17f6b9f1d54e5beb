/* l1vh: rewrite the type attribute of a libvirt domain XML's root element.
 *
 * This is not an XML parser: it reads the prolog (declaration, processing
 * instructions, comments, white space) and the root element's start tag,
 * which is all that decides the domain type, and copies the rest untouched.
 * Where what libvirt's parser (libxml2) would read could differ from what
 * is read here, the answer is REFUSED, never a guess:
 *  - a DOCTYPE may declare entities or attribute defaults;
 *  - a named entity in the value other than the five predefined ones;
 *  - two attributes named type (libxml2's xmlGetProp() ignores the prefix,
 *    so "x:type" counts as well, and which one wins is not ours to guess). */
#include "xmltype.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct attr {
  const char *name, *value; /* value: between the quotes */
  size_t name_len, value_len;
};

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_space(const char *p, const char *end)
{
  while (p < end && is_space(*p))
    p++;
  return p;
}

static bool starts(const char *p, const char *end, const char *s)
{
  size_t n = strlen(s);
  return (size_t) (end - p) >= n && memcmp(p, s, n) == 0;
}

/* The first occurrence of s in [p, end), or NULL. */
static const char *find(const char *p, const char *end, const char *s)
{
  size_t n = strlen(s);
  for (; (size_t) (end - p) >= n; p++)
    if (memcmp(p, s, n) == 0)
      return p;
  return NULL;
}

/* Characters that end a name in a start tag. */
static bool name_end(char c)
{
  return is_space(c) || c == '=' || c == '>' || c == '/' || c == '<' || c == '"' || c == '\'';
}

/* The local part of a qualified name ("x:type" -> "type"). */
static const char *local_name(const char *name, size_t len, size_t *local_len)
{
  const char *colon = memchr(name, ':', len);
  if (!colon) {
    *local_len = len;
    return name;
  }
  colon = name + len;
  while (colon[-1] != ':')
    colon--;
  *local_len = len - (size_t) (colon - name);
  return colon;
}

static bool equals(const char *s, size_t len, const char *lit)
{
  return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* Skip everything before the root element.  Returns the root's '<', or NULL
 * with *res and *why set. */
static const char *skip_prolog(const char *p, const char *end, enum l1vh_xmltype_result *res,
                               const char **why)
{
  if (starts(p, end, "\xef\xbb\xbf")) /* a UTF-8 byte order mark */
    p += 3;
  for (;;) {
    const char *q;

    p = skip_space(p, end);
    *res = L1VH_XMLTYPE_INVALID;
    if (p == end)
      return *why = "no root element", NULL;
    if (*p != '<')
      return *why = "text before the root element", NULL;
    if (starts(p, end, "<?")) {
      if (!(q = find(p + 2, end, "?>")))
        return *why = "unterminated XML declaration or processing instruction", NULL;
      p = q + 2;
    } else if (starts(p, end, "<!--")) {
      if (!(q = find(p + 4, end, "-->")))
        return *why = "unterminated comment before the root element", NULL;
      p = q + 3;
    } else if (starts(p, end, "<!DOCTYPE")) {
      *res = L1VH_XMLTYPE_REFUSED;
      return *why = "a DOCTYPE can change what the type attribute says", NULL;
    } else if (starts(p, end, "<!")) {
      return *why = "markup before the root element", NULL;
    } else {
      return p;
    }
  }
}

/* One attribute at p (after white space).  Returns the byte after its
 * closing quote, or NULL when it is malformed. */
static const char *read_attr(const char *p, const char *end, struct attr *a)
{
  const char *q;
  char quote;

  a->name = p;
  while (p < end && !name_end(*p))
    p++;
  a->name_len = (size_t) (p - a->name);
  if (a->name_len == 0)
    return NULL;
  p = skip_space(p, end);
  if (p == end || *p != '=')
    return NULL;
  p = skip_space(p + 1, end);
  if (p == end || (*p != '"' && *p != '\''))
    return NULL;
  quote = *p++;
  q = memchr(p, quote, (size_t) (end - p));
  if (!q || memchr(p, '<', (size_t) (q - p)))
    return NULL;
  a->value = p;
  a->value_len = (size_t) (q - p);
  return q + 1;
}

/* The root's start tag at p ('<'): finds its type attribute, if any.
 * false: stop, with *res and *why set. */
static bool read_root(const char *p, const char *end, struct attr *type, bool *found,
                      enum l1vh_xmltype_result *res, const char **why)
{
  const char *name = ++p, *local;
  size_t local_len;

  while (p < end && !name_end(*p))
    p++;
  *res = L1VH_XMLTYPE_INVALID;
  if (p == name)
    return *why = "the root element has no name", false;
  local = local_name(name, (size_t) (p - name), &local_len);
  if (!equals(local, local_len, "domain")) {
    *res = L1VH_XMLTYPE_UNCHANGED;
    return *why = "the root element is not <domain>", false;
  }

  *found = false;
  for (;;) {
    const char *after = skip_space(p, end);
    struct attr a;

    if (after == end)
      return *why = "unterminated <domain> start tag", false;
    if (*after == '>' || starts(after, end, "/>"))
      return true;
    if (after == p)
      return *why = "attributes of <domain> not separated by white space", false;
    if (!(p = read_attr(after, end, &a)))
      return *why = "malformed attribute in the <domain> start tag", false;
    local = local_name(a.name, a.name_len, &local_len);
    if (!equals(local, local_len, "type"))
      continue;
    /* xmlns:type declares a namespace prefix: not an attribute for libxml2. */
    if (local != a.name && equals(a.name, (size_t) (local - a.name), "xmlns:"))
      continue;
    if (*found) {
      *res = L1VH_XMLTYPE_REFUSED;
      return *why = "<domain> has more than one type attribute", false;
    }
    *type = a;
    *found = true;
  }
}

static int hex(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* A character reference's value (&#N; or &#xH;, between "&#" and ";"), or -1. */
static long char_ref(const char *s, size_t len)
{
  long v = 0;
  int base = 10;

  if (len && (s[0] == 'x')) {
    base = 16;
    s++, len--;
  }
  if (len == 0 || len > 8)
    return -1;
  for (size_t i = 0; i < len; i++) {
    int d = hex(s[i]);
    if (d < 0 || d >= base)
      return -1;
    v = v * base + d;
  }
  return v;
}

/* Decode the attribute value as libxml2 would into buf (at most size-1
 * bytes).  1: decoded; 0: longer than any name (so it is none of ours);
 * -1: an entity we cannot decode. */
static int decode(const char *v, size_t len, char *buf, size_t size)
{
  static const struct {
    const char *name;
    char c;
  } predefined[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
  size_t n = 0;

  for (size_t i = 0; i < len; i++) {
    char c = v[i];
    if (c == '&') {
      const char *semi = memchr(v + i, ';', len - i);
      const char *ent = v + i + 1;
      size_t ent_len;
      long code = -1;

      if (!semi)
        return -1;
      ent_len = (size_t) (semi - ent);
      if (ent_len > 1 && ent[0] == '#') {
        code = char_ref(ent + 1, ent_len - 1);
      } else {
        for (size_t k = 0; k < sizeof(predefined) / sizeof(predefined[0]); k++)
          if (equals(ent, ent_len, predefined[k].name))
            code = (unsigned char) predefined[k].c;
      }
      /* Names are ASCII: a reference to anything else cannot make one, but
       * it must still be well-formed, or libxml2 would read something else. */
      if (code <= 0 || code > 0x10ffff)
        return -1;
      c = code < 0x80 ? (char) code : '?';
      i = (size_t) (semi - v);
    }
    if (n + 1 >= size)
      return 0;
    buf[n++] = c;
  }
  buf[n] = '\0';
  return 1;
}

int l1vh_xmltype_valid_name(const char *name)
{
  size_t n = name ? strlen(name) : 0;
  return n > 0 && n <= L1VH_XMLTYPE_MAX_NAME &&
         strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

enum l1vh_xmltype_result l1vh_xmltype_rewrite(const char *xml, size_t len,
                                              const struct l1vh_xmltype_rule *rule, char **out,
                                              size_t *out_len, const char **why)
{
  const char *end = xml + len, *root;
  enum l1vh_xmltype_result res;
  char value[L1VH_XMLTYPE_MAX_NAME + 1];
  struct attr type = {NULL, NULL, 0, 0};
  bool found = false, listed = false;
  size_t head, tlen;
  int dec;

  *out = NULL;
  *out_len = 0;
  if (!rule || !l1vh_xmltype_valid_name(rule->target))
    return *why = "no valid target type", L1VH_XMLTYPE_REFUSED;
  if (!xml)
    return *why = "no document", L1VH_XMLTYPE_INVALID;
  if (len > L1VH_XMLTYPE_MAX_BYTES)
    return *why = "document larger than 32 MiB", L1VH_XMLTYPE_REFUSED;
  if (memchr(xml, '\0', len))
    return *why = "document holds a NUL byte", L1VH_XMLTYPE_INVALID;

  if (!(root = skip_prolog(xml, end, &res, why)))
    return res;
  if (!read_root(root, end, &type, &found, &res, why))
    return res;
  if (!found)
    return *why = "<domain> has no type attribute", L1VH_XMLTYPE_UNCHANGED;

  dec = decode(type.value, type.value_len, value, sizeof(value));
  if (dec < 0)
    return *why = "the type attribute holds an entity that cannot be read here", L1VH_XMLTYPE_REFUSED;
  if (dec == 0)
    return *why = "the domain type is not one to rewrite", L1VH_XMLTYPE_UNCHANGED;
  if (strcmp(value, rule->target) == 0)
    return *why = "the domain is of the target type already", L1VH_XMLTYPE_UNCHANGED;
  for (size_t i = 0; i < rule->n_from; i++)
    if (rule->from[i] && strcmp(value, rule->from[i]) == 0)
      listed = true;
  if (!listed)
    return *why = "the domain type is not one to rewrite", L1VH_XMLTYPE_UNCHANGED;

  head = (size_t) (type.value - xml);
  tlen = strlen(rule->target);
  *out_len = len - type.value_len + tlen;
  /* No abort here: this also runs inside a libvirt daemon. */
  if (!(*out = malloc(*out_len + 1))) {
    *out_len = 0;
    return *why = "out of memory", L1VH_XMLTYPE_REFUSED;
  }
  memcpy(*out, xml, head);
  memcpy(*out + head, rule->target, tlen);
  memcpy(*out + head + tlen, type.value + type.value_len, len - head - type.value_len);
  (*out)[*out_len] = '\0';
  *why = "domain type rewritten";
  return L1VH_XMLTYPE_REWRITTEN;
}
