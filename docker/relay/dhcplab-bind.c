/*
 * dhcplab-bind: opens the relay's UDP sockets, one per network interface and family, each bound
 * to its interface with SO_BINDTODEVICE, then runs the relay with them inherited.
 *
 *   dhcplab-bind node /opt/dhcplab/relay.mjs
 *
 * Why: the relay must know which interface every datagram came in on (a BOOTREPLY is trusted only
 * from a VRF's server on that VRF's interface; a client message on a backend interface is never
 * relayed) and must send a limited broadcast (255.255.255.255) out of the access interface.
 * Node's dgram has neither IP_PKTINFO nor SO_BINDTODEVICE, but it adopts a socket it is given
 * (bind({ fd })). The relay reads DHCPLAB_SOCKETS, "IFNAME:FAMILY:FD" entries separated by
 * commas, and treats each socket's datagrams as arriving on IFNAME.
 *
 * Ports: 67 for DHCPv4 (RFC 2131 §4.1), 547 for DHCPv6 (RFC 8415 §7.2). Every interface but the
 * loopback gets both; an interface where a family cannot be bound is skipped with a warning.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_on(int family, const char *ifname, int port) {
  int fd = socket(family, SOCK_DGRAM, 0); /* no SOCK_CLOEXEC: the relay inherits it */
  if (fd < 0) return -1;
  int one = 1;
  /* Several sockets share the port, one per device. */
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0)
    goto fail;
  int bound;
  if (family == AF_INET) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    bound = bind(fd, (struct sockaddr *)&a, sizeof a);
  } else {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) goto fail;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port)};
    bound = bind(fd, (struct sockaddr *)&a, sizeof a);
  }
  if (bound == 0) return fd;
fail:;
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: dhcplab-bind COMMAND [ARG...]\n");
    return 2;
  }
  struct if_nameindex *ifs = if_nameindex();
  if (!ifs) {
    perror("dhcplab-bind: if_nameindex");
    return 1;
  }
  size_t cap = 64, len = 0;
  char *spec = calloc(cap, 1);
  for (struct if_nameindex *i = ifs; i->if_index != 0 && i->if_name; i++) {
    if (strcmp(i->if_name, "lo") == 0) continue;
    const int families[2] = {AF_INET, AF_INET6};
    for (int f = 0; f < 2; f++) {
      int fd = open_on(families[f], i->if_name, families[f] == AF_INET ? 67 : 547);
      if (fd < 0) {
        fprintf(stderr, "dhcplab-bind: %s IPv%d: %s (skipped)\n", i->if_name,
                families[f] == AF_INET ? 4 : 6, strerror(errno));
        continue;
      }
      char entry[IF_NAMESIZE + 32];
      int n = snprintf(entry, sizeof entry, "%s%s:%d:%d", len ? "," : "", i->if_name,
                       families[f] == AF_INET ? 4 : 6, fd);
      while (len + (size_t)n + 1 > cap) spec = realloc(spec, cap *= 2);
      if (!spec) return 1;
      memcpy(spec + len, entry, (size_t)n + 1);
      len += (size_t)n;
    }
  }
  if_freenameindex(ifs);
  setenv("DHCPLAB_SOCKETS", spec, 1);
  execvp(argv[1], argv + 1);
  perror("dhcplab-bind: exec");
  return 127;
}
