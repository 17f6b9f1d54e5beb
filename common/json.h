/* l1vh: all JSON access goes through here (yajl today; keep it swappable).
 *
 * Look-ups are typed: a member of the wrong type reads as absent to the
 * typed getters, and callers that care about "present but wrong" ask for
 * the type explicitly and say what they expected. */
#ifndef L1VH_JSON_H
#define L1VH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Nesting deeper than this is refused before parsing: no input the hook
 * reads legitimately comes close, and a parser or a recursive free must not
 * be handed an unbounded depth by a pod author. */
#define L1VH_JSON_MAX_DEPTH 64
/* So is a document of more values than this.  yajl's tree costs some 50
 * bytes a value and grows an array one element at a time: 8 MiB of "0,"
 * would be 4 million values, 380 MB and 1.5 s of a hook's life.  A real
 * spec has a few thousand. */
#define L1VH_JSON_MAX_VALUES 100000

enum l1vh_json_type {
  L1VH_JSON_NULL,
  L1VH_JSON_BOOL,
  L1VH_JSON_NUMBER,
  L1VH_JSON_STRING,
  L1VH_JSON_ARRAY,
  L1VH_JSON_OBJECT,
};

struct l1vh_json;     /* a node of a parsed document */
struct l1vh_json_doc; /* owns every node */

int l1vh_json_parse(const char *buf, size_t len, struct l1vh_json_doc **out,
                    struct l1vh_error *err);
void l1vh_json_doc_free(struct l1vh_json_doc *doc);
const struct l1vh_json *l1vh_json_root(const struct l1vh_json_doc *doc);

enum l1vh_json_type l1vh_json_type(const struct l1vh_json *node);
const char *l1vh_json_type_name(enum l1vh_json_type type);

/* Member of an object; NULL when node is not an object or has no such key
 * (with duplicate keys, the first one wins). */
const struct l1vh_json *l1vh_json_member(const struct l1vh_json *node, const char *key);
/* Typed reads: false / NULL when node is NULL or of another type. */
const char *l1vh_json_string(const struct l1vh_json *node);
bool l1vh_json_bool(const struct l1vh_json *node, bool *out);
bool l1vh_json_int64(const struct l1vh_json *node, int64_t *out); /* integers only */
/* Arrays and objects: element count, element / member value, member key. */
size_t l1vh_json_len(const struct l1vh_json *node);
const struct l1vh_json *l1vh_json_at(const struct l1vh_json *node, size_t i);
const char *l1vh_json_key_at(const struct l1vh_json *node, size_t i);

/* Write s as a JSON string literal (quotes included) to f. */
void l1vh_json_fput_string(const char *s, void *file);

static inline void l1vh_json_doc_freep(struct l1vh_json_doc **doc)
{
  if (*doc)
    l1vh_json_doc_free(*doc);
}
#define cleanup_json_doc __attribute__((cleanup(l1vh_json_doc_freep)))

#endif
