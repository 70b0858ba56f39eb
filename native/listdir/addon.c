// A Node-API addon that lists one stage folder of a FIB-SEM tab (~120,000 files) for the tab check
// (src/inventory/stage-folder.ts loads it; without it the check lists with fs.readdir):
//
//   listCores(dir, suffix) -> Promise<string>    on libuv's thread pool
//
// The string holds the "core" of every entry of `dir` that is not a folder and whose name ends
// with `suffix` (the name less the suffix), each followed by a NUL (no file name has one), sorted
// by byte. fs.readdir costs more than twice the kernel's own time on such a folder: libuv's
// scandir() allocates every entry, sorts it with qsort and strcmp and hands it to the main thread,
// which makes a string of each name and frees it. Here the kernel's getdents64 records are read
// into one buffer, the cores are sorted in place and copied into one string: the main thread never
// sees 120,000 names.
//
// What counts is what `fs.readdir(dir, {withFileTypes: true})` less its folders gives: a symlink
// is not a folder (symlinked tiles count), and where the filesystem gives no type, lstat decides.
// A failure rejects with an Error whose `code` is the errno name (ENOENT, EACCES, ENOTDIR...).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// The kernel's record (linux_dirent64); glibc declares no type for it.
struct dirent64_record {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

typedef struct {
  char *dir;
  char *suffix;
  size_t suffix_length;
  // Results: the NUL-separated cores, or the errno of what failed.
  char *out;
  size_t out_length;
  int error;
  const char *failed_call;
  napi_deferred deferred;
  napi_async_work work;
} job_t;

static void swap(char **a, size_t i, size_t j) {
  char *t = a[i];
  a[i] = a[j];
  a[j] = t;
}

// Sorts the n strings of `a`, which agree on their first d bytes, by byte (strcmp's order): a
// multikey quicksort (Bentley & Sedgewick), which reads each byte of the long prefix tile names
// share about once, where qsort with strcmp reads it again at every comparison (3x the time).
static void sort_strings(char **a, size_t n, size_t d) {
  while (n > 1) {
    if (n < 12) {
      for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(a[j - 1] + d, a[j] + d) > 0; j--) swap(a, j, j - 1);
      return;
    }
    swap(a, 0, n / 2);
    int pivot = (unsigned char)a[0][d];
    size_t lt = 0, i = 1, gt = n;
    while (i < gt) {
      int c = (unsigned char)a[i][d];
      if (c < pivot) swap(a, lt++, i++);
      else if (c > pivot) swap(a, i, --gt);
      else i++;
    }
    // a[0, lt) < pivot, a[lt, gt) == pivot, a[gt, n) > pivot at byte d
    sort_strings(a, lt, d);
    sort_strings(a + gt, n - gt, d);
    if (pivot == 0) return; // the equal ones end here: they are the same string
    a += lt;
    n = gt - lt;
    d++;
  }
}

static int is_dot(const char *name) {
  return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0));
}

// Reads every record of the open folder `fd` into one growing buffer: *records, *length.
static int read_records(int fd, char **records, size_t *length) {
  size_t room = 1 << 20;
  size_t used = 0;
  char *buf = malloc(room);
  if (!buf) return ENOMEM;
  for (;;) {
    if (room - used < 64 * 1024) {
      char *bigger = realloc(buf, room * 2);
      if (!bigger) {
        free(buf);
        return ENOMEM;
      }
      buf = bigger;
      room *= 2;
    }
    long n = syscall(SYS_getdents64, fd, buf + used, room - used);
    if (n < 0) {
      int e = errno;
      free(buf);
      return e;
    }
    if (n == 0) break;
    used += (size_t)n;
  }
  *records = buf;
  *length = used;
  return 0;
}

static void list_cores(job_t *j) {
  int fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    j->error = errno;
    j->failed_call = "open";
    return;
  }
  char *records = NULL;
  size_t length = 0;
  j->error = read_records(fd, &records, &length);
  if (j->error) {
    j->failed_call = "getdents64";
    close(fd);
    return;
  }
  size_t count = 0;
  for (size_t p = 0; p < length; p += ((struct dirent64_record *)(records + p))->d_reclen) count++;
  char **cores = malloc((count ? count : 1) * sizeof(char *));
  if (!cores) {
    j->error = ENOMEM;
    j->failed_call = "malloc";
    free(records);
    close(fd);
    return;
  }
  size_t kept = 0;
  size_t bytes = 0;
  for (size_t p = 0; p < length; p += ((struct dirent64_record *)(records + p))->d_reclen) {
    struct dirent64_record *r = (struct dirent64_record *)(records + p);
    char *name = r->d_name;
    size_t n = strlen(name);
    if (is_dot(name) || n <= j->suffix_length || memcmp(name + n - j->suffix_length, j->suffix, j->suffix_length) != 0) continue;
    if (r->d_type == DT_DIR) continue;
    if (r->d_type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) continue;
    }
    name[n - j->suffix_length] = 0; // the core, in place
    cores[kept++] = name;
    bytes += n - j->suffix_length + 1;
  }
  close(fd);
  sort_strings(cores, kept, 0);
  j->out = malloc(bytes ? bytes : 1);
  if (!j->out) {
    j->error = ENOMEM;
    j->failed_call = "malloc";
  } else {
    char *o = j->out;
    for (size_t i = 0; i < kept; i++) {
      size_t n = strlen(cores[i]) + 1;
      memcpy(o, cores[i], n);
      o += n;
    }
    j->out_length = bytes;
  }
  free(cores);
  free(records);
}

static void execute(napi_env env, void *data) {
  (void)env;
  list_cores((job_t *)data);
}

static void free_job(job_t *j) {
  free(j->dir);
  free(j->suffix);
  free(j->out);
  free(j);
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *j = (job_t *)data;
  napi_value result;
  if (status != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, "listing was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  } else if (j->error) {
    const char *name = strerrorname_np(j->error);
    napi_value code, msg;
    char text[4096];
    snprintf(text, sizeof text, "%s: %s, %s '%s'", name ? name : "EIO", strerror(j->error), j->failed_call, j->dir);
    napi_create_string_utf8(env, name ? name : "EIO", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  } else if (napi_create_string_utf8(env, j->out ? j->out : "", j->out_length, &result) == napi_ok) {
    napi_resolve_deferred(env, j->deferred, result);
  } else {
    napi_value msg;
    napi_create_string_utf8(env, "the folder's names do not fit in one string", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  }
  napi_delete_async_work(env, j->work);
  free_job(j);
}

// A copy of a string argument, or NULL after throwing.
static char *string_arg(napi_env env, napi_value v, const char *what, size_t *length) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  char *s = malloc(n + 1);
  if (!s) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, n + 1, &n);
  if (length) *length = n;
  return s;
}

static napi_value list_cores_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "expected (dir, suffix)");
    return NULL;
  }
  job_t *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  if (!(j->dir = string_arg(env, args[0], "dir must be a string", NULL)) || !(j->suffix = string_arg(env, args[1], "suffix must be a string", &j->suffix_length))) {
    free_job(j);
    return NULL;
  }
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "ferry.listCores", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_create_function(env, "listCores", NAPI_AUTO_LENGTH, list_cores_js, NULL, &fn);
  napi_set_named_property(env, exports, "listCores", fn);
  return exports;
}
