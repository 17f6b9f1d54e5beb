#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl_tree.h>

struct l1vh_json_doc {
  yajl_val root;
};

/* A node is a yajl_val; the cast keeps yajl out of every other file. */
static yajl_val val(const struct l1vh_json *node)
{
  return (yajl_val) (uintptr_t) node;
}

static const struct l1vh_json *node_of(yajl_val v)
{
  return (const struct l1vh_json *) v;
}

/* Refuse deep nesting before yajl sees it.  Brackets inside strings do not
 * count; escapes inside strings are skipped. */
/* The shape of the input, before yajl builds anything: its nesting, and
 * its size in values, counted as containers plus separators (within one
 * of the real count per container). */
static int check_shape(const char *buf, size_t len, struct l1vh_error *err)
{
  size_t depth = 0, values = 0;
  bool in_string = false;

  for (size_t i = 0; i < len; i++) {
    char c = buf[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > L1VH_JSON_MAX_DEPTH)
        return l1vh_error_setx(err, "JSON nested deeper than %d levels", L1VH_JSON_MAX_DEPTH);
      values++;
    } else if ((c == '}' || c == ']') && depth > 0)
      depth--;
    else if (c == ',')
      values++;
    if (values > L1VH_JSON_MAX_VALUES)
      return l1vh_error_setx(err, "JSON with more than %d values", L1VH_JSON_MAX_VALUES);
  }
  return 0;
}

static int cmp_keys(const void *a, const void *b)
{
  return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Refuse duplicate keys.  Go's encoding/json (runc, containerd) keeps the
 * last of them and yajl's tree the first: accepting both would let a spec
 * show l1vh other annotations than the runtime uses. */
static const char *duplicate_key(yajl_val v)
{
  if (v->type == yajl_t_array) {
    for (size_t i = 0; i < v->u.array.len; i++) {
      const char *dup = duplicate_key(v->u.array.values[i]);
      if (dup)
        return dup;
    }
    return NULL;
  }
  if (v->type != yajl_t_object)
    return NULL;
  for (size_t i = 0; i < v->u.object.len; i++) {
    const char *dup = duplicate_key(v->u.object.values[i]);
    if (dup)
      return dup;
  }
  if (v->u.object.len < 2)
    return NULL;
  const char **keys = malloc(v->u.object.len * sizeof(*keys));
  const char *dup = NULL;
  if (!keys)
    abort();
  memcpy(keys, v->u.object.keys, v->u.object.len * sizeof(*keys));
  qsort(keys, v->u.object.len, sizeof(*keys), cmp_keys);
  for (size_t i = 1; i < v->u.object.len && !dup; i++)
    if (strcmp(keys[i - 1], keys[i]) == 0)
      dup = v->u.object.keys[0] == keys[i] ? keys[i - 1] : keys[i];
  free(keys);
  return dup;
}

int l1vh_json_parse(const char *buf, size_t len, struct l1vh_json_doc **out,
                    struct l1vh_error *err)
{
  char errbuf[256] = "";
  char *copy;
  yajl_val root;

  if (memchr(buf, '\0', len))
    return l1vh_error_setx(err, "invalid JSON: NUL byte in input");
  if (check_shape(buf, len, err) < 0)
    return -1;
  /* yajl_tree_parse wants a NUL-terminated string. */
  copy = malloc(len + 1);
  if (!copy)
    abort();
  memcpy(copy, buf, len);
  copy[len] = '\0';
  root = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
  free(copy);
  if (!root) {
    /* yajl's message spans lines and quotes the input: keep the first line. */
    errbuf[strcspn(errbuf, "\n")] = '\0';
    return l1vh_error_setx(err, "invalid JSON: %s", errbuf[0] ? errbuf : "parse error");
  }
  const char *dup = duplicate_key(root);
  if (dup) {
    int rc = l1vh_error_setx(err, "invalid JSON: duplicate key \"%.64s\"", dup);
    yajl_tree_free(root);
    return rc;
  }
  *out = calloc(1, sizeof(**out));
  if (!*out)
    abort();
  (*out)->root = root;
  return 0;
}

void l1vh_json_doc_free(struct l1vh_json_doc *doc)
{
  if (!doc)
    return;
  yajl_tree_free(doc->root);
  free(doc);
}

const struct l1vh_json *l1vh_json_root(const struct l1vh_json_doc *doc)
{
  return node_of(doc->root);
}

enum l1vh_json_type l1vh_json_type(const struct l1vh_json *node)
{
  yajl_val v = val(node);

  if (!v)
    return L1VH_JSON_NULL;
  switch (v->type) {
  case yajl_t_string:
    return L1VH_JSON_STRING;
  case yajl_t_number:
    return L1VH_JSON_NUMBER;
  case yajl_t_object:
    return L1VH_JSON_OBJECT;
  case yajl_t_array:
    return L1VH_JSON_ARRAY;
  case yajl_t_true:
  case yajl_t_false:
    return L1VH_JSON_BOOL;
  default:
    return L1VH_JSON_NULL;
  }
}

const char *l1vh_json_type_name(enum l1vh_json_type type)
{
  static const char *const names[] = {
    [L1VH_JSON_NULL] = "null",     [L1VH_JSON_BOOL] = "boolean", [L1VH_JSON_NUMBER] = "number",
    [L1VH_JSON_STRING] = "string", [L1VH_JSON_ARRAY] = "array",  [L1VH_JSON_OBJECT] = "object",
  };
  return names[type];
}

const struct l1vh_json *l1vh_json_member(const struct l1vh_json *node, const char *key)
{
  yajl_val v = val(node);

  if (!v || v->type != yajl_t_object)
    return NULL;
  for (size_t i = 0; i < v->u.object.len; i++)
    if (strcmp(v->u.object.keys[i], key) == 0)
      return node_of(v->u.object.values[i]);
  return NULL;
}

const char *l1vh_json_string(const struct l1vh_json *node)
{
  yajl_val v = val(node);
  return v && v->type == yajl_t_string ? v->u.string : NULL;
}

bool l1vh_json_bool(const struct l1vh_json *node, bool *out)
{
  yajl_val v = val(node);

  if (!v || (v->type != yajl_t_true && v->type != yajl_t_false))
    return false;
  *out = v->type == yajl_t_true;
  return true;
}

bool l1vh_json_int64(const struct l1vh_json *node, int64_t *out)
{
  yajl_val v = val(node);

  /* yajl marks a number that overflowed long long as not "int valid". */
  if (!v || v->type != yajl_t_number || !(v->u.number.flags & YAJL_NUMBER_INT_VALID))
    return false;
  *out = v->u.number.i;
  return true;
}

size_t l1vh_json_len(const struct l1vh_json *node)
{
  yajl_val v = val(node);

  if (v && v->type == yajl_t_array)
    return v->u.array.len;
  if (v && v->type == yajl_t_object)
    return v->u.object.len;
  return 0;
}

const struct l1vh_json *l1vh_json_at(const struct l1vh_json *node, size_t i)
{
  yajl_val v = val(node);

  if (i >= l1vh_json_len(node))
    return NULL;
  return node_of(v->type == yajl_t_array ? v->u.array.values[i] : v->u.object.values[i]);
}

const char *l1vh_json_key_at(const struct l1vh_json *node, size_t i)
{
  yajl_val v = val(node);

  if (!v || v->type != yajl_t_object || i >= v->u.object.len)
    return NULL;
  return v->u.object.keys[i];
}

void l1vh_json_fput_string(const char *s, void *file)
{
  FILE *f = file;

  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}
