/* l1vh-hook: per-container decision records under the state dir. */
#define _GNU_SOURCE
#include "records.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "io.h"
#include "json.h"

#define RECORD_VERSION 1
/* Temp files older than this belong to a hook that died mid-write. */
#define STALE_TMP_SECONDS 600
/* '@' is not in the id alphabet: no id's record can take this name. */
#define FAILED_PREFIX "failed@"

static const char *const outcome_names[] = {"applied", "fallback", "failed"};

const char *l1vh_outcome_name(enum l1vh_outcome outcome)
{
  return (size_t) outcome < L1VH_ARRAY_SIZE(outcome_names) ? outcome_names[outcome] : "?";
}

/* The id becomes a file name: runc's own id alphabet, no leading dot (our
 * temp files start with one), bounded. */
static int check_id(const char *id, struct l1vh_error *err)
{
  size_t n = id ? strlen(id) : 0;

  if (n == 0 || n > L1VH_RECORD_ID_MAX || id[0] == '.' ||
      strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.") != n)
    return l1vh_error_setx(err, "container id \"%.64s\" cannot name a record file", id ? id : "");
  return 0;
}

/* The state dir: created 0700 when missing; a symlink, or a directory that
 * someone else owns or may write into, is refused (records are read back as
 * root and their names are trusted). */
static int open_dir(const char *dir, bool create, struct l1vh_error *err)
{
  struct stat st;
  int fd;

  if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
    return l1vh_error_set(err, errno, "state dir %s: mkdir", dir);
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return l1vh_error_set(err, errno, "state dir %s: open", dir);
  if (fstat(fd, &st) < 0) {
    l1vh_error_set(err, errno, "state dir %s: stat", dir);
    close(fd);
    return -1;
  }
  if (st.st_uid != geteuid() || (st.st_mode & 022)) {
    l1vh_error_setx(err, "state dir %s: owned by uid %u with mode %04o: expected owner %u, not writable by others",
                    dir, st.st_uid, st.st_mode & 07777, geteuid());
    close(fd);
    return -1;
  }
  return fd;
}

/* A JSON string of at most max bytes of s: control characters and non-ASCII
 * bytes become '?', so a cut never splits a character or an escape. */
static void put_str(FILE *f, const char *s, size_t max)
{
  fputc('"', f);
  for (size_t i = 0; s && s[i] && i < max; i++) {
    unsigned char c = (unsigned char) s[i];
    if (c == '"' || c == '\\')
      fputc('\\', f);
    fputc(c < 0x20 || c >= 0x7f ? '?' : c, f);
  }
  fputc('"', f);
}

static void put_member(FILE *f, const char *key, const char *s, size_t max)
{
  fprintf(f, ",\"%s\":", key);
  put_str(f, s, max);
}

static void put_actions(FILE *f, const struct l1vh_plan *plan, bool applied)
{
  const struct l1vh_device_plan *dev = &plan->device;
  const struct l1vh_memlock_plan *ml = &plan->memlock;
  const struct l1vh_domain_plan *dom = &plan->domain;
  bool on = applied && plan->apply;

  fprintf(f, ",\"device\":{\"applied\":%s", on && (dev->inject || dev->in_spec) ? "true" : "false");
  put_member(f, "path", dev->path, 256);
  put_member(f, "reason", dev->reason, sizeof(dev->reason));
  fprintf(f, "},\"memlock\":{\"applied\":%s", on && ml->set ? "true" : "false");
  if (ml->unlimited)
    fputs(",\"value\":\"unlimited\"", f);
  else
    fprintf(f, ",\"value\":%llu", (unsigned long long) ml->bytes);
  put_member(f, "reason", ml->reason, sizeof(ml->reason));
  fprintf(f, "},\"domain\":{\"applied\":%s", on && dom->rewrite ? "true" : "false");
  put_member(f, "type", dom->type, 32);
  put_member(f, "strategy", l1vh_domain_strategy_name(dom->strategy), 16);
  put_member(f, "reason", dom->reason, sizeof(dom->reason));
  fputc('}', f);
}

/* The record as one line of JSON, at most L1VH_RECORD_MAX_BYTES. */
static int format_record(const struct l1vh_state *st, const struct l1vh_plan *plan,
                         enum l1vh_outcome outcome, const char *detail, char **out, size_t *len,
                         struct l1vh_error *err)
{
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);

  if (!f)
    abort();
  fprintf(f, "{\"version\":%d", RECORD_VERSION);
  put_member(f, "id", st->id, L1VH_RECORD_ID_MAX);
  fprintf(f, ",\"time\":%lld", (long long) time(NULL));
  /* Kubernetes names are at most 253 bytes; anything longer is cut. */
  put_member(f, "container", plan ? plan->container : "", 253);
  put_member(f, "pod", plan ? plan->pod : "", 253);
  put_member(f, "vm", plan ? plan->vm : "", 253);
  put_member(f, "outcome", l1vh_outcome_name(outcome), 16);
  put_member(f, "detail", detail ? detail : "", 512);
  put_member(f, "reason", plan ? plan->reason : "", plan ? sizeof(plan->reason) : 0);
  if (plan)
    put_actions(f, plan, outcome == L1VH_OUTCOME_APPLIED);
  fputs("}\n", f);
  if (fclose(f) != 0) {
    free(buf);
    return l1vh_error_set(err, errno, "format the record");
  }
  /* Every string above is capped; twice their sum stays below the limit. */
  if (size > L1VH_RECORD_MAX_BYTES) {
    free(buf);
    return l1vh_error_setx(err, "record of %zu bytes exceeds %d", size, L1VH_RECORD_MAX_BYTES);
  }
  *out = buf;
  *len = size;
  return 0;
}

L1VH_PRINTF(3, 4)
static int fit(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n < 0 || (size_t) n >= size ? -1 : 0;
}

static bool is_record_name(const char *name)
{
  size_t n = strlen(name);
  return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static bool is_tmp_name(const char *name)
{
  size_t n = strlen(name);
  return name[0] == '.' && n > 4 && strcmp(name + n - 4, ".tmp") == 0;
}

struct entry {
  char *name;
  struct timespec mtime;
};

static int by_mtime(const void *a, const void *b)
{
  const struct entry *x = a, *y = b;
  if (x->mtime.tv_sec != y->mtime.tv_sec)
    return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
  if (x->mtime.tv_nsec != y->mtime.tv_nsec)
    return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Keep at most L1VH_RECORDS_MAX records (the oldest go first) and drop the
 * temp files of hooks that died mid-write.  Hooks prune concurrently: a
 * file another hook removed first is simply gone (ENOENT). */
static void prune(int dirfd, const char *keep)
{
  cleanup_close int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  struct entry *ents = NULL;
  size_t n = 0, alloc = 0;
  struct dirent *de;
  time_t now = time(NULL);

  if (!d)
    return;
  fd = -1; /* owned by d now */
  while ((de = readdir(d))) {
    struct stat st;

    if (!is_record_name(de->d_name) && !is_tmp_name(de->d_name))
      continue;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (is_tmp_name(de->d_name)) {
      if (now - st.st_mtime > STALE_TMP_SECONDS)
        unlinkat(dirfd, de->d_name, 0);
      continue;
    }
    if (strncmp(de->d_name, FAILED_PREFIX, strlen(FAILED_PREFIX)) == 0 &&
        now - st.st_mtime > L1VH_FAILED_RECORD_TTL) {
      unlinkat(dirfd, de->d_name, 0);
      continue;
    }
    if (strcmp(de->d_name, keep) == 0)
      continue;
    if (n == alloc) {
      alloc = alloc ? 2 * alloc : 64;
      ents = realloc(ents, alloc * sizeof(*ents));
      if (!ents)
        abort();
    }
    ents[n].name = strdup(de->d_name);
    if (!ents[n].name)
      abort();
    ents[n++].mtime = st.st_mtim;
  }
  closedir(d);
  /* n counts the others: the record just written is the +1. */
  if (n + 1 > L1VH_RECORDS_MAX) {
    qsort(ents, n, sizeof(*ents), by_mtime);
    for (size_t i = 0; i < n + 1 - L1VH_RECORDS_MAX; i++)
      unlinkat(dirfd, ents[i].name, 0);
  }
  for (size_t i = 0; i < n; i++)
    free(ents[i].name);
  free(ents);
}

int l1vh_record_write(const char *dir, const struct l1vh_state *st, const struct l1vh_plan *plan,
                      enum l1vh_outcome outcome, const char *detail, struct l1vh_error *err)
{
  cleanup_free char *buf = NULL;
  cleanup_close int dirfd = -1;
  cleanup_close int fd = -1;
  char name[L1VH_RECORD_ID_MAX + 16], tmp[L1VH_RECORD_ID_MAX + 40];
  size_t len = 0;

  if (check_id(st->id, err) < 0)
    return -1;
  if (format_record(st, plan, outcome, detail, &buf, &len, err) < 0)
    return -1;
  if (fit(name, sizeof(name), "%s%s.json", outcome == L1VH_OUTCOME_FAILED ? FAILED_PREFIX : "",
          st->id) < 0 ||
      fit(tmp, sizeof(tmp), ".%s.%ld.tmp", st->id, (long) getpid()) < 0)
    return l1vh_error_setx(err, "record name for %s too long", st->id);
  if ((dirfd = open_dir(dir, true, err)) < 0)
    return -1;
  fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return l1vh_error_set(err, errno, "record %s/%s: create", dir, tmp);
  if (fchmod(fd, 0600) < 0 || l1vh_write_all(fd, buf, len) < 0) {
    l1vh_error_set(err, errno, "record %s/%s: write", dir, tmp);
    unlinkat(dirfd, tmp, 0);
    return -1;
  }
  if (close(fd) < 0) {
    fd = -1;
    l1vh_error_set(err, errno, "record %s/%s: write", dir, tmp);
    unlinkat(dirfd, tmp, 0);
    return -1;
  }
  fd = -1;
  if (renameat(dirfd, tmp, dirfd, name) < 0) {
    l1vh_error_set(err, errno, "record %s/%s: rename to %s", dir, tmp, name);
    unlinkat(dirfd, tmp, 0);
    return -1;
  }
  prune(dirfd, name);
  return 0;
}

int l1vh_record_remove(const char *dir, const char *id, struct l1vh_error *err)
{
  cleanup_close int dirfd = -1;
  char name[L1VH_RECORD_ID_MAX + 8];

  if (check_id(id, err) < 0)
    return -1;
  if (fit(name, sizeof(name), "%s.json", id) < 0)
    return l1vh_error_setx(err, "record name for %s too long", id);
  dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0 && errno == ENOENT)
    return 0;
  if (dirfd < 0)
    return l1vh_error_set(err, errno, "state dir %s: open", dir);
  if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
    return l1vh_error_set(err, errno, "record %s/%s: remove", dir, name);
  return 0;
}

/* ---- reading back ---- */

static char *dup_member(const struct l1vh_json *obj, const char *key)
{
  const char *s = l1vh_json_string(l1vh_json_member(obj, key));
  char *d = strdup(s ? s : "");
  if (!d)
    abort();
  return d;
}

static bool bool_member(const struct l1vh_json *obj, const char *key)
{
  bool b = false;
  l1vh_json_bool(l1vh_json_member(obj, key), &b);
  return b;
}

static int parse_record(const char *buf, size_t len, struct l1vh_record *rec,
                        struct l1vh_error *err)
{
  cleanup_json_doc struct l1vh_json_doc *doc = NULL;
  const struct l1vh_json *root, *dev, *ml, *dom, *v;
  int64_t version = 0, n;
  char num[32];

  if (l1vh_json_parse(buf, len, &doc, err) < 0)
    return -1;
  root = l1vh_json_root(doc);
  if (l1vh_json_type(root) != L1VH_JSON_OBJECT ||
      !l1vh_json_int64(l1vh_json_member(root, "version"), &version) || version != RECORD_VERSION ||
      !l1vh_json_string(l1vh_json_member(root, "id")) ||
      !l1vh_json_int64(l1vh_json_member(root, "time"), &rec->time))
    return l1vh_error_setx(err, "not a version %d record", RECORD_VERSION);
  rec->id = dup_member(root, "id");
  rec->container = dup_member(root, "container");
  rec->pod = dup_member(root, "pod");
  rec->vm = dup_member(root, "vm");
  rec->outcome = dup_member(root, "outcome");
  rec->detail = dup_member(root, "detail");
  rec->reason = dup_member(root, "reason");
  dev = l1vh_json_member(root, "device");
  ml = l1vh_json_member(root, "memlock");
  dom = l1vh_json_member(root, "domain");
  rec->device = bool_member(dev, "applied");
  rec->memlock = bool_member(ml, "applied");
  rec->domain = bool_member(dom, "applied");
  rec->device_path = dup_member(dev, "path");
  rec->domain_type = dup_member(dom, "type");
  rec->domain_strategy = dup_member(dom, "strategy");
  v = l1vh_json_member(ml, "value");
  if (l1vh_json_int64(v, &n) && fit(num, sizeof(num), "%lld", (long long) n) == 0)
    rec->memlock_value = strdup(num);
  else
    rec->memlock_value = strdup(l1vh_json_string(v) ? l1vh_json_string(v) : "");
  if (!rec->memlock_value)
    abort();
  return 0;
}

static void record_free(struct l1vh_record *r)
{
  free(r->id);
  free(r->container);
  free(r->pod);
  free(r->vm);
  free(r->outcome);
  free(r->detail);
  free(r->reason);
  free(r->device_path);
  free(r->memlock_value);
  free(r->domain_type);
  free(r->domain_strategy);
}

void l1vh_records_free(struct l1vh_record *recs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    record_free(&recs[i]);
  free(recs);
}

static int by_time(const void *a, const void *b)
{
  const struct l1vh_record *x = a, *y = b;
  if (x->time != y->time)
    return x->time < y->time ? -1 : 1;
  return strcmp(x->id, y->id);
}

static int record_filter(const struct dirent *de)
{
  return is_record_name(de->d_name);
}

int l1vh_records_read(const char *dir, struct l1vh_record **out, size_t *n,
                      l1vh_records_report_fn report, void *ctx, struct l1vh_error *err)
{
  cleanup_close int dirfd = -1;
  struct dirent **names = NULL;
  struct l1vh_record *recs = NULL;
  size_t count = 0;
  int m;

  *out = NULL;
  *n = 0;
  dirfd = open_dir(dir, false, err);
  if (dirfd < 0)
    return err->code == ENOENT ? (l1vh_error_clear(err), 0) : -1;
  m = scandirat(dirfd, ".", &names, record_filter, alphasort);
  if (m < 0)
    return l1vh_error_set(err, errno, "state dir %s: read", dir);
  recs = calloc((size_t) m + 1, sizeof(*recs));
  if (!recs)
    abort();
  for (int i = 0; i < m; i++) {
    struct l1vh_error e = L1VH_ERROR_INIT;
    cleanup_free char *buf = NULL;
    size_t len;

    /* A record removed between the listing and the read is just gone. */
    if (l1vh_read_file_capped(dirfd, names[i]->d_name, 2 * L1VH_RECORD_MAX_BYTES, &buf, &len,
                              &e) < 0) {
      if (e.code != ENOENT && report)
        report(ctx, l1vh_error_msg(&e));
    } else if (parse_record(buf, len, &recs[count], &e) < 0) {
      record_free(&recs[count]);
      memset(&recs[count], 0, sizeof(recs[count]));
      if (report) {
        l1vh_error_wrap(&e, "%s/%s", dir, names[i]->d_name);
        report(ctx, l1vh_error_msg(&e));
      }
    } else {
      count++;
    }
    l1vh_error_clear(&e);
    free(names[i]);
  }
  free(names);
  qsort(recs, count, sizeof(*recs), by_time);
  *out = recs;
  *n = count;
  return 0;
}
