/*
 * tsl_lab: the socket calls the lab needs and Node's `net` cannot make, as plain N-API (C, no
 * dependency beyond Node's own headers).
 *
 * The lab's scenarios are socket experiments: each call's errno is part of the result, so every
 * function returns a number: >= 0 on success (a descriptor, a byte count, 0), -errno on failure.
 * Nothing throws for a failed system call; only a bad argument from JavaScript throws.
 * Calls block like the C programs of the seed documents do; the lab runs them in small child
 * processes (src/lab/agent.ts), one puppet per socket owner, so blocking is harmless there.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_ARGS 6

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = MAX_ARGS;
  napi_value tmp[MAX_ARGS];
  napi_get_cb_info(env, info, &argc, tmp, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, NULL, "tsl_lab: too few arguments");
    return -1;
  }
  for (size_t i = 0; i < want; i++) argv[i] = tmp[i];
  return 0;
}

static int get_int(napi_env env, napi_value v, int *out) {
  int32_t x;
  if (napi_get_value_int32(env, v, &x) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsl_lab: expected an integer");
    return -1;
  }
  *out = x;
  return 0;
}

/* family (AF_INET/AF_INET6), text address, port -> sockaddr; 0 or -1 after throwing. */
static int get_sockaddr(napi_env env, napi_value fam, napi_value addr, napi_value port, struct sockaddr_storage *ss, socklen_t *len) {
  int family, p;
  char text[INET6_ADDRSTRLEN + 1];
  size_t n;
  if (get_int(env, fam, &family) || get_int(env, port, &p)) return -1;
  if (napi_get_value_string_utf8(env, addr, text, sizeof text, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsl_lab: expected an address string");
    return -1;
  }
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)p);
    if (inet_pton(AF_INET, text, &a->sin_addr) != 1) goto bad;
    *len = sizeof *a;
  } else if (family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)p);
    if (inet_pton(AF_INET6, text, &a->sin6_addr) != 1) goto bad;
    *len = sizeof *a;
  } else {
    goto bad;
  }
  return 0;
bad:
  napi_throw_type_error(env, NULL, "tsl_lab: bad family or address");
  return -1;
}

static napi_value sockaddr_to_js(napi_env env, const struct sockaddr_storage *ss) {
  char text[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  napi_value obj, s;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, obj, "addr", s);
  napi_set_named_property(env, obj, "port", num(env, port));
  return obj;
}

#define RET(expr) num(env, (expr) < 0 ? -errno : (double)(expr))

/* socket(family, type): a TCP socket (type SOCK_STREAM) or a raw one (SOCK_RAW, IPPROTO_RAW). */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int family, type;
  if (get_args(env, info, 2, a) || get_int(env, a[0], &family) || get_int(env, a[1], &type)) return NULL;
  int proto = type == SOCK_RAW ? IPPROTO_RAW : 0;
  int fd = socket(family, type | SOCK_CLOEXEC, proto);
  return RET(fd);
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  napi_value a[4];
  int fd;
  struct sockaddr_storage ss;
  socklen_t len;
  if (get_args(env, info, 4, a) || get_int(env, a[0], &fd) || get_sockaddr(env, a[1], a[2], a[3], &ss, &len)) return NULL;
  int r = bind(fd, (struct sockaddr *)&ss, len);
  return RET(r);
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value a[4];
  int fd;
  struct sockaddr_storage ss;
  socklen_t len;
  if (get_args(env, info, 4, a) || get_int(env, a[0], &fd) || get_sockaddr(env, a[1], a[2], a[3], &ss, &len)) return NULL;
  int r = connect(fd, (struct sockaddr *)&ss, len);
  return RET(r);
}

static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int fd, backlog;
  if (get_args(env, info, 2, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &backlog)) return NULL;
  int r = listen(fd, backlog);
  return RET(r);
}

static napi_value js_accept(napi_env env, napi_callback_info info) {
  napi_value a[1];
  int fd;
  if (get_args(env, info, 1, a) || get_int(env, a[0], &fd)) return NULL;
  int r = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
  return RET(r);
}

/* send(fd, buffer): MSG_NOSIGNAL, so a write after an RST returns EPIPE instead of raising SIGPIPE. */
static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int fd;
  void *data;
  size_t len;
  if (get_args(env, info, 2, a) || get_int(env, a[0], &fd)) return NULL;
  if (napi_get_buffer_info(env, a[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsl_lab: expected a Buffer");
    return NULL;
  }
  ssize_t r = send(fd, data, len, MSG_NOSIGNAL);
  return RET(r);
}

/* recv(fd, buffer): bytes read, 0 at end of stream, -errno. */
static napi_value js_recv(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int fd;
  void *data;
  size_t len;
  if (get_args(env, info, 2, a) || get_int(env, a[0], &fd)) return NULL;
  if (napi_get_buffer_info(env, a[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsl_lab: expected a Buffer");
    return NULL;
  }
  ssize_t r = recv(fd, data, len, 0);
  return RET(r);
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int fd, how;
  if (get_args(env, info, 2, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &how)) return NULL;
  int r = shutdown(fd, how);
  return RET(r);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value a[1];
  int fd;
  if (get_args(env, info, 1, a) || get_int(env, a[0], &fd)) return NULL;
  int r = close(fd);
  return RET(r);
}

static napi_value js_setsockopt_int(napi_env env, napi_callback_info info) {
  napi_value a[4];
  int fd, level, opt, val;
  if (get_args(env, info, 4, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &level) || get_int(env, a[2], &opt) || get_int(env, a[3], &val)) return NULL;
  int r = setsockopt(fd, level, opt, &val, sizeof val);
  return RET(r);
}

static napi_value js_getsockopt_int(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int fd, level, opt, val = 0;
  socklen_t len = sizeof val;
  if (get_args(env, info, 3, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &level) || get_int(env, a[2], &opt)) return NULL;
  int r = getsockopt(fd, level, opt, &val, &len);
  return r < 0 ? num(env, -errno) : num(env, val);
}

/* SO_LINGER {onoff, seconds}: {1, 0} makes close() abort the connection with an RST. */
static napi_value js_set_linger(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int fd, on, secs;
  if (get_args(env, info, 3, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &on) || get_int(env, a[2], &secs)) return NULL;
  struct linger l = {.l_onoff = on, .l_linger = secs};
  int r = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  return RET(r);
}

/* SO_RCVTIMEO / SO_SNDTIMEO in milliseconds: a blocking call then ends with EAGAIN instead of hanging. */
static napi_value js_set_timeout(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int fd, opt, ms;
  if (get_args(env, info, 3, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &opt) || get_int(env, a[2], &ms)) return NULL;
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  int r = setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
  return RET(r);
}

static napi_value js_set_nonblock(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int fd, on;
  if (get_args(env, info, 2, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &on)) return NULL;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return num(env, -errno);
  int r = fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
  return RET(r);
}

/* poll(fd, events, timeoutMs): revents, 0 on timeout, -errno. */
static napi_value js_poll(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int fd, events, ms;
  if (get_args(env, info, 3, a) || get_int(env, a[0], &fd) || get_int(env, a[1], &events) || get_int(env, a[2], &ms)) return NULL;
  struct pollfd p = {.fd = fd, .events = (short)events, .revents = 0};
  int r = poll(&p, 1, ms);
  if (r < 0) return num(env, -errno);
  return num(env, r == 0 ? 0 : p.revents);
}

static napi_value name_call(napi_env env, napi_callback_info info, int peer) {
  napi_value a[1];
  int fd;
  if (get_args(env, info, 1, a) || get_int(env, a[0], &fd)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
  if (r < 0) return num(env, -errno);
  return sockaddr_to_js(env, &ss);
}

static napi_value js_getsockname(napi_env env, napi_callback_info info) { return name_call(env, info, 0); }
static napi_value js_getpeername(napi_env env, napi_callback_info info) { return name_call(env, info, 1); }

/* sendto(rawFd, packet, family, dstAddr): a complete IP packet built by the caller (IPPROTO_RAW). */
static napi_value js_send_raw(napi_env env, napi_callback_info info) {
  napi_value a[4], zero = num(env, 0);
  int fd;
  void *data;
  size_t len;
  struct sockaddr_storage ss;
  socklen_t slen;
  if (get_args(env, info, 4, a) || get_int(env, a[0], &fd)) return NULL;
  if (napi_get_buffer_info(env, a[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsl_lab: expected a Buffer");
    return NULL;
  }
  if (get_sockaddr(env, a[2], a[3], zero, &ss, &slen)) return NULL;
  ssize_t r = sendto(fd, data, len, 0, (struct sockaddr *)&ss, slen);
  return RET(r);
}

#define EXPORT(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      EXPORT("socket", js_socket),       EXPORT("bind", js_bind),
      EXPORT("connect", js_connect),     EXPORT("listen", js_listen),
      EXPORT("accept", js_accept),       EXPORT("send", js_send),
      EXPORT("recv", js_recv),           EXPORT("shutdown", js_shutdown),
      EXPORT("close", js_close),         EXPORT("setsockoptInt", js_setsockopt_int),
      EXPORT("getsockoptInt", js_getsockopt_int), EXPORT("setLinger", js_set_linger),
      EXPORT("setTimeout", js_set_timeout), EXPORT("setNonblock", js_set_nonblock),
      EXPORT("poll", js_poll),           EXPORT("getsockname", js_getsockname),
      EXPORT("getpeername", js_getpeername), EXPORT("sendRaw", js_send_raw),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
