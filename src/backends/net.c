/* Network backends: choosing one from the hostdev, and the syntax checks
 * the config layer shares with the device (MAC, hostfwd). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/net.h"
#include "backends/net_peer.h"

const char *net_check_backend(const char *spec)
{
	if (!spec || !strcmp(spec, "user"))
		return NULL;
	if (!strncmp(spec, "tap:", 4))
		return net_tap_check_name(spec + 4);
	return "unknown network backend; expected 'user' or 'tap:NAME'";
}

/* Several queue pairs need a backend with one fd per pair: tap. */
const char *net_check_queues(const char *spec, unsigned queues)
{
	if (queues > NET_MAX_QUEUE_PAIRS)
		return "too many queue pairs";
	if (queues > 1 && (!spec || strncmp(spec, "tap:", 4)))
		return "queues > 1 needs a tap backend (hostdev tap:NAME)";
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* XX:XX:XX:XX:XX:XX (or '-' separated), unicast, not all zero. */
const char *net_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	if (strlen(s) != 17)
		return "expected a MAC address XX:XX:XX:XX:XX:XX";
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 ||
		    (i < 5 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-'))
			return "expected a MAC address XX:XX:XX:XX:XX:XX";
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1)
		return "a multicast MAC address cannot be a NIC's address";
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return "the all-zero MAC address is not valid";
	if (mac)
		memcpy(mac, m, 6);
	return NULL;
}

/* "ADDR:PORT" with ADDR optional (any); port 1..65535 (guest side) or
 * 0..65535 (host side: 0 = any free port is useless, refused too). */
static const char *parse_addr_port(const char *s, size_t len, uint32_t *addr,
				   uint16_t *port)
{
	char buf[64], *end;
	const char *colon = memchr(s, ':', len);
	unsigned long p;
	struct in_addr in;

	if (!colon)
		return "expected [ADDR]:PORT";
	if ((size_t)(colon - s) >= sizeof(buf) || len - (size_t)(colon - s) >= sizeof(buf))
		return "address too long";
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	*addr = 0;
	if (buf[0]) {
		if (inet_pton(AF_INET, buf, &in) != 1)
			return "invalid IPv4 address";
		*addr = in.s_addr;
	}
	len -= (size_t)(colon - s) + 1;
	memcpy(buf, colon + 1, len);
	buf[len] = '\0';
	errno = 0;
	p = strtoul(buf, &end, 10);
	if (!buf[0] || *end || errno || p < 1 || p > 65535 || buf[0] == '-' ||
	    buf[0] == '+')
		return "invalid port (1-65535)";
	*port = (uint16_t)p;
	return NULL;
}

/* [tcp|udp:][HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, as QEMU's. */
const char *net_parse_hostfwd(const char *s, struct net_hostfwd *out)
{
	struct net_hostfwd f = { 0 };
	const char *dash, *err;

	if (!strncmp(s, "tcp:", 4)) {
		s += 4;
	} else if (!strncmp(s, "udp:", 4)) {
		f.udp = true;
		s += 4;
	}
	dash = strchr(s, '-');
	if (!dash)
		return "expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:"
		       "GUESTPORT";
	err = parse_addr_port(s, (size_t)(dash - s), &f.host_addr,
			      &f.host_port);
	if (!err)
		err = parse_addr_port(dash + 1, strlen(dash + 1),
				      &f.guest_addr, &f.guest_port);
	if (err)
		return err;
	if (out)
		*out = f;
	return NULL;
}

struct net_backend *net_backend_open(const struct net_backend_params *p,
				     struct event_loop *loop,
				     char *err, size_t errlen)
{
	const char *why;

	if (p->peer)
		return net_peer_open(p, loop, err, errlen);
	why = net_check_backend(p->spec);
	if (!why)
		why = net_check_queues(p->spec, p->queues);
	if (why) {
		snprintf(err, errlen, "%s: %s", p->spec, why);
		errno = EINVAL;
		return NULL;
	}
	if (p->spec && !strncmp(p->spec, "tap:", 4))
		return net_tap_open(p, loop, err, errlen);
	return net_slirp_open(p, loop, err, errlen);
}

void net_backend_set_client(struct net_backend *be,
			    const struct net_backend_client *c)
{
	be->client = *c;
}

void net_backend_close(struct net_backend *be)
{
	if (be)
		be->ops->free(be);
}
