/* The tap backend (backends/net_tap.c). Without root: the `tap:NAME` and
 * `queues` checks. As root (in a network namespace of its own, so nothing
 * of the host is touched): a tap created by the backend, frames injected
 * on its host side through a packet socket arrive with their vnet header,
 * the read loop stops while the device has no room and starts again on
 * rx_resume, a frame sent goes out whole, and deleting the tap under the
 * backend brings the link down and fails further sends. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "backends/net.h"
#include "core/persist.h"
#include "event/loop.h"

#define TAP	"cvt0"
#define ETYPE	0x88b5          /* IEEE local experimental */

static bool have_ns;            /* root, /dev/net/tun, a namespace */

/* The tap I/O tests need have_ns: a skip that says why. */
#define NEED_NS() do { \
	if (!have_ns) { \
		print_message("SKIP: needs root, /dev/net/tun and a network " \
			      "namespace of its own (unshare)\n"); \
		skip(); \
	} \
} while (0)

static void test_names(void **state)
{
	assert_null(net_check_backend("tap:tap0"));
	assert_null(net_check_backend("tap:a-b_c.d"));
	assert_null(net_check_backend("tap:123456789012345"));
	assert_non_null(net_check_backend("tap:"));
	assert_non_null(net_check_backend("tap:1234567890123456"));
	assert_non_null(net_check_backend("tap:a/b"));
	assert_non_null(net_check_backend("tap:a b"));
	assert_non_null(net_check_backend("tap:a:b"));
	assert_non_null(net_check_backend("tap:.."));
	assert_non_null(net_check_backend("tap0"));
	assert_null(net_check_queues("tap:x", 8));
	assert_null(net_check_queues("user", 1));
	assert_null(net_check_queues(NULL, 1));
	assert_non_null(net_check_queues("user", 2));
	assert_non_null(net_check_queues(NULL, 2));
	assert_non_null(net_check_queues("peer", 2));
	assert_non_null(net_check_queues("tap:x", NET_MAX_QUEUE_PAIRS + 1));
	(void)state;
}

struct tfix {
	struct event_loop *loop;
	struct net_backend *be;
	int pk;                 /* packet socket on the tap's host side */
	int ifindex;
	unsigned nr;            /* our frames received */
	uint8_t last[256];
	size_t last_len;
	uint8_t hdr[12];
	bool misaligned;        /* a frame not at a 64-byte boundary */
	bool room;
	int link;               /* -1: no call; else the last state */
};

static bool on_rx_hdr(void *opaque, unsigned qp, const void *hdr,
		      const struct iovec *iov, unsigned cnt, size_t len)
{
	struct tfix *f = opaque;
	uint8_t b[256];
	size_t n = len < sizeof(b) ? len : sizeof(b);

	assert_int_equal(qp, 0);
	assert_int_equal(cnt, 1);
	memcpy(b, iov[0].iov_base, n);
	/* the kernel's own frames (IPv6 solicitations...) are not ours */
	if (n < 14 || b[12] != ETYPE >> 8 || b[13] != (ETYPE & 0xff))
		return true;
	memcpy(f->last, b, n);
	f->last_len = len;
	f->misaligned |= (uintptr_t)iov[0].iov_base % 64 != 0;
	memcpy(f->hdr, hdr, 12);
	f->nr++;
	return f->room;
}

static bool on_rx(void *opaque, const struct iovec *iov, unsigned cnt,
		  size_t len)
{
	fail_msg("the tap backend hands frames with their header");
	return true;
}

static void on_link(void *opaque, bool up)
{
	((struct tfix *)opaque)->link = up;
}

static size_t frame(uint8_t *b, size_t len, uint8_t seq)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 1 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 2 };

	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = ETYPE >> 8;
	b[13] = ETYPE & 0xff;
	for (size_t i = 14; i < len; i++)
		b[i] = (uint8_t)(seq + i);
	return len;
}

static void inject(struct tfix *f, uint8_t seq)
{
	uint8_t b[100];
	struct sockaddr_ll a = { .sll_family = AF_PACKET,
				 .sll_ifindex = f->ifindex, .sll_halen = 6 };

	frame(b, sizeof(b), seq);
	assert_int_equal(sendto(f->pk, b, sizeof(b), 0, (struct sockaddr *)&a,
				sizeof(a)), sizeof(b));
}

/* Loop rounds until cond or a hang guard (5 s). */
#define POLL_UNTIL(f, cond)						\
	do {								\
		for (int i_ = 0; i_ < 500 && !(cond); i_++)		\
			event_loop_poll((f)->loop, 10);			\
		assert_true(cond);					\
	} while (0)

static int tap_setup(void **state)
{
	struct tfix *f = calloc(1, sizeof(*f));
	struct net_backend_params p = { .spec = "tap:" TAP, .mtu = 1500,
					.queues = 1 };
	struct net_backend_client c = { .rx = on_rx, .rx_hdr = on_rx_hdr,
					.link = on_link, .opaque = f };
	struct ifreq ifr = { 0 };
	struct sockaddr_ll a = { .sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_ALL) };
	char err[256];
	int s;

	*state = f;
	f->room = true;
	f->link = -1;
	if (!have_ns)
		return 0;
	f->loop = event_loop_new();
	assert_non_null(f->loop);
	f->be = net_tap_open(&p, f->loop, err, sizeof(err));
	if (!f->be)
		fail_msg("net_tap_open: %s", err);
	net_backend_set_client(f->be, &c);
	assert_int_equal(f->be->caps, NET_CAP_CSUM | NET_CAP_GSO |
			 NET_CAP_RX_BATCH);
	f->ifindex = (int)if_nametoindex(TAP);
	assert_true(f->ifindex > 0);
	/* up, so that the packet socket can send on it */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	strcpy(ifr.ifr_name, TAP);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
	f->pk = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	assert_true(f->pk >= 0);
	a.sll_ifindex = f->ifindex;
	assert_int_equal(bind(f->pk, (struct sockaddr *)&a, sizeof(a)), 0);
	return 0;
}

static int tap_teardown(void **state)
{
	struct tfix *f = *state;

	if (f->be)
		net_backend_close(f->be);
	if (f->pk > 0)
		close(f->pk);
	event_loop_free(f->loop);
	free(f);
	return 0;
}

static void test_rx_flow_control(void **state)
{
	struct tfix *f = *state;
	static const uint8_t zero[12];
	uint8_t want[100];

	NEED_NS();
	/* three frames queued in the tap before the loop runs */
	f->room = false;
	inject(f, 1);
	inject(f, 2);
	inject(f, 3);
	POLL_UNTIL(f, f->nr == 1);
	assert_int_equal(f->last_len, 100);
	assert_memory_equal(f->last, want, frame(want, 100, 1));
	assert_memory_equal(f->hdr, zero, 12);   /* no offload asked */
	/* paused: the other two stay in the tap however long we poll */
	for (int i = 0; i < 20; i++)
		event_loop_poll(f->loop, 0);
	assert_int_equal(f->nr, 1);
	f->room = true;
	net_backend_rx_resume(f->be);
	POLL_UNTIL(f, f->nr == 3);
	assert_memory_equal(f->last, want, frame(want, 100, 3));
	/* read to a 64-byte boundary: the kernel's copy is slow otherwise */
	assert_false(f->misaligned);
}

/* A frame from the guest leaves on the tap whole, header stripped. */
static void test_tx(void **state)
{
	struct tfix *f = *state;
	uint8_t b[200], got[300];
	uint8_t hdr[12] = { 0 };
	struct iovec iov[2];
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t n;

	NEED_NS();
	frame(b, sizeof(b), 7);
	iov[0] = (struct iovec){ b, 50 };
	iov[1] = (struct iovec){ b + 50, 150 };
	assert_int_equal(net_backend_send(f->be, hdr, iov, 2, sizeof(b)), 0);
	for (;;) {
		fl = sizeof(from);
		n = recvfrom(f->pk, got, sizeof(got), 0,
			     (struct sockaddr *)&from, &fl);
		assert_true(n > 0);
		if (from.sll_pkttype != PACKET_OUTGOING && n >= 14 &&
		    got[12] == ETYPE >> 8)
			break;
	}
	assert_int_equal(n, sizeof(b));
	assert_memory_equal(got, b, sizeof(b));
	/* the receive offloads: applied on the loop, no complaint */
	net_backend_set_offloads(f->be, NET_OFF_CSUM | NET_OFF_TSO4 |
				 NET_OFF_TSO6 | NET_OFF_ECN | NET_OFF_UFO);
	event_loop_poll(f->loop, 0);
}

/* The tap deleted under the backend: link down, sends fail. A send that
 * finds it gone first says so on the next loop round, not inside the
 * send: the device calls it under its TX queue's lock, and the link
 * change takes the device's, which a vCPU takes first (it was inline). */
static void test_tap_deleted(void **state)
{
	struct tfix *f = *state;
	uint8_t b[60], hdr[12] = { 0 };
	struct iovec iov = { b, sizeof(b) };
	int link = f->link, rc;

	NEED_NS();
	rc = system("ip link del dev " TAP " 2>/dev/null");
	if (rc && WIFEXITED(rc) && WEXITSTATUS(rc) == 127) {
		print_message("SKIP: no ip command (iproute2) to delete the "
			      "tap with\n");
		skip();
	}
	assert_int_equal(rc, 0);                  /* ip link del dev cvt0 */
	frame(b, sizeof(b), 1);
	assert_int_equal(net_backend_send(f->be, hdr, &iov, 1, sizeof(b)),
			 -EBADFD);
	assert_int_equal(f->link, link);
	POLL_UNTIL(f, f->link == 0);
	assert_false(f->be->link_up);
	frame(b, sizeof(b), 1);
	assert_true(net_backend_send(f->be, hdr, &iov, 1, sizeof(b)) < 0);
}

/* Kept across a guest reset: the backend closed and opened again with
 * the same persist object finds the same tap, still there in between
 * (it was created by the backend, so closing its fds would delete it);
 * it goes when the persist object is freed (cvisor's exit). */
static void test_kept_across_reset(void **state)
{
	struct tfix *f = *state;
	struct persist *ps = persist_new();
	static const int owner;
	struct net_backend_params p = { .spec = "tap:cvt1", .mtu = 1500,
					.queues = 1, .persist = ps,
					.persist_owner = &owner };
	struct net_backend *be;
	uint8_t b[60], hdr[12] = { 0 };
	struct iovec iov = { b, sizeof(b) };
	char err[256];

	NEED_NS();
	assert_int_equal(if_nametoindex("cvt1"), 0);
	be = net_tap_open(&p, f->loop, err, sizeof(err));
	assert_non_null(be);
	net_backend_close(be);
	assert_true(if_nametoindex("cvt1") > 0);        /* still there */
	be = net_tap_open(&p, f->loop, err, sizeof(err));
	assert_non_null(be);
	frame(b, sizeof(b), 1);
	/* the host side is down: that frame is dropped, nothing more */
	assert_int_equal(net_backend_send(be, hdr, &iov, 1, sizeof(b)), -EIO);
	assert_true(be->link_up);
	net_backend_close(be);
	assert_true(if_nametoindex("cvt1") > 0);
	persist_free(ps);
	assert_int_equal(if_nametoindex("cvt1"), 0);   /* gone with cvisor */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_rx_flow_control,
						tap_setup, tap_teardown),
		cmocka_unit_test_setup_teardown(test_tx, tap_setup,
						tap_teardown),
		cmocka_unit_test_setup_teardown(test_tap_deleted, tap_setup,
						tap_teardown),
		cmocka_unit_test_setup_teardown(test_kept_across_reset,
						tap_setup, tap_teardown),
	};
	int fd;

	/* A namespace of our own: the tap and its traffic stay in it. */
	if (geteuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0 &&
	    unshare(CLONE_NEWNET) == 0) {
		have_ns = true;
		fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6",
			  O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "1", 1) < 0)
				perror("disable_ipv6");
			close(fd);
		}
	} else {
		fprintf(stderr, "test_net_tap: not root, no /dev/net/tun or "
			"no network namespace: the tap I/O tests skip\n");
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
