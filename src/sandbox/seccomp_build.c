/* Building a thread kind's seccomp filter from its lists
 * (seccomp_lists.c) with libseccomp, down to the BPF the kernel loads.
 * seccomp.c does it at start when it must (a jail's ids, `--seccomp
 * log`); tools/seccomp_gen.c does it once when cvisor is built, for the
 * usual case, so that a start need not (issue 12). Both through this one
 * function: the filter is the same either way, and a test says so. */
#include <errno.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "sandbox/sandbox_priv.h"

/* The compiled filter, through a memfd: libseccomp 2.5.4 exports BPF only
 * to a file descriptor. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *out)
{
	int fd = memfd_create("cvisor-seccomp", MFD_CLOEXEC), rc;
	struct stat st;
	void *insns = NULL;

	if (fd < 0)
		return -errno;
	rc = seccomp_export_bpf(ctx, fd);
	if (!rc && fstat(fd, &st) < 0)
		rc = -errno;
	if (!rc && (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
		    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		rc = -E2BIG;
	if (!rc && !(insns = malloc((size_t)st.st_size)))
		rc = -ENOMEM;
	if (!rc && pread(fd, insns, (size_t)st.st_size, 0) != st.st_size)
		rc = -EIO;
	close(fd);
	if (rc) {
		free(insns);
		return rc;
	}
	out->filter = insns;
	out->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *r)
{
	/* A syscall this architecture does not have is nothing to allow. */
	if (r->nr < 0)
		return 0;
	if (r->argc)
		return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					      &r->arg);
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
}

/* The block workers and a multiqueue virtio-net's queue-pair loops exist
 * when the jail drops the user, and glibc makes each thread call
 * setresuid/setresgid/setgroups itself: allow exactly the jail's ids,
 * nothing else. */
static int add_setid_rules(scmp_filter_ctx ctx, const struct sandbox_ids *ids)
{
	int rc;

	if (!ids)
		return 0;
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setresuid), 3,
			      SCMP_A0(SCMP_CMP_EQ, ids->uid),
			      SCMP_A1(SCMP_CMP_EQ, ids->uid),
			      SCMP_A2(SCMP_CMP_EQ, ids->uid));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setresgid),
				      3, SCMP_A0(SCMP_CMP_EQ, ids->gid),
				      SCMP_A1(SCMP_CMP_EQ, ids->gid),
				      SCMP_A2(SCMP_CMP_EQ, ids->gid));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setgroups),
				      1, SCMP_A0(SCMP_CMP_EQ, 0));
	return rc;
}

static bool listed(const struct sc_list *const *lists, int nr)
{
	for (; *lists; lists++)
		for (unsigned i = 0; i < (*lists)->n; i++)
			if ((*lists)->rules[i].nr == nr)
				return true;
	return false;
}

/* Opening a file, where a kind may not: refused with EACCES rather than
 * fatal. Libraries try optional files on these threads (libslirp reads
 * /etc/resolv.conf while it answers some guest packets even with its DNS
 * off), and they cope with a file they cannot read; the call is refused
 * all the same. */
static int add_open_errno_rules(scmp_filter_ctx ctx,
				const struct sc_list *const *lists)
{
	static const int calls[] = { SCMP_SYS(open), SCMP_SYS(openat),
				     SCMP_SYS(openat2), SCMP_SYS(creat) };
	int rc = 0;

	for (unsigned i = 0; !rc && i < ARRAY_SIZE(calls); i++)
		if (calls[i] >= 0 && !listed(lists, calls[i]))
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
					      calls[i], 0);
	return rc;
}

int sandbox_build_filter(enum sandbox_kind kind, enum sandbox_mode mode,
			 const struct sandbox_ids *ids, struct sock_fprog *out)
{
	const struct sc_list *const *lists = sc_lists_for(kind);
	uint32_t def = mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	scmp_filter_ctx ctx;
	int rc = 0;

	if (!lists)
		return -EINVAL;
	ctx = seccomp_init(def);
	if (!ctx)
		return -ENOMEM;
	/* A call through another ABI (x32, int 0x80) is never ours. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			      SCMP_ACT_KILL_PROCESS);
	for (; !rc && *lists; lists++)
		for (unsigned i = 0; !rc && i < (*lists)->n; i++)
			rc = add_rule(ctx, &(*lists)->rules[i]);
	if (!rc && (kind == SANDBOX_BLOCK || kind == SANDBOX_EVENTS))
		rc = add_setid_rules(ctx, ids);
	if (!rc && mode == SANDBOX_ON)
		rc = add_open_errno_rules(ctx, sc_lists_for(kind));
	if (!rc)
		rc = export_bpf(ctx, out);
	seccomp_release(ctx);
	return rc;
}
