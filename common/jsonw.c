#include "jsonw.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl_gen.h>
#include <yajl_parse.h>

/* Strings and number literals keep their length: a JSON string may hold
 * "\u0000", and it must come back out as it went in. */
struct jw_str {
  char *s;
  size_t len;
};

struct l1vh_jw {
  enum l1vh_json_type type;
  bool b;
  struct jw_str text;   /* string value, or the number's literal */
  struct l1vh_jw **items;
  struct jw_str *keys;  /* objects only, parallel to items */
  size_t n, cap;
};

static struct jw_str str_dup(const char *s, size_t len)
{
  struct jw_str out = {l1vh_xmalloc(len + 1), len};
  memcpy(out.s, s, len);
  out.s[len] = '\0';
  return out;
}

static struct l1vh_jw *node_new(enum l1vh_json_type type)
{
  struct l1vh_jw *n = calloc(1, sizeof(*n));
  if (!n)
    abort();
  n->type = type;
  return n;
}

void l1vh_jw_free(struct l1vh_jw *node)
{
  if (!node)
    return;
  for (size_t i = 0; i < node->n; i++) {
    l1vh_jw_free(node->items[i]);
    if (node->keys)
      free(node->keys[i].s);
  }
  free(node->items);
  free(node->keys);
  free(node->text.s);
  free(node);
}

/* Append an item (and for objects its key, taken over). */
static void push(struct l1vh_jw *c, struct jw_str key, struct l1vh_jw *item)
{
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 4;
    struct l1vh_jw **items = realloc(c->items, cap * sizeof(*items));
    if (!items)
      abort();
    c->items = items;
    if (c->type == L1VH_JSON_OBJECT) {
      struct jw_str *keys = realloc(c->keys, cap * sizeof(*keys));
      if (!keys)
        abort();
      c->keys = keys;
    }
    c->cap = cap;
  }
  if (c->type == L1VH_JSON_OBJECT)
    c->keys[c->n] = key;
  c->items[c->n++] = item;
}

/* ---- parsing: yajl's event parser builds the tree without recursion ---- */

struct builder {
  struct l1vh_jw *root;
  struct l1vh_jw *stack[L1VH_JSON_MAX_DEPTH];
  size_t depth;
  struct jw_str key; /* the pending member key */
  bool too_deep;
};

static int add(struct builder *b, struct l1vh_jw *node)
{
  struct l1vh_jw *top = b->depth ? b->stack[b->depth - 1] : NULL;

  if (!top) {
    b->root = node;
  } else {
    push(top, b->key, node);
    b->key.s = NULL;
  }
  if (node->type == L1VH_JSON_OBJECT || node->type == L1VH_JSON_ARRAY) {
    if (b->depth == L1VH_JSON_MAX_DEPTH) {
      b->too_deep = true;
      return 0; /* node is in the tree already: freed with it */
    }
    b->stack[b->depth++] = node;
  }
  return 1;
}

static int on_null(void *ctx)
{
  return add(ctx, node_new(L1VH_JSON_NULL));
}

static int on_bool(void *ctx, int v)
{
  struct l1vh_jw *n = node_new(L1VH_JSON_BOOL);
  n->b = v != 0;
  return add(ctx, n);
}

static int on_number(void *ctx, const char *s, size_t len)
{
  struct l1vh_jw *n = node_new(L1VH_JSON_NUMBER);
  n->text = str_dup(s, len);
  return add(ctx, n);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
  struct l1vh_jw *n = node_new(L1VH_JSON_STRING);
  n->text = str_dup((const char *) s, len);
  return add(ctx, n);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
  struct builder *b = ctx;
  free(b->key.s);
  b->key = str_dup((const char *) s, len);
  return 1;
}

static int on_start_map(void *ctx)
{
  return add(ctx, node_new(L1VH_JSON_OBJECT));
}

static int on_start_array(void *ctx)
{
  return add(ctx, node_new(L1VH_JSON_ARRAY));
}

static int on_end(void *ctx)
{
  struct builder *b = ctx;
  b->depth--;
  return 1;
}

static const yajl_callbacks callbacks = {
  .yajl_null = on_null,
  .yajl_boolean = on_bool,
  .yajl_number = on_number, /* the literal: no int/double conversion */
  .yajl_string = on_string,
  .yajl_start_map = on_start_map,
  .yajl_map_key = on_key,
  .yajl_end_map = on_end,
  .yajl_start_array = on_start_array,
  .yajl_end_array = on_end,
};

int l1vh_jw_parse(const char *buf, size_t len, struct l1vh_jw **out, struct l1vh_error *err)
{
  struct builder b = {0};
  yajl_handle h = yajl_alloc(&callbacks, NULL, &b);
  yajl_status st;

  if (!h)
    abort();
  st = yajl_parse(h, (const unsigned char *) buf, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  if (st != yajl_status_ok || !b.root) {
    if (b.too_deep)
      l1vh_error_setx(err, "JSON nested deeper than %d levels", L1VH_JSON_MAX_DEPTH);
    else {
      unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
      l1vh_error_setx(err, "invalid JSON: %s", msg ? (const char *) msg : "parse error");
      if (msg)
        yajl_free_error(h, msg);
    }
    yajl_free(h);
    free(b.key.s);
    l1vh_jw_free(b.root);
    return -1;
  }
  yajl_free(h);
  free(b.key.s);
  *out = b.root;
  return 0;
}

/* ---- writing ---- */

static int gen(yajl_gen g, const struct l1vh_jw *n)
{
  switch (n->type) {
  case L1VH_JSON_NULL:
    return yajl_gen_null(g);
  case L1VH_JSON_BOOL:
    return yajl_gen_bool(g, n->b);
  case L1VH_JSON_NUMBER:
    return yajl_gen_number(g, n->text.s, n->text.len);
  case L1VH_JSON_STRING:
    return yajl_gen_string(g, (const unsigned char *) n->text.s, n->text.len);
  case L1VH_JSON_ARRAY:
  case L1VH_JSON_OBJECT: {
    bool obj = n->type == L1VH_JSON_OBJECT;
    yajl_gen_status st = obj ? yajl_gen_map_open(g) : yajl_gen_array_open(g);
    for (size_t i = 0; st == yajl_gen_status_ok && i < n->n; i++) {
      if (obj)
        st = yajl_gen_string(g, (const unsigned char *) n->keys[i].s, n->keys[i].len);
      if (st == yajl_gen_status_ok)
        st = gen(g, n->items[i]);
    }
    if (st != yajl_gen_status_ok)
      return st;
    return obj ? yajl_gen_map_close(g) : yajl_gen_array_close(g);
  }
  }
  return yajl_gen_invalid_string;
}

int l1vh_jw_serialize(const struct l1vh_jw *node, char **out, size_t *len,
                      struct l1vh_error *err)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  const unsigned char *text;
  size_t text_len;
  int st;

  if (!g)
    abort();
  st = gen(g, node);
  if (st != yajl_gen_status_ok) {
    yajl_gen_free(g);
    return l1vh_error_setx(err, "write JSON: generator error %d", st);
  }
  yajl_gen_get_buf(g, &text, &text_len);
  *out = str_dup((const char *) text, text_len).s;
  *len = text_len;
  yajl_gen_free(g);
  return 0;
}

/* ---- reading and editing ---- */

enum l1vh_json_type l1vh_jw_type(const struct l1vh_jw *node)
{
  return node ? node->type : L1VH_JSON_NULL;
}

size_t l1vh_jw_len(const struct l1vh_jw *node)
{
  return node && (node->type == L1VH_JSON_ARRAY || node->type == L1VH_JSON_OBJECT) ? node->n : 0;
}

struct l1vh_jw *l1vh_jw_at(const struct l1vh_jw *node, size_t i)
{
  return i < l1vh_jw_len(node) ? node->items[i] : NULL;
}

const char *l1vh_jw_key_at(const struct l1vh_jw *node, size_t i)
{
  if (!node || node->type != L1VH_JSON_OBJECT || i >= node->n)
    return NULL;
  return node->keys[i].s;
}

const char *l1vh_jw_string(const struct l1vh_jw *node)
{
  if (!node || node->type != L1VH_JSON_STRING || strlen(node->text.s) != node->text.len)
    return NULL;
  return node->text.s;
}

bool l1vh_jw_int64(const struct l1vh_jw *node, int64_t *out)
{
  char *end;
  long long v;

  if (!node || node->type != L1VH_JSON_NUMBER || strpbrk(node->text.s, ".eE"))
    return false;
  errno = 0;
  v = strtoll(node->text.s, &end, 10);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

static bool key_is(const struct jw_str *k, const char *key, size_t len)
{
  return k->len == len && memcmp(k->s, key, len) == 0;
}

/* Index of key, or -1 when absent; -2 when it occurs twice. */
static long find(const struct l1vh_jw *obj, const char *key)
{
  size_t len = strlen(key);
  long found = -1;

  for (size_t i = 0; i < obj->n; i++) {
    if (!key_is(&obj->keys[i], key, len))
      continue;
    if (found >= 0)
      return -2;
    found = (long) i;
  }
  return found;
}

int l1vh_jw_member(struct l1vh_jw *obj, const char *key, const char *where, struct l1vh_jw **out,
                   struct l1vh_error *err)
{
  long i;

  *out = NULL;
  if (!obj || obj->type != L1VH_JSON_OBJECT)
    return l1vh_error_setx(err, "%s: expected an object, got %s", where,
                           l1vh_json_type_name(l1vh_jw_type(obj)));
  i = find(obj, key);
  if (i == -2)
    return l1vh_error_setx(err, "%s: key \"%s\" occurs more than once", where, key);
  if (i >= 0)
    *out = obj->items[i];
  return 0;
}

static int member_of_type(struct l1vh_jw *obj, const char *key, const char *where,
                          enum l1vh_json_type type, struct l1vh_jw **out, struct l1vh_error *err)
{
  struct l1vh_jw *m;

  if (l1vh_jw_member(obj, key, where, &m, err) < 0)
    return -1;
  if (m && m->type == type) {
    *out = m;
    return 0;
  }
  if (m && m->type != L1VH_JSON_NULL)
    return l1vh_error_setx(err, "%s.%s: expected an %s, got %s", where, key,
                           l1vh_json_type_name(type), l1vh_json_type_name(m->type));
  *out = node_new(type);
  l1vh_jw_set(obj, key, *out);
  return 0;
}

int l1vh_jw_member_object(struct l1vh_jw *obj, const char *key, const char *where,
                          struct l1vh_jw **out, struct l1vh_error *err)
{
  return member_of_type(obj, key, where, L1VH_JSON_OBJECT, out, err);
}

int l1vh_jw_member_array(struct l1vh_jw *obj, const char *key, const char *where,
                         struct l1vh_jw **out, struct l1vh_error *err)
{
  return member_of_type(obj, key, where, L1VH_JSON_ARRAY, out, err);
}

void l1vh_jw_set(struct l1vh_jw *obj, const char *key, struct l1vh_jw *value)
{
  size_t len = strlen(key);

  for (size_t i = 0; i < obj->n; i++)
    if (key_is(&obj->keys[i], key, len)) {
      l1vh_jw_free(obj->items[i]);
      obj->items[i] = value;
      return;
    }
  push(obj, str_dup(key, len), value);
}

void l1vh_jw_append(struct l1vh_jw *arr, struct l1vh_jw *value)
{
  struct jw_str none = {NULL, 0};
  push(arr, none, value);
}

void l1vh_jw_remove_at(struct l1vh_jw *node, size_t i)
{
  if (i >= l1vh_jw_len(node))
    return;
  l1vh_jw_free(node->items[i]);
  memmove(&node->items[i], &node->items[i + 1], (node->n - i - 1) * sizeof(*node->items));
  if (node->type == L1VH_JSON_OBJECT) {
    free(node->keys[i].s);
    memmove(&node->keys[i], &node->keys[i + 1], (node->n - i - 1) * sizeof(*node->keys));
  }
  node->n--;
}

struct l1vh_jw *l1vh_jw_new_object(void)
{
  return node_new(L1VH_JSON_OBJECT);
}

struct l1vh_jw *l1vh_jw_new_array(void)
{
  return node_new(L1VH_JSON_ARRAY);
}

struct l1vh_jw *l1vh_jw_new_string(const char *s)
{
  struct l1vh_jw *n = node_new(L1VH_JSON_STRING);
  n->text = str_dup(s, strlen(s));
  return n;
}

static struct l1vh_jw *number(const char *fmt, ...) L1VH_PRINTF(1, 2);
static struct l1vh_jw *number(const char *fmt, ...)
{
  struct l1vh_jw *n = node_new(L1VH_JSON_NUMBER);
  char buf[32];
  va_list ap;
  int len;

  va_start(ap, fmt);
  len = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (len < 0 || (size_t) len >= sizeof(buf))
    abort(); /* a 64-bit integer always fits */
  n->text = str_dup(buf, (size_t) len);
  return n;
}

struct l1vh_jw *l1vh_jw_new_int(int64_t v)
{
  return number("%" PRId64, v);
}

struct l1vh_jw *l1vh_jw_new_uint(uint64_t v)
{
  return number("%" PRIu64, v);
}

struct l1vh_jw *l1vh_jw_new_bool(bool b)
{
  struct l1vh_jw *n = node_new(L1VH_JSON_BOOL);
  n->b = b;
  return n;
}

struct l1vh_jw *l1vh_jw_new_strings(const char *const *v, size_t n)
{
  struct l1vh_jw *arr = node_new(L1VH_JSON_ARRAY);
  for (size_t i = 0; i < n; i++)
    l1vh_jw_append(arr, l1vh_jw_new_string(v[i]));
  return arr;
}
