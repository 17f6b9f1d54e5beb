/* The shim's JSON editor on a spec a runtime manager (and a pod author's
 * annotations) wrote: parse, write the whole plan in, serialize.  The shim
 * edits only a spec the hook's reader accepts (shim/create.c reads it with
 * l1vh_spec_parse first); what it writes from one must read again, and so
 * must the same spec serialized unedited. */
#define _GNU_SOURCE
#include <sys/sysmacros.h>

#include "edit.h"
#include "fuzz.h"
#include "json.h"
#include "jsonw.h"
#include "plan.h"

static void must_parse(const char *buf, size_t len)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_json_doc *doc = NULL;

  if (l1vh_json_parse(buf, len, &doc, &err) < 0) {
    fprintf(stderr, "the shim wrote what the hook cannot read: %s\n", l1vh_error_msg(&err));
    abort();
  }
  l1vh_json_doc_free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_jw *root = NULL;
  struct l1vh_plan plan;
  char *out = NULL;
  size_t len = 0;
  bool reader_ok;

  {
    struct l1vh_json_doc *doc = NULL;
    reader_ok = l1vh_json_parse((const char *) data, size, &doc, &err) == 0;
    l1vh_json_doc_free(doc);
    l1vh_error_clear(&err);
  }
  if (l1vh_jw_parse((const char *) data, size, &root, &err) < 0) {
    fuzz_check_error(&err);
    l1vh_error_clear(&err);
    return 0;
  }
  /* Unedited: serialized, it still reads (when the original did). */
  if (l1vh_jw_serialize(root, &out, &len, &err) == 0 && reader_ok)
    must_parse(out, len);
  free(out);
  out = NULL;
  l1vh_error_clear(&err);

  memset(&plan, 0, sizeof(plan));
  plan.apply = plan.match = true;
  plan.device.inject = true;
  plan.device.path = "/dev/mshv";
  plan.device.rdev = makedev(10, 123);
  plan.device.uid = plan.device.gid = 107;
  plan.device.mode = 0660;
  plan.memlock.set = true;
  plan.memlock.bytes = 4194304;
  plan.domain.rewrite = size & 1;
  if (l1vh_shim_apply_plan(root, &plan, "/usr/local/bin/l1vh-hook", NULL, &err) == 0 &&
      l1vh_jw_serialize(root, &out, &len, &err) == 0 && reader_ok)
    must_parse(out, len);
  fuzz_check_error(&err);
  l1vh_error_clear(&err);
  free(out);
  l1vh_jw_free(root);
  return 0;
}
