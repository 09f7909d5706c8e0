/* libslirp is loaded when the first `hostdev user` network is built, not
 * at exec: with glib and pcre it is about 750 KiB of resident pages,
 * which every VM without user networking would carry (issue 12's peak
 * RSS goal: within 1 MiB of a bare KVM program). The header still comes
 * from libslirp-dev, so the types are the library's own. */
#include <dlfcn.h>
#include <stdio.h>

#include "backends/slirp_lib.h"

#define SLIRP_SONAME "libslirp.so.0"

static struct slirp_lib lib;
static void *handle;

static int resolve(void **fn, const char *name, char *err, size_t errlen)
{
	*fn = dlsym(handle, name);
	if (!*fn) {
		snprintf(err, errlen, "%s has no %s", SLIRP_SONAME, name);
		return -1;
	}
	return 0;
}

const struct slirp_lib *slirp_lib(char *err, size_t errlen)
{
	const char *why;

	if (handle)
		return &lib;
	/* RTLD_NODELETE: never unloaded, even by a failed resolve below */
	handle = dlopen(SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!handle) {
		why = dlerror();
		snprintf(err, errlen, "user networking needs %s (Debian's "
			 "libslirp0): %s", SLIRP_SONAME, why ? why : "?");
		return NULL;
	}
	if (resolve((void **)&lib.new, "slirp_new", err, errlen) ||
	    resolve((void **)&lib.cleanup, "slirp_cleanup", err, errlen) ||
	    resolve((void **)&lib.input, "slirp_input", err, errlen) ||
	    resolve((void **)&lib.pollfds_fill, "slirp_pollfds_fill", err,
		    errlen) ||
	    resolve((void **)&lib.pollfds_poll, "slirp_pollfds_poll", err,
		    errlen) ||
	    resolve((void **)&lib.handle_timer, "slirp_handle_timer", err,
		    errlen) ||
	    resolve((void **)&lib.add_hostfwd, "slirp_add_hostfwd", err,
		    errlen)) {
		handle = NULL;
		return NULL;
	}
	return &lib;
}
