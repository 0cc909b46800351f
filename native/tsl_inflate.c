/*
 * gzip decompression into buffers the caller owns, with Node's own zlib.
 *
 * Node's zlib streams hand out a new buffer for every chunk of output. A capture analysis
 * allocates almost nothing else, so the garbage collector runs too rarely to free them: reading a
 * 1.4 GB gzip capture held 1.5 GB. Here the output goes into buffers the reader uses in turn, and
 * on an error the output produced before it is still counted (Node's streams drop it).
 *
 *   inflateCreate()                          → handle (gzip members: header, CRC-32 and length checked)
 *   inflateRun(h, in, inOff, inLen, out, outOff, outLen, state)
 *                                            → zlib's status; state[0] = bytes consumed, state[1] = produced
 *   inflateReset(h)                          → for the next member
 *   inflateMessage(h)                        → zlib's text for the last error, or null
 *   inflateEnd(h)                            → frees zlib's state now (else the garbage collector does)
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

typedef struct {
  z_stream z;
  int ready;
} Inflater;

#define CHECK(call)                                                                  \
  do {                                                                               \
    if ((call) != napi_ok) {                                                         \
      napi_throw_error(env, NULL, "tsl_inflate: " #call " failed");                  \
      return NULL;                                                                   \
    }                                                                                \
  } while (0)

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Inflater *inf = data;
  if (inf->ready) inflateEnd(&inf->z);
  free(inf);
}

static napi_value create(napi_env env, napi_callback_info info) {
  (void)info;
  Inflater *inf = calloc(1, sizeof(*inf));
  if (inf == NULL) {
    napi_throw_error(env, NULL, "tsl_inflate: out of memory");
    return NULL;
  }
  /* 16 + MAX_WBITS: a gzip wrapper around a deflate stream with the largest window. */
  if (inflateInit2(&inf->z, 16 + MAX_WBITS) != Z_OK) {
    free(inf);
    napi_throw_error(env, NULL, "tsl_inflate: inflateInit2 failed");
    return NULL;
  }
  inf->ready = 1;
  napi_value handle;
  if (napi_create_external(env, inf, finalize, NULL, &handle) != napi_ok) {
    finalize(env, inf, NULL);
    napi_throw_error(env, NULL, "tsl_inflate: napi_create_external failed");
    return NULL;
  }
  return handle;
}

/* A live inflater (not ended), or NULL with an exception pending. */
static Inflater *inflater(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "tsl_inflate: not an inflater");
    return NULL;
  }
  Inflater *inf = data;
  if (!inf->ready) {
    napi_throw_error(env, NULL, "tsl_inflate: the inflater was ended");
    return NULL;
  }
  return inf;
}

/* A [off, off + len) window of a Buffer argument, checked against its length. */
static uint8_t *window(napi_env env, napi_value buf, napi_value offv, napi_value lenv, uint32_t *len) {
  void *data = NULL;
  size_t size = 0;
  uint32_t off = 0;
  if (napi_get_buffer_info(env, buf, &data, &size) != napi_ok || napi_get_value_uint32(env, offv, &off) != napi_ok ||
      napi_get_value_uint32(env, lenv, len) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsl_inflate: expected a Buffer, an offset and a length");
    return NULL;
  }
  if ((size_t)off > size || (size_t)*len > size - off) {
    napi_throw_range_error(env, NULL, "tsl_inflate: offset and length run past the buffer");
    return NULL;
  }
  return (uint8_t *)data + off;
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) {
    napi_throw_type_error(env, NULL, "tsl_inflate: inflateRun takes 8 arguments");
    return NULL;
  }
  Inflater *inf = inflater(env, argv[0]);
  if (inf == NULL) return NULL;
  uint32_t inLen = 0, outLen = 0;
  uint8_t *in = window(env, argv[1], argv[2], argv[3], &inLen);
  if (in == NULL) return NULL;
  uint8_t *out = window(env, argv[4], argv[5], argv[6], &outLen);
  if (out == NULL) return NULL;
  napi_typedarray_type type;
  size_t count = 0;
  void *stateData = NULL;
  if (napi_get_typedarray_info(env, argv[7], &type, &count, &stateData, NULL, NULL) != napi_ok || type != napi_int32_array || count < 2) {
    napi_throw_type_error(env, NULL, "tsl_inflate: the state must be an Int32Array of 2");
    return NULL;
  }
  int32_t *state = stateData;
  inf->z.next_in = in;
  inf->z.avail_in = inLen;
  inf->z.next_out = out;
  inf->z.avail_out = outLen;
  int status = inflate(&inf->z, Z_NO_FLUSH);
  state[0] = (int32_t)(inLen - inf->z.avail_in);
  state[1] = (int32_t)(outLen - inf->z.avail_out);
  /* zlib keeps no pointer into the caller's buffers between calls that matters: clear them anyway. */
  inf->z.next_in = NULL;
  inf->z.next_out = NULL;
  napi_value result;
  CHECK(napi_create_int32(env, status, &result));
  return result;
}

/* The inflater a call was given as its only argument (NULL, with an exception pending, if none). */
static Inflater *onlyArgument(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "tsl_inflate: expected an inflater");
    return NULL;
  }
  return inflater(env, argv[0]);
}

static napi_value reset(napi_env env, napi_callback_info info) {
  Inflater *inf = onlyArgument(env, info);
  if (inf == NULL) return NULL;
  napi_value result;
  CHECK(napi_create_int32(env, inflateReset(&inf->z), &result));
  return result;
}

static napi_value message(napi_env env, napi_callback_info info) {
  Inflater *inf = onlyArgument(env, info);
  if (inf == NULL) return NULL;
  napi_value result;
  if (inf->z.msg == NULL) CHECK(napi_get_null(env, &result));
  else CHECK(napi_create_string_utf8(env, inf->z.msg, NAPI_AUTO_LENGTH, &result));
  return result;
}

static napi_value end(napi_env env, napi_callback_info info) {
  Inflater *inf = onlyArgument(env, info);
  if (inf == NULL) return NULL;
  inflateEnd(&inf->z);
  inf->ready = 0;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"inflateCreate", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"inflateRun", NULL, run, NULL, NULL, NULL, napi_default, NULL},
      {"inflateReset", NULL, reset, NULL, NULL, NULL, napi_default, NULL},
      {"inflateMessage", NULL, message, NULL, NULL, NULL, napi_default, NULL},
      {"inflateEnd", NULL, end, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
