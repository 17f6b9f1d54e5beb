/* common/jsonw: the spec editor keeps what it does not touch. */
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "jsonw.h"
#include "unit.h"

static char *roundtrip(const char *in, struct l1vh_error *err)
{
  struct l1vh_jw *root;
  char *out;
  size_t len;

  if (l1vh_jw_parse(in, strlen(in), &root, err) < 0)
    return NULL;
  if (l1vh_jw_serialize(root, &out, &len, err) < 0)
    out = NULL;
  l1vh_jw_free(root);
  return out;
}

L1VH_TEST(shim_jsonw_roundtrip_is_exact)
{
  /* Compact input comes back byte for byte: member order, duplicate-free
   * unknown members, number literals beyond int64 and floats, escapes,
   * UTF-8, an embedded NUL, empty containers, null. */
  static const char *docs[] = {
    "{\"z\":1,\"a\":{\"y\":[1,2.5,-3e+10,18446744073709551615,0.000001]},\"m\":null,\"t\":true,"
    "\"f\":false}",
    "{\"s\":\"tab\\there \\\"q\\\" back\\\\slash \\u0001 nul\\u0000end\",\"u\":\"h\xc3\xa9llo "
    "\xe2\x82\xac\",\"e\":{},\"l\":[]}",
    "[1,[2,[3,{\"k\":\"v\"}]]]",
    "\"just a string\"",
  };
  struct l1vh_error err = L1VH_ERROR_INIT;

  for (size_t i = 0; i < L1VH_ARRAY_SIZE(docs); i++) {
    char *out = roundtrip(docs[i], &err);
    CHECK(out);
    CHECK_STR(out, docs[i]);
    free(out);
  }
  return UNIT_PASS;
}

L1VH_TEST(shim_jsonw_whitespace_is_dropped_only)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *out = roundtrip("{\n  \"b\" : [ 1 , 2 ],\n  \"a\" : \"x\"\n}\n", &err);

  CHECK(out);
  CHECK_STR(out, "{\"b\":[1,2],\"a\":\"x\"}");
  free(out);
  return UNIT_PASS;
}

L1VH_TEST(shim_jsonw_bad_input)
{
  static const char *bad[] = {"{", "{\"a\":1,}", "[1] [2]", "{\"a\":\xff}", "", "nul"};
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_jw *root = NULL;
  char deep[200];

  for (size_t i = 0; i < L1VH_ARRAY_SIZE(bad); i++) {
    CHECK(l1vh_jw_parse(bad[i], strlen(bad[i]), &root, &err) < 0);
    CHECK_HAS(l1vh_error_msg(&err), "invalid JSON");
    l1vh_error_clear(&err);
  }
  /* deeper than L1VH_JSON_MAX_DEPTH */
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  CHECK(l1vh_jw_parse(deep, sizeof(deep), &root, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "nested deeper than");
  l1vh_error_clear(&err);
  memset(deep, '[', 64);
  memset(deep + 64, ']', 64);
  CHECK(l1vh_jw_parse(deep, 128, &root, &err) == 0);
  l1vh_jw_free(root);
  return UNIT_PASS;
}

L1VH_TEST(shim_jsonw_edit)
{
  static const char in[] = "{\"ociVersion\":\"1.0.2\",\"linux\":{\"x\":1},\"hooks\":null,"
                           "\"process\":{\"args\":[\"sh\"]}}";
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_jw struct l1vh_jw *root = NULL;
  struct l1vh_jw *linux_, *devices, *hooks, *m;
  cleanup_free char *out = NULL;
  size_t len;

  CHECK(l1vh_jw_parse(in, strlen(in), &root, &err) == 0);
  /* present object, absent array appended at the end, null replaced in place */
  CHECK(l1vh_jw_member_object(root, "linux", "config.json", &linux_, &err) == 0);
  CHECK(l1vh_jw_member_array(linux_, "devices", "linux", &devices, &err) == 0);
  l1vh_jw_append(devices, l1vh_jw_new_int(-7));
  l1vh_jw_append(devices, l1vh_jw_new_uint(UINT64_MAX));
  CHECK(l1vh_jw_member_object(root, "hooks", "config.json", &hooks, &err) == 0);
  l1vh_jw_set(hooks, "prestart", l1vh_jw_new_strings((const char *[]){"a", "b\"c"}, 2));
  l1vh_jw_set(root, "ociVersion", l1vh_jw_new_string("1.0.3"));
  CHECK(l1vh_jw_serialize(root, &out, &len, &err) == 0);
  CHECK(len == strlen(out));
  CHECK_STR(out, "{\"ociVersion\":\"1.0.3\",\"linux\":{\"x\":1,\"devices\":[-7,"
                 "18446744073709551615]},\"hooks\":{\"prestart\":[\"a\",\"b\\\"c\"]},"
                 "\"process\":{\"args\":[\"sh\"]}}");

  /* a member of the wrong type is refused, not replaced */
  CHECK(l1vh_jw_member_array(root, "process", "config.json", &m, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "config.json.process: expected an array, got object");
  l1vh_error_clear(&err);
  /* removal */
  CHECK(l1vh_jw_member(root, "linux", "config.json", &m, &err) == 0 && m == linux_);
  l1vh_jw_remove_at(linux_, 0);
  CHECK(l1vh_jw_len(linux_) == 1);
  CHECK_STR(l1vh_jw_key_at(linux_, 0), "devices");
  return UNIT_PASS;
}

L1VH_TEST(shim_jsonw_duplicate_keys_refused)
{
  /* Go takes the last duplicate, l1vh's reader the first: an edit of
   * either could be lost, so the editor refuses to pick. */
  static const char in[] = "{\"linux\":{\"devices\":[]},\"linux\":{}}";
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_jw struct l1vh_jw *root = NULL;
  struct l1vh_jw *m;

  CHECK(l1vh_jw_parse(in, strlen(in), &root, &err) == 0);
  CHECK(l1vh_jw_member_object(root, "linux", "config.json", &m, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "key \"linux\" occurs more than once");
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

L1VH_TEST(shim_jsonw_typed_reads)
{
  static const char in[] = "{\"i\":-42,\"f\":1.5,\"big\":18446744073709551615,\"s\":\"x\","
                           "\"n\":\"a\\u0000b\"}";
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_jw struct l1vh_jw *root = NULL;
  struct l1vh_jw *m;
  int64_t v;

  CHECK(l1vh_jw_parse(in, strlen(in), &root, &err) == 0);
  CHECK(l1vh_jw_member(root, "i", "t", &m, &err) == 0 && l1vh_jw_int64(m, &v) && v == -42);
  CHECK(l1vh_jw_member(root, "f", "t", &m, &err) == 0 && !l1vh_jw_int64(m, &v));
  CHECK(l1vh_jw_member(root, "big", "t", &m, &err) == 0 && !l1vh_jw_int64(m, &v));
  CHECK(l1vh_jw_member(root, "s", "t", &m, &err) == 0);
  CHECK_STR(l1vh_jw_string(m), "x");
  CHECK(l1vh_jw_member(root, "n", "t", &m, &err) == 0 && l1vh_jw_string(m) == NULL);
  CHECK(l1vh_jw_member(root, "absent", "t", &m, &err) == 0 && m == NULL);
  return UNIT_PASS;
}
