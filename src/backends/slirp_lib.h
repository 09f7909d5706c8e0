/* libslirp, loaded on first use (slirp_lib.c). */
#ifndef CVISOR_BACKENDS_SLIRP_LIB_H
#define CVISOR_BACKENDS_SLIRP_LIB_H

#include <stddef.h>
#include <slirp/libslirp.h>

struct slirp_lib {
	Slirp *(*new)(const SlirpConfig *cfg, const SlirpCb *callbacks,
		      void *opaque);
	void (*cleanup)(Slirp *slirp);
	void (*input)(Slirp *slirp, const uint8_t *pkt, int pkt_len);
	void (*pollfds_fill)(Slirp *slirp, uint32_t *timeout,
			     SlirpAddPollCb add_poll, void *opaque);
	void (*pollfds_poll)(Slirp *slirp, int select_error,
			     SlirpGetREventsCb get_revents, void *opaque);
	void (*handle_timer)(Slirp *slirp, SlirpTimerId id, void *cb_opaque);
	int (*add_hostfwd)(Slirp *slirp, int is_udp, struct in_addr host_addr,
			   int host_port, struct in_addr guest_addr,
			   int guest_port);
};

/* The library's entry points, loading it the first time; NULL with the
 * reason in err. Call it where files may still be opened (building a VM
 * on the main thread, before the jail's chroot): once loaded it stays. */
const struct slirp_lib *slirp_lib(char *err, size_t errlen);

#endif
