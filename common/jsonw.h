/* l1vh: an editable JSON document, for writing a bundle's config.json back.
 *
 * The shim adds a few entries to a spec that a runtime manager wrote and
 * must hand everything else to the runtime as it was: members keep their
 * order, numbers keep their literal text (uint64 limits, floats), strings
 * keep every byte.  Only this file and common/json.c know about yajl.
 *
 * Objects the editor looks into must not hold a key twice: Go's
 * encoding/json (runc, containerd) takes the last duplicate, l1vh's reader
 * the first, so an edit of one of them could be silently lost. */
#ifndef L1VH_JSONW_H
#define L1VH_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json.h"

struct l1vh_jw; /* one node; a document is its root node */

/* Parse a whole document (nesting capped at L1VH_JSON_MAX_DEPTH). */
int l1vh_jw_parse(const char *buf, size_t len, struct l1vh_jw **out, struct l1vh_error *err);
/* Compact JSON text of node; *out is NUL-terminated, owned by the caller. */
int l1vh_jw_serialize(const struct l1vh_jw *node, char **out, size_t *len,
                      struct l1vh_error *err);
void l1vh_jw_free(struct l1vh_jw *node);

enum l1vh_json_type l1vh_jw_type(const struct l1vh_jw *node);
/* Arrays and objects: element count, element, member key (NULL for arrays). */
size_t l1vh_jw_len(const struct l1vh_jw *node);
struct l1vh_jw *l1vh_jw_at(const struct l1vh_jw *node, size_t i);
const char *l1vh_jw_key_at(const struct l1vh_jw *node, size_t i);
/* Typed reads: NULL / false for another type.  A string holding a NUL byte
 * reads as NULL: no caller compares such a value. */
const char *l1vh_jw_string(const struct l1vh_jw *node);
bool l1vh_jw_int64(const struct l1vh_jw *node, int64_t *out);

/* Member of an object: *out is NULL when absent; fails when obj is not an
 * object or holds key more than once.  where names obj in messages. */
int l1vh_jw_member(struct l1vh_jw *obj, const char *key, const char *where, struct l1vh_jw **out,
                   struct l1vh_error *err);
/* The member as an object / array, appended empty when absent; fails when
 * it is present with another type (null counts as absent and is replaced). */
int l1vh_jw_member_object(struct l1vh_jw *obj, const char *key, const char *where,
                          struct l1vh_jw **out, struct l1vh_error *err);
int l1vh_jw_member_array(struct l1vh_jw *obj, const char *key, const char *where,
                         struct l1vh_jw **out, struct l1vh_error *err);

/* Editing; value is owned by the container afterwards.  set replaces the
 * member (first of duplicates) in place or appends it. */
void l1vh_jw_set(struct l1vh_jw *obj, const char *key, struct l1vh_jw *value);
void l1vh_jw_append(struct l1vh_jw *arr, struct l1vh_jw *value);
void l1vh_jw_remove_at(struct l1vh_jw *node, size_t i);

struct l1vh_jw *l1vh_jw_new_object(void);
struct l1vh_jw *l1vh_jw_new_array(void);
struct l1vh_jw *l1vh_jw_new_string(const char *s);
struct l1vh_jw *l1vh_jw_new_int(int64_t n);
struct l1vh_jw *l1vh_jw_new_uint(uint64_t n);
struct l1vh_jw *l1vh_jw_new_bool(bool b);
/* An array of n strings. */
struct l1vh_jw *l1vh_jw_new_strings(const char *const *v, size_t n);

static inline void l1vh_jw_freep(struct l1vh_jw **node)
{
  if (*node)
    l1vh_jw_free(*node);
}
#define cleanup_jw __attribute__((cleanup(l1vh_jw_freep)))

#endif
