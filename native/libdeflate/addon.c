// A Node-API binding of libdeflate's gzip compressor (Debian's libdeflate-dev, linked statically),
// Ferry's gzip engine when it is built (src/codecs/deflate-native.ts loads it; src/codecs/gzip.ts
// falls back to Node's zlib without it):
//
//   gzipBound(n) -> number                           the most bytes a gzip member of n bytes can take
//   gzip(data, level, out) -> Promise<number>        on libuv's thread pool, as Node's zlib runs
//   gzipSync(data, level, out) -> number             on the calling thread (benchmarks)
//
// Both write one gzip member of `data` to the start of `out` and give its size. The caller owns
// `out` (at least gzipBound(data.length) bytes), so results can be packed into large shared buffers
// instead of one allocation per chunk that V8 must track and finalize.
//
// libdeflate compresses a whole buffer in one call (no streaming), which is all a chunk needs.
// A compressor holds up to ~1 MiB of tables, so each thread keeps one per level instead of
// allocating one per chunk.
#include <libdeflate.h>
#include <node_api.h>
#include <stdlib.h>

#define MAX_LEVEL 12

static _Thread_local struct libdeflate_compressor *compressors[MAX_LEVEL + 1];

static struct libdeflate_compressor *compressor(int level) {
  if (!compressors[level]) compressors[level] = libdeflate_alloc_compressor(level);
  return compressors[level];
}

// The gzip member's size, or 0 when the compressor cannot be had or `out` is too small.
static size_t compress(int level, const void *in, size_t n, void *out, size_t room) {
  struct libdeflate_compressor *c = compressor(level);
  return c ? libdeflate_gzip_compress(c, in, n, out, room) : 0;
}

typedef struct {
  void *data;
  size_t length;
} bytes_t;

// A Uint8Array's bytes. Asking for them moves a small on-heap array's bytes off the heap, so the
// pointer stays valid while a pool thread uses it.
static int read_bytes(napi_env env, napi_value value, const char *name, bytes_t *out) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (!is_typed || napi_get_typedarray_info(env, value, &type, &out->length, &out->data, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, name);
    return 0;
  }
  return 1;
}

typedef struct {
  bytes_t in, out;
  int level;
  napi_value values[3];
} args_t;

// Reads (data: Uint8Array, level: integer 0..12, out: Uint8Array) from the call.
static int read_args(napi_env env, napi_callback_info info, args_t *a) {
  size_t argc = 3;
  if (napi_get_cb_info(env, info, &argc, a->values, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "expected (data, level, out)");
    return 0;
  }
  if (!read_bytes(env, a->values[0], "data must be a Uint8Array", &a->in)) return 0;
  int32_t level;
  if (napi_get_value_int32(env, a->values[1], &level) != napi_ok || level < 0 || level > MAX_LEVEL) {
    napi_throw_range_error(env, NULL, "level must be a whole number from 0 to 12");
    return 0;
  }
  a->level = level;
  return read_bytes(env, a->values[2], "out must be a Uint8Array", &a->out);
}

static const char *FAILED = "libdeflate could not compress the data (out is smaller than gzipBound, or no memory)";

static napi_value gzip_bound(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result;
  double n;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_double(env, arg, &n) != napi_ok || !(n >= 0)) {
    napi_throw_type_error(env, NULL, "expected a byte count");
    return NULL;
  }
  napi_create_double(env, (double)libdeflate_gzip_compress_bound(NULL, (size_t)n), &result);
  return result;
}

static napi_value gzip_sync(napi_env env, napi_callback_info info) {
  args_t a;
  if (!read_args(env, info, &a)) return NULL;
  size_t size = compress(a.level, a.in.data, a.in.length, a.out.data, a.out.length);
  if (size == 0) {
    napi_throw_error(env, NULL, FAILED);
    return NULL;
  }
  napi_value result;
  napi_create_double(env, (double)size, &result);
  return result;
}

typedef struct {
  args_t args;
  napi_ref in, out;  // keep both arrays alive while a pool thread uses their bytes
  size_t size;
  napi_deferred deferred;
  napi_async_work work;
} job_t;

static void execute(napi_env env, void *p) {
  (void)env;
  job_t *j = p;
  j->size = compress(j->args.level, j->args.in.data, j->args.in.length, j->args.out.data, j->args.out.length);
}

static void complete(napi_env env, napi_status status, void *p) {
  job_t *j = p;
  napi_value value;
  if (status == napi_ok && j->size > 0) {
    napi_create_double(env, (double)j->size, &value);
    napi_resolve_deferred(env, j->deferred, value);
  } else {
    napi_value message;
    napi_create_string_utf8(env, FAILED, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &value);
    napi_reject_deferred(env, j->deferred, value);
  }
  napi_delete_reference(env, j->in);
  napi_delete_reference(env, j->out);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value gzip_async(napi_env env, napi_callback_info info) {
  job_t *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  if (!read_args(env, info, &j->args)) {
    free(j);
    return NULL;
  }
  napi_value promise, name;
  if (napi_create_reference(env, j->args.values[0], 1, &j->in) != napi_ok || napi_create_reference(env, j->args.values[2], 1, &j->out) != napi_ok ||
      napi_create_promise(env, &j->deferred, &promise) != napi_ok || napi_create_string_utf8(env, "libdeflate", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    napi_throw_error(env, NULL, "libdeflate addon: could not queue the work");
    return NULL;
  }
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gzipBound", NULL, gzip_bound, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gzip", NULL, gzip_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gzipSync", NULL, gzip_sync, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
