/* The filters of the usual start, compiled when cvisor was built: see
 * seccomp_prebuilt.h and tools/seccomp_gen.c. */
#include "sandbox/seccomp_prebuilt.h"

bool sandbox_prebuilt_filter(enum sandbox_kind kind, struct sock_fprog *out)
{
	if (kind >= SANDBOX_NR_KINDS || !sandbox_prebuilt[kind].len)
		return false;
	/* The kernel only reads it. */
	out->filter = (struct sock_filter *)sandbox_prebuilt[kind].insns;
	out->len = sandbox_prebuilt[kind].len;
	return true;
}
