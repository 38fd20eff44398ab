/*
 * dhcplab-udp: the relay's native datapath, a Node-API addon (see relay/agent/native-datapath.ts).
 *
 * It owns the relay's UDP sockets (the ones dhcplab-bind opened) and moves datagrams in batches:
 * - receive: when a socket is readable, recvmmsg(2) fills a ring of slots preallocated once and
 *   shared with JavaScript, which is then called once for every datagram of that wake-up;
 * - send: JavaScript writes the datagrams of its turn into a second ring, and flush() hands each
 *   socket's share to the kernel with sendmmsg(2), writing every datagram's outcome (0 or errno).
 *
 * Why: Node's dgram allocates a 64 KiB buffer before every recvmsg (also the last one, which only
 * finds the socket empty), calls into JavaScript once per datagram, and takes a send request with
 * an asynchronous completion per send. Here a wake-up costs one recvmmsg and one call into
 * JavaScript, whatever its number of datagrams, and nothing is allocated per datagram.
 *
 * - link sends: a DHCPv4 reply to a client that holds no address yet goes out of a packet socket
 *   on the client's interface, framed here (IPv4 and UDP headers; the kernel adds the Ethernet
 *   header) to the client's hardware address or the link's broadcast address (RFC 1542 §5.4). It
 *   takes neither the kernel's routing nor its firewall hooks, and makes no looped-back copy of a
 *   broadcast, as a UDP socket's send to 255.255.255.255 does.
 *
 * Nothing here decides anything: the policy, the codecs and every trust rule stay in TypeScript.
 *
 * Layouts (int32 words per slot, native byte order):
 *   receive meta: [length, flags (1: truncated), source port, scope id, source address (16 bytes)]
 *   send meta:    [socket index, length, destination port, 0, destination address (16 bytes)]
 *   link send:    [socket index, length, destination port, source port, destination IPv4 (4 bytes),
 *                  source IPv4 (4), destination hardware address (6; all ones: the broadcast), 0, 0]
 * An IPv4 address takes the first 4 of its 16 bytes.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define MAX_SOCKETS 64
#define META_WORDS 8
/* A link send's IPv4 header (no options) and UDP header. */
#define IP_UDP_BYTES 28
/* A wake-up reads at most this many full rings before yielding to the rest of the loop. */
#define ROUNDS_PER_WAKEUP 4

typedef struct state state_t;

typedef struct {
  uv_poll_t poll;
  state_t *st;
  int fd;
  /* AF_INET, AF_INET6, or AF_PACKET for a link socket, which only sends and is not polled. */
  int family;
  int index;
  unsigned ifindex;
} sock_t;

struct state {
  napi_env env;
  napi_ref on_batch;
  napi_ref on_error;
  napi_ref buffers[5];
  napi_async_context async;
  uint32_t slots, slot_size;
  uint8_t *recv;
  int32_t *recv_meta;
  uint8_t *send;
  int32_t *send_meta;
  int32_t *results;
  struct mmsghdr *msgs;
  /* Two per slot: a link send's headers, then its datagram. */
  struct iovec *iov;
  struct sockaddr_in6 *names;
  /* A link send's headers, per slot. */
  uint8_t *headers;
  uint16_t ip_id;
  sock_t *socks[MAX_SOCKETS];
  int nsocks;
  /* In a call into JavaScript: close() then only marks the state, and the caller frees it. */
  int busy;
  int closing;
};

#define CHECK(call)                                                 \
  do {                                                              \
    if ((call) != napi_ok) {                                        \
      napi_throw_error(env, NULL, "dhcplab-udp: " #call " failed"); \
      return NULL;                                                  \
    }                                                               \
  } while (0)

static state_t *state_of(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "dhcplab-udp: %s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value arraybuffer(napi_env env, size_t bytes, void **data, napi_ref *ref) {
  napi_value v;
  if (napi_create_arraybuffer(env, bytes, data, &v) != napi_ok) return NULL;
  memset(*data, 0, bytes);
  if (napi_create_reference(env, v, 1, ref) != napi_ok) return NULL;
  return v;
}

/* Calls JavaScript as libuv's callbacks must: in a handle scope, through the async context. */
static void call_js(state_t *st, napi_ref fn_ref, int argc, const int32_t *args) {
  napi_env env = st->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[2], result;
  napi_get_reference_value(env, fn_ref, &fn);
  napi_get_global(env, &recv);
  for (int i = 0; i < argc; i++) napi_create_int32(env, args[i], &argv[i]);
  if (napi_make_callback(env, st->async, recv, fn, (size_t)argc, argv, &result) ==
      napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

/* Frees what create() made; references and the async context go with it. */
static void free_state(state_t *st) {
  napi_env env = st->env;
  if (st->on_batch) napi_delete_reference(env, st->on_batch);
  if (st->on_error) napi_delete_reference(env, st->on_error);
  for (int i = 0; i < 5; i++)
    if (st->buffers[i]) napi_delete_reference(env, st->buffers[i]);
  if (st->async) napi_async_destroy(env, st->async);
  free(st->msgs);
  free(st->iov);
  free(st->names);
  free(st->headers);
  free(st);
}

/* Calls JavaScript with the state held: a close() it makes is finished here, after the call. */
static int call_held(state_t *st, napi_ref fn_ref, int argc, const int32_t *args) {
  st->busy++;
  call_js(st, fn_ref, argc, args);
  st->busy--;
  if (!st->closing) return 1;
  if (st->busy == 0) free_state(st);
  return 0;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  sock_t *s = handle->data;
  state_t *st = s->st;
  if (status < 0) {
    int32_t args[2] = {s->index, -status};
    call_held(st, st->on_error, 2, args);
    return;
  }
  for (int round = 0; round < ROUNDS_PER_WAKEUP; round++) {
    for (uint32_t i = 0; i < st->slots; i++) {
      st->iov[i].iov_base = st->recv + (size_t)i * st->slot_size;
      st->iov[i].iov_len = st->slot_size;
      memset(&st->msgs[i].msg_hdr, 0, sizeof st->msgs[i].msg_hdr);
      st->msgs[i].msg_hdr.msg_name = &st->names[i];
      st->msgs[i].msg_hdr.msg_namelen = sizeof st->names[i];
      st->msgs[i].msg_hdr.msg_iov = &st->iov[i];
      st->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(s->fd, st->msgs, st->slots, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      int32_t args[2] = {s->index, errno};
      call_held(st, st->on_error, 2, args);
      return;
    }
    for (int i = 0; i < n; i++) {
      int32_t *meta = st->recv_meta + (size_t)i * META_WORDS;
      meta[0] = (int32_t)st->msgs[i].msg_len;
      meta[1] = (st->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
      uint8_t *addr = (uint8_t *)(meta + 4);
      if (s->family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&st->names[i];
        meta[2] = ntohs(a->sin_port);
        meta[3] = 0;
        memcpy(addr, &a->sin_addr, 4);
      } else {
        meta[2] = ntohs(st->names[i].sin6_port);
        meta[3] = (int32_t)st->names[i].sin6_scope_id;
        memcpy(addr, &st->names[i].sin6_addr, 16);
      }
    }
    if (n == 0) return;
    int32_t args[2] = {s->index, n};
    if (!call_held(st, st->on_batch, 2, args)) return; /* closed by JavaScript during the batch */
    if ((uint32_t)n < st->slots) return; /* the socket is empty: no read that only finds EAGAIN */
  }
}

static void on_closed(uv_handle_t *handle);

static int32_t arg_int(napi_env env, napi_value v) {
  int32_t out = 0;
  napi_get_value_int32(env, v, &out);
  return out;
}

/* The state's arrays, references and rings: NULL (an exception pending) when one could not be made. */
static napi_value make_rings(napi_env env, state_t *st, napi_value *argv) {
  const size_t slots = st->slots;
  st->msgs = calloc(slots, sizeof *st->msgs);
  st->iov = calloc(2 * slots, sizeof *st->iov);
  st->names = calloc(slots, sizeof *st->names);
  st->headers = calloc(slots, IP_UDP_BYTES);
  if (!st->msgs || !st->iov || !st->names || !st->headers) return throw_errno(env, "create", ENOMEM);
  CHECK(napi_create_reference(env, argv[2], 1, &st->on_batch));
  CHECK(napi_create_reference(env, argv[3], 1, &st->on_error));
  napi_value name, rings, v;
  CHECK(napi_create_string_utf8(env, "dhcplab-udp", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &st->async));
  CHECK(napi_create_object(env, &rings));
  const size_t meta = slots * META_WORDS * sizeof(int32_t);
  const size_t ring = slots * st->slot_size;
  if (!(v = arraybuffer(env, ring, (void **)&st->recv, &st->buffers[0]))) return NULL;
  CHECK(napi_set_named_property(env, rings, "recv", v));
  if (!(v = arraybuffer(env, meta, (void **)&st->recv_meta, &st->buffers[1]))) return NULL;
  CHECK(napi_set_named_property(env, rings, "recvMeta", v));
  if (!(v = arraybuffer(env, ring, (void **)&st->send, &st->buffers[2]))) return NULL;
  CHECK(napi_set_named_property(env, rings, "send", v));
  if (!(v = arraybuffer(env, meta, (void **)&st->send_meta, &st->buffers[3]))) return NULL;
  CHECK(napi_set_named_property(env, rings, "sendMeta", v));
  if (!(v = arraybuffer(env, slots * sizeof(int32_t), (void **)&st->results, &st->buffers[4]))) return NULL;
  CHECK(napi_set_named_property(env, rings, "results", v));
  return rings;
}

/* create(slots, slotSize, onBatch(socket, count), onError(socket, errno)) -> the five rings. */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (state_of(env)) {
    napi_throw_error(env, NULL, "dhcplab-udp: a datapath is open already (close it first)");
    return NULL;
  }
  int32_t slots = arg_int(env, argv[0]), slot_size = arg_int(env, argv[1]);
  if (argc < 4 || slots < 1 || slots > 1024 || slot_size < 576 || slot_size > 65536) {
    napi_throw_range_error(env, NULL, "dhcplab-udp: create(slots 1..1024, slotSize 576..65536, onBatch, onError)");
    return NULL;
  }
  state_t *st = calloc(1, sizeof *st);
  if (!st) return throw_errno(env, "create", ENOMEM);
  st->env = env;
  st->slots = (uint32_t)slots;
  st->slot_size = (uint32_t)slot_size;
  napi_value rings = make_rings(env, st, argv);
  if (!rings || napi_set_instance_data(env, st, NULL, NULL) != napi_ok) {
    free_state(st);
    return rings ? throw_errno(env, "create", EINVAL) : NULL;
  }
  return rings;
}

/* adopt(fd, family 4|6, ifname, bufferBytes) -> socket index: the socket is read from now on. */
static napi_value adopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  state_t *st = state_of(env);
  if (!st) return throw_errno(env, "adopt before create", EINVAL);
  if (st->nsocks == MAX_SOCKETS) return throw_errno(env, "adopt", EMFILE);
  int fd = arg_int(env, argv[0]), family = arg_int(env, argv[1]) == 4 ? AF_INET : AF_INET6;
  int buffer = arg_int(env, argv[3]);
  char ifname[IF_NAMESIZE] = "";
  size_t len = 0;
  CHECK(napi_get_value_string_utf8(env, argv[2], ifname, sizeof ifname, &len));
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return throw_errno(env, "adopt: fcntl", errno);
  /* FD_CLOEXEC: the relay's children (radvd, nft, ip) must not hold its sockets. */
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  int one = 1;
  /* The buffers asked for, past net.core.[rw]mem_max where the relay may (CAP_NET_ADMIN): a
   * burst waits in the kernel instead of being lost. Without the capability, what the limit allows. */
  if ((setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) < 0 &&
       setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer) < 0) ||
      (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) < 0 &&
       setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer) < 0))
    return throw_errno(env, "adopt: socket buffers", errno);
  /* The access socket sends replies to 255.255.255.255 (RFC 2131 §4.1). */
  if (family == AF_INET && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0)
    return throw_errno(env, "adopt: SO_BROADCAST", errno);
  sock_t *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, "adopt", ENOMEM);
  s->st = st;
  s->fd = fd;
  s->family = family;
  s->index = st->nsocks;
  s->ifindex = len > 0 ? if_nametoindex(ifname) : 0;
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int err = uv_poll_init(loop, &s->poll, fd);
  if (err < 0) {
    free(s);
    return throw_errno(env, "adopt: uv_poll_init", -err);
  }
  s->poll.data = s;
  err = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (err < 0) {
    /* The handle is the loop's now: it is freed when libuv has closed it (not the fd: the caller's). */
    s->fd = -1;
    uv_close((uv_handle_t *)&s->poll, on_closed);
    return throw_errno(env, "adopt: uv_poll_start", -err);
  }
  st->socks[st->nsocks++] = s;
  napi_value index;
  CHECK(napi_create_int32(env, s->index, &index));
  return index;
}

/* join6(socket, group: Uint8Array(16)): joins a multicast group on the socket's interface. */
static napi_value join6(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  state_t *st = state_of(env);
  int index = arg_int(env, argv[0]);
  if (!st || index < 0 || index >= st->nsocks || st->socks[index]->family != AF_INET6)
    return throw_errno(env, "join6: not an IPv6 socket", EINVAL);
  void *group = NULL;
  size_t len = 0;
  CHECK(napi_get_typedarray_info(env, argv[1], NULL, &len, &group, NULL, NULL));
  if (len != 16) return throw_errno(env, "join6: a group is 16 bytes", EINVAL);
  struct ipv6_mreq m = {.ipv6mr_interface = st->socks[index]->ifindex};
  memcpy(&m.ipv6mr_multiaddr, group, 16);
  if (setsockopt(st->socks[index]->fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m, sizeof m) < 0)
    return throw_errno(env, "join6", errno);
  return NULL;
}

/* Fills the kernel's view of send slot i. */
static socklen_t send_name(state_t *st, sock_t *s, uint32_t i, struct sockaddr_in6 *name) {
  const int32_t *meta = st->send_meta + (size_t)i * META_WORDS;
  memset(name, 0, sizeof *name);
  if (s->family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)name;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)meta[2]);
    memcpy(&a->sin_addr, meta + 4, 4);
    return sizeof *a;
  }
  name->sin6_family = AF_INET6;
  name->sin6_port = htons((uint16_t)meta[2]);
  memcpy(&name->sin6_addr, meta + 4, 16);
  /* A link-local destination is on the socket's own interface (it is bound to it). */
  name->sin6_scope_id = s->ifindex;
  return sizeof *name;
}

/* The one's-complement sum of `len` bytes (RFC 1071), folded into `sum`. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len) {
  for (; len > 1; p += 2, len -= 2) sum += (uint32_t)(p[0] << 8 | p[1]);
  if (len) sum += (uint32_t)(p[0] << 8);
  return sum;
}

static uint16_t folded(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/*
 * A link send's IPv4 header (RFC 791: no options, TTL 64, its checksum) and UDP header (RFC 768,
 * its checksum over the pseudo-header; a sum of 0 is sent as all ones), before its datagram.
 */
static void frame_headers(state_t *st, const int32_t *meta, const uint8_t *datagram, uint32_t len,
                          uint8_t *h) {
  const uint8_t *addresses = (const uint8_t *)(meta + 4); /* destination, then source */
  memset(h, 0, IP_UDP_BYTES);
  h[0] = 0x45;
  put16(h + 2, IP_UDP_BYTES + len);
  put16(h + 4, st->ip_id++);
  h[8] = 64;
  h[9] = IPPROTO_UDP;
  memcpy(h + 12, addresses + 4, 4);
  memcpy(h + 16, addresses, 4);
  put16(h + 10, folded(sum16(0, h, 20)));
  uint8_t *udp = h + 20;
  put16(udp, (uint32_t)meta[3]);
  put16(udp + 2, (uint32_t)meta[2]);
  put16(udp + 4, 8 + len);
  uint32_t sum = sum16(0, h + 12, 8) + IPPROTO_UDP + 8 + len;
  sum = sum16(sum16(sum, udp, 8), datagram, len);
  uint16_t check = folded(sum);
  put16(udp + 6, check == 0 ? 0xffff : check);
}

/* A link send's destination: the hardware address in its slot, on the socket's interface. */
static socklen_t link_name(sock_t *s, const int32_t *meta, struct sockaddr_ll *name) {
  memset(name, 0, sizeof *name);
  name->sll_family = AF_PACKET;
  name->sll_protocol = htons(ETH_P_IP);
  name->sll_ifindex = (int)s->ifindex;
  name->sll_halen = 6;
  memcpy(name->sll_addr, (const uint8_t *)(meta + 4) + 8, 6);
  return sizeof *name;
}

/*
 * flush(count): sends send slots 0..count-1, each through its socket, in one sendmmsg per socket
 * (more when one fails: the failed datagram is skipped and the rest go on). results[i] is 0 or the
 * errno of slot i. Returns how many failed.
 */
static napi_value flush(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  state_t *st = state_of(env);
  int32_t count = arg_int(env, argv[0]);
  if (!st || count < 0 || (uint32_t)count > st->slots) return throw_errno(env, "flush", EINVAL);
  int failed = 0;
  uint32_t order[1024];
  for (int k = 0; k < st->nsocks; k++) {
    sock_t *s = st->socks[k];
    uint32_t n = 0;
    for (uint32_t i = 0; i < (uint32_t)count; i++) {
      const int32_t *meta = st->send_meta + (size_t)i * META_WORDS;
      if (meta[0] != k) continue;
      uint32_t len = (uint32_t)meta[1];
      if (len > st->slot_size) len = st->slot_size;
      uint8_t *datagram = st->send + (size_t)i * st->slot_size;
      struct iovec *iov = &st->iov[2 * n];
      memset(&st->msgs[n], 0, sizeof st->msgs[n]);
      st->msgs[n].msg_hdr.msg_name = &st->names[n];
      st->msgs[n].msg_hdr.msg_iov = iov;
      if (s->family == AF_PACKET) {
        uint8_t *headers = st->headers + (size_t)i * IP_UDP_BYTES;
        frame_headers(st, meta, datagram, len, headers);
        iov[0].iov_base = headers;
        iov[0].iov_len = IP_UDP_BYTES;
        iov[1].iov_base = datagram;
        iov[1].iov_len = len;
        st->msgs[n].msg_hdr.msg_iovlen = 2;
        st->msgs[n].msg_hdr.msg_namelen = link_name(s, meta, (struct sockaddr_ll *)&st->names[n]);
      } else {
        iov[0].iov_base = datagram;
        iov[0].iov_len = len;
        st->msgs[n].msg_hdr.msg_iovlen = 1;
        st->msgs[n].msg_hdr.msg_namelen = send_name(st, s, i, &st->names[n]);
      }
      order[n++] = i;
    }
    for (uint32_t done = 0; done < n;) {
      int sent = sendmmsg(s->fd, st->msgs + done, n - done, MSG_DONTWAIT);
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0) {
        st->results[order[done++]] = errno; /* this one failed; the others go on */
        failed++;
        continue;
      }
      for (int j = 0; j < sent; j++) st->results[order[done + (uint32_t)j]] = 0;
      done += (uint32_t)sent;
    }
  }
  for (uint32_t i = 0; i < (uint32_t)count; i++) {
    const int32_t k = st->send_meta[(size_t)i * META_WORDS];
    if (k < 0 || k >= st->nsocks) {
      st->results[i] = EBADF;
      failed++;
    }
  }
  napi_value out;
  CHECK(napi_create_int32(env, failed, &out));
  return out;
}

/*
 * openLink(ifname) -> socket index: a packet socket on the interface for link sends. It is opened
 * with protocol 0, so that it receives nothing, and it needs CAP_NET_RAW: without it this throws,
 * and the relay sends its replies to clients through the UDP socket, to the limited broadcast.
 */
static napi_value open_link(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  state_t *st = state_of(env);
  if (!st) return throw_errno(env, "openLink before create", EINVAL);
  if (st->nsocks == MAX_SOCKETS) return throw_errno(env, "openLink", EMFILE);
  char ifname[IF_NAMESIZE] = "";
  size_t len = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &len));
  unsigned ifindex = if_nametoindex(ifname);
  if (ifindex == 0) return throw_errno(env, "openLink: no such interface", ENODEV);
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return throw_errno(env, "openLink: socket", errno);
  sock_t *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "openLink", ENOMEM);
  }
  s->st = st;
  s->fd = fd;
  s->family = AF_PACKET;
  s->index = st->nsocks;
  s->ifindex = ifindex;
  st->socks[st->nsocks++] = s;
  napi_value index;
  CHECK(napi_create_int32(env, s->index, &index));
  return index;
}

static void on_closed(uv_handle_t *handle) {
  sock_t *s = handle->data;
  if (s->fd >= 0) close(s->fd);
  free(s);
}

/*
 * close(): stops reading and closes every socket. The state is freed now, or, when JavaScript
 * closes from inside a batch, once that call has returned (on_readable still holds it).
 */
static napi_value close_all(napi_env env, napi_callback_info info) {
  (void)info;
  state_t *st = state_of(env);
  if (!st) return NULL;
  for (int k = 0; k < st->nsocks; k++) {
    sock_t *s = st->socks[k];
    if (s->family == AF_PACKET) {
      /* Never polled: nothing of libuv's to close. */
      close(s->fd);
      free(s);
      continue;
    }
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_closed);
  }
  st->nsocks = 0;
  napi_set_instance_data(env, NULL, NULL, NULL);
  st->closing = 1;
  if (st->busy == 0) free_state(st);
  return NULL;
}

/*
 * bind(family 4|6, address: Uint8Array(4|16), port, ifname) -> [fd, port]: a UDP socket bound as
 * dhcplab-bind binds one (SO_REUSEADDR, SO_BINDTODEVICE when ifname is not empty, IPV6_V6ONLY),
 * for a relay run without the launcher, such as the unit tests' on loopback.
 */
static napi_value bind_udp(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int family = arg_int(env, argv[0]) == 4 ? AF_INET : AF_INET6;
  void *addr = NULL;
  size_t alen = 0;
  CHECK(napi_get_typedarray_info(env, argv[1], NULL, &alen, &addr, NULL, NULL));
  int port = arg_int(env, argv[2]);
  char ifname[IF_NAMESIZE] = "";
  size_t iflen = 0;
  CHECK(napi_get_value_string_utf8(env, argv[3], ifname, sizeof ifname, &iflen));
  if (alen != (family == AF_INET ? 4u : 16u)) return throw_errno(env, "bind: address length", EINVAL);
  int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "bind: socket", errno);
  int one = 1;
  struct sockaddr_in6 name;
  memset(&name, 0, sizeof name);
  socklen_t nlen;
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&name;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    memcpy(&a->sin_addr, addr, 4);
    nlen = sizeof *a;
  } else {
    name.sin6_family = AF_INET6;
    name.sin6_port = htons((uint16_t)port);
    memcpy(&name.sin6_addr, addr, 16);
    nlen = sizeof name;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      (iflen > 0 && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)iflen) < 0) ||
      (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
      bind(fd, (struct sockaddr *)&name, nlen) < 0 ||
      getsockname(fd, (struct sockaddr *)&name, &nlen) < 0) {
    int saved = errno;
    close(fd);
    return throw_errno(env, "bind", saved);
  }
  napi_value out, v;
  CHECK(napi_create_array_with_length(env, 2, &out));
  CHECK(napi_create_int32(env, fd, &v));
  CHECK(napi_set_element(env, out, 0, v));
  CHECK(napi_create_int32(env, ntohs(name.sin6_port), &v)); /* sin_port and sin6_port share their offset */
  CHECK(napi_set_element(env, out, 1, v));
  return out;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  const napi_property_descriptor fns[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adopt", NULL, adopt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"join6", NULL, join6, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openLink", NULL, open_link, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flush", NULL, flush, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_all, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bind", NULL, bind_udp, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns) != napi_ok) return NULL;
  return exports;
}
