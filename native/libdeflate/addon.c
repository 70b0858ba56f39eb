// A Node-API binding of libdeflate's gzip and raw DEFLATE compressors (Debian's libdeflate-dev),
// measured against Node's zlib by bench/deflate.ts. Research only: Ferry's gzip path does not use it.
//
//   gzipSync(data, level) / deflateRawSync(data, level) -> Buffer   on the calling thread
//   gzip(data, level) / deflateRaw(data, level) -> Promise<Buffer>  on libuv's thread pool
//
// libdeflate compresses a whole buffer in one call (no streaming), which is all a 64^3 chunk needs.
// A compressor holds ~0.5 MiB of tables, so each thread keeps one per level instead of allocating
// one per chunk.
#include <libdeflate.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVEL 12

static _Thread_local struct libdeflate_compressor *compressors[MAX_LEVEL + 1];

static struct libdeflate_compressor *compressor(int level) {
  if (!compressors[level]) compressors[level] = libdeflate_alloc_compressor(level);
  return compressors[level];
}

typedef enum { FORMAT_GZIP, FORMAT_RAW } format_t;

// Compresses into a malloc'd buffer of the worst-case size; returns the size, or 0 on failure.
static size_t compress(format_t format, int level, const void *in, size_t n, void **out) {
  struct libdeflate_compressor *c = compressor(level);
  if (!c) return 0;
  size_t bound = format == FORMAT_GZIP ? libdeflate_gzip_compress_bound(c, n) : libdeflate_deflate_compress_bound(c, n);
  *out = malloc(bound);
  if (!*out) return 0;
  size_t size = format == FORMAT_GZIP ? libdeflate_gzip_compress(c, in, n, *out, bound) : libdeflate_deflate_compress(c, in, n, *out, bound);
  if (size == 0) {
    free(*out);
    *out = NULL;
  }
  return size;
}

static void free_output(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

#define CHECK(call)                                              \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error(env, NULL, "libdeflate addon: " #call);   \
      return NULL;                                               \
    }                                                            \
  } while (0)

// Reads (data: TypedArray, level: integer 0..12) from the call.
static int read_args(napi_env env, napi_callback_info info, void **data, size_t *n, int *level, napi_value *input) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "expected (data, level)");
    return 0;
  }
  bool is_typed;
  napi_is_typedarray(env, argv[0], &is_typed);
  if (!is_typed) {
    napi_throw_type_error(env, NULL, "data must be a Uint8Array");
    return 0;
  }
  napi_typedarray_type type;
  size_t length, offset;
  napi_value buffer;
  napi_get_typedarray_info(env, argv[0], &type, &length, data, &buffer, &offset);
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "data must be a Uint8Array");
    return 0;
  }
  *n = length;
  int32_t l;
  if (napi_get_value_int32(env, argv[1], &l) != napi_ok || l < 0 || l > MAX_LEVEL) {
    napi_throw_range_error(env, NULL, "level must be a whole number from 0 to 12");
    return 0;
  }
  *level = l;
  *input = argv[0];
  return 1;
}

static napi_value compress_sync(napi_env env, napi_callback_info info, format_t format) {
  void *data;
  size_t n;
  int level;
  napi_value input;
  if (!read_args(env, info, &data, &n, &level, &input)) return NULL;
  void *out;
  size_t size = compress(format, level, data, n, &out);
  if (size == 0) {
    napi_throw_error(env, NULL, "libdeflate could not compress the data");
    return NULL;
  }
  napi_value result;
  CHECK(napi_create_external_buffer(env, size, out, free_output, NULL, &result));
  return result;
}

static napi_value gzip_sync(napi_env env, napi_callback_info info) { return compress_sync(env, info, FORMAT_GZIP); }
static napi_value deflate_raw_sync(napi_env env, napi_callback_info info) { return compress_sync(env, info, FORMAT_RAW); }

typedef struct {
  format_t format;
  int level;
  void *in;
  size_t n;
  napi_ref input;  // keeps the input alive while a pool thread reads it
  void *out;
  size_t size;
  napi_deferred deferred;
  napi_async_work work;
} job_t;

static void execute(napi_env env, void *p) {
  (void)env;
  job_t *j = p;
  j->size = compress(j->format, j->level, j->in, j->n, &j->out);
}

static void complete(napi_env env, napi_status status, void *p) {
  job_t *j = p;
  napi_value value;
  if (status == napi_ok && j->size > 0 && napi_create_external_buffer(env, j->size, j->out, free_output, NULL, &value) == napi_ok) {
    napi_resolve_deferred(env, j->deferred, value);
  } else {
    free(j->out);
    napi_value message, error;
    napi_create_string_utf8(env, "libdeflate could not compress the data", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, j->deferred, error);
  }
  napi_delete_reference(env, j->input);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value compress_async(napi_env env, napi_callback_info info, format_t format) {
  job_t *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_value input;
  if (!read_args(env, info, &j->in, &j->n, &j->level, &input)) {
    free(j);
    return NULL;
  }
  j->format = format;
  napi_value promise, name;
  CHECK(napi_create_reference(env, input, 1, &j->input));
  CHECK(napi_create_promise(env, &j->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "libdeflate", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, execute, complete, j, &j->work));
  CHECK(napi_queue_async_work(env, j->work));
  return promise;
}

static napi_value gzip_async(napi_env env, napi_callback_info info) { return compress_async(env, info, FORMAT_GZIP); }
static napi_value deflate_raw_async(napi_env env, napi_callback_info info) { return compress_async(env, info, FORMAT_RAW); }

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gzipSync", NULL, gzip_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"deflateRawSync", NULL, deflate_raw_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gzip", NULL, gzip_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"deflateRaw", NULL, deflate_raw_async, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
