/* DNS forwarding for `hostdev user` when the event loop thread may not
 * open files (net_dns.c). libslirp re-reads /etc/resolv.conf on that
 * thread for each query, which `--seccomp on` forbids; instead cvisor
 * reads the host's resolver once, at start, and forwards the guest's
 * UDP queries to 10.0.2.3:53 / [fec0::3]:53 itself over one connected
 * socket, answering with frames built here.
 */
#ifndef CVISOR_BACKENDS_NET_DNS_H
#define CVISOR_BACKENDS_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_loop;
struct net_dns;

/* Pending queries: beyond this the oldest is forgotten (its answer, if
 * one ever comes, is dropped). */
#define NET_DNS_PENDING		64

/* A frame for the guest, built by the forwarder. */
typedef void net_dns_deliver_fn(void *opaque, const void *frame, size_t len);

struct net_dns_stats {
	uint64_t forwarded;      /* queries sent to the resolver */
	uint64_t answered;       /* answers delivered to the guest */
	uint64_t truncated;      /* answers cut to fit the MTU (TC set) */
	uint64_t dropped;        /* malformed, or the socket was full */
	uint64_t stray;          /* answers nobody asked for */
};

/* The host's first nameserver from /etc/resolv.conf (port 53). Read once
 * per process, then cached: a VM rebuilt after a guest reset runs under
 * the sandbox and must not need the file again. -ENOENT: none. */
int net_dns_host_resolver(struct sockaddr_storage *ss, socklen_t *len);

/* A forwarder to resolver, its socket watched on loop. mtu bounds the
 * answers (IP packet size). NULL with errno. */
struct net_dns *net_dns_new(struct event_loop *loop,
			    const struct sockaddr *resolver, socklen_t len,
			    unsigned mtu, net_dns_deliver_fn *deliver,
			    void *opaque);
/* A frame from the guest: true when it was a UDP packet to the virtual
 * DNS server (forwarded, or dropped when malformed); false for anything
 * else, which the caller passes on. */
bool net_dns_intercept(struct net_dns *d, const uint8_t *frame, size_t len);
/* Reads the resolver's answers (the loop calls it when the socket is
 * readable). */
void net_dns_poll(struct net_dns *d);
void net_dns_get_stats(const struct net_dns *d, struct net_dns_stats *st);
void net_dns_free(struct net_dns *d);

#endif
