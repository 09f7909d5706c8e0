/* `vdev fw-cfg`: the fw_cfg device with the user's own items, QEMU's
 * `-fw_cfg name=opt/NAME,file=PATH` and `-fw_cfg name=opt/NAME,string=TEXT`:
 *
 *   vdev fw-cfg file opt/org.example/blob,blob.bin string opt/mode,"fast"
 *
 * Both options repeat. Names start with opt/ (QEMU keeps the others for
 * itself and for firmware) and fit fw_cfg's 56-byte name field with its
 * NUL; a string is stored without a NUL, as QEMU does. A relative PATH is
 * relative to the directory of the file that names it, like every path in
 * a config. Files are checked when the config is (so `cvisor check` names
 * a missing one at its file:line:col), read whole when the VM is built
 * (FW_CFG_FILE_MAX at most) and kept across guest resets.
 *
 * Without this vdev an x86 VM still has a fw-cfg with the machine's items
 * (fw_cfg_pc.c, fw_cfg_implicit()); the vdev is for adding items.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/persist.h"
#include "core/util.h"
#include "devices/fw_cfg.h"
#include "devices/registry.h"

#define OPT_PREFIX "opt/"

struct kept {
	void *data;
	size_t len;
};

/* NAME,REST: the name's length, or 0 after filling *why. */
static size_t split_item(const char *v, bool is_file, const char **why)
{
	const char *comma = strchr(v, ',');
	size_t n = comma ? (size_t)(comma - v) : 0;

	if (!comma)
		*why = is_file ? "expected opt/NAME,PATH" : "expected opt/NAME,TEXT";
	else if (n <= strlen(OPT_PREFIX) || strncmp(v, OPT_PREFIX,
						    strlen(OPT_PREFIX)))
		*why = "the name must start with opt/ and go on (QEMU keeps "
		       "the other names for itself and for firmware)";
	else if (n >= FW_CFG_NAME_MAX)
		*why = "the name is longer than 55 bytes";
	else if (!comma[1])
		*why = is_file ? "expected a path after the comma"
			       : "expected text after the comma";
	else
		return n;
	return 0;
}

static const char *check_file_opt(const char *v)
{
	const char *why = NULL;

	split_item(v, true, &why);
	return why;
}

static const char *check_string_opt(const char *v)
{
	const char *why = NULL;

	split_item(v, false, &why);
	return why;
}

/* A relative path is relative to the directory of the config file that
 * wrote it; on the command line (whose pseudo file name starts with '<')
 * to the current directory. */
static const char *item_path(const struct cfg_devopt *o, const char *path,
			     char *buf, size_t size)
{
	const char *file = o->pos.file, *slash;

	if (path[0] == '/' || !file || file[0] == '<')
		return path;
	slash = strrchr(file, '/');
	if (!slash)
		return path;
	snprintf(buf, size, "%.*s/%s", (int)(slash - file), file, path);
	return buf;
}

static bool is_item(const struct cfg_devopt *o)
{
	return o->value && (!strcmp(o->key, "file") || !strcmp(o->key, "string"));
}

static void lower_first(char *s)
{
	if (s[0] >= 'A' && s[0] <= 'Z')
		s[0] = (char)(s[0] - 'A' + 'a');
}

/* What a run would refuse about one `file` item, or NULL. */
static const char *check_file(const struct cfg_devopt *o, size_t n,
			      char *why, size_t size)
{
	char buf[4096], err[128];
	const char *path = item_path(o, o->value + n + 1, buf, sizeof(buf));
	struct stat st;

	if (stat(path, &st) || access(path, R_OK)) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		lower_first(err);
		snprintf(why, size, "file %.*s: cannot read '%s': %s", (int)n,
			 o->value, path, err);
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, size, "file %.*s: '%s' is not a regular file",
			 (int)n, o->value, path);
	} else if ((uint64_t)st.st_size > FW_CFG_FILE_MAX) {
		snprintf(why, size, "file %.*s: '%s' is larger than %u MiB",
			 (int)n, o->value, path, FW_CFG_FILE_MAX >> 20);
	} else {
		return NULL;
	}
	return why;
}

/* Names used twice, and files that cannot be read. */
static const char *fw_cfg_check_vdev(const struct vdev_config *vc,
				     const struct cfg_pos **at)
{
	static _Thread_local char why[512];
	const char *syntax = NULL;

	if (vc->nr_locs && (vc->locs[0].space != LOC_IO ||
			    vc->locs[0].addr != FW_CFG_IO_BASE)) {
		*at = &vc->locs[0].pos;
		return "its ports are fixed at io 0x510-0x51b, where firmware "
		       "looks for them";
	}
	for (unsigned i = 0; i < vc->nr_opts; i++) {
		const struct cfg_devopt *o = &vc->opts[i];
		size_t n;

		if (!is_item(o))
			continue;
		n = split_item(o->value, false, &syntax);
		*at = &o->pos;
		for (unsigned j = 0; n && j < i; j++)
			if (is_item(&vc->opts[j]) &&
			    !strncmp(vc->opts[j].value, o->value, n + 1)) {
				snprintf(why, sizeof(why), "item %.*s given twice "
					 "(first at %s:%u:%u)", (int)n, o->value,
					 vc->opts[j].pos.file,
					 vc->opts[j].pos.line,
					 vc->opts[j].pos.col);
				return why;
			}
		if (n && !strcmp(o->key, "file") &&
		    check_file(o, n, why, sizeof(why)))
			return why;
	}
	return NULL;
}

static void free_kept(void *obj)
{
	struct kept *k = obj;

	free(k->data);
	free(k);
}

/* The file's bytes: read once per process, then the kept copy (a guest
 * reset rebuilds the VM where the path may not open any more). */
static const struct kept *read_item(const struct cfg_devopt *o,
				    const char *path, const struct dev_env *env,
				    struct kept *tmp)
{
	struct kept *k = env->persist ? persist_get(env->persist, o,
						    PERSIST_FILE) : NULL;

	if (k)
		return k;
	tmp->data = read_file(path, FW_CFG_FILE_MAX, &tmp->len);
	if (!tmp->data || !env->persist)
		return tmp->data ? tmp : NULL;
	k = xcalloc(1, sizeof(*k));
	*k = *tmp;
	if (persist_put(env->persist, o, PERSIST_FILE, k, free_kept)) {
		free(k);
		return tmp;         /* not kept: ours to free */
	}
	tmp->data = NULL;
	return k;
}

static int add_one(struct fw_cfg *s, const struct cfg_devopt *o,
		   const struct dev_env *env)
{
	const char *why = NULL, *rest;
	size_t n = split_item(o->value, !strcmp(o->key, "file"), &why);
	char name[FW_CFG_NAME_MAX], buf[4096];
	struct kept tmp = { 0 };
	const struct kept *k;
	int ret;

	if (!n)
		return -EINVAL;
	memcpy(name, o->value, n);
	name[n] = '\0';
	rest = o->value + n + 1;
	if (!strcmp(o->key, "string"))
		return fw_cfg_add_file(s, name, rest, strlen(rest));
	rest = item_path(o, rest, buf, sizeof(buf));
	k = read_item(o, rest, env, &tmp);
	if (!k)
		return errno ? -errno : -EIO;
	ret = fw_cfg_add_file(s, name, k->data, k->len);
	free(tmp.data);
	return ret;
}

int fw_cfg_add_user_items(struct fw_cfg *s, const struct vdev_config *vc,
			  const struct dev_env *env)
{
	for (unsigned i = 0; i < vc->nr_opts; i++) {
		const struct cfg_devopt *o = &vc->opts[i];
		int ret;

		if (!is_item(o))
			continue;
		ret = add_one(s, o, env);
		if (ret) {
			pr_err("vdev fw-cfg: %s %s: %s", o->key, o->value,
			       strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int fw_cfg_create(const struct vdev_config *vc,
			 const struct dev_env *env, struct device **out)
{
	struct fw_cfg *s = fw_cfg_new(env);
	int ret = fw_cfg_add_user_items(s, vc, env);

	if (ret) {
		fw_cfg_device(s)->ops->free(fw_cfg_device(s));
		return ret;
	}
	*out = fw_cfg_device(s);
	return 0;
}

static bool fw_cfg_default_loc(unsigned index, uint64_t *addr)
{
	*addr = FW_CFG_IO_BASE;
	return index == 0;
}

static const struct devopt_spec fw_cfg_opts[] = {
	{ .key = "file", .kind = DEVOPT_STR, .repeatable = true,
	  .check = check_file_opt },
	{ .key = "string", .kind = DEVOPT_STR, .repeatable = true,
	  .check = check_string_opt },
	{ 0 },
};

/* QEMU's fw_cfg (a cvisor extension to QNX's vdevs). */
const struct vdev_type fw_cfg_type = {
	.name = "fw-cfg",
	.aliases = (const char *const[]){ "fw_cfg", NULL },
	.class = VDEV_PLATFORM,
	.supported = true,
	.max_instances = 1,
	.loc_space = LOC_IO,
	.region_len = FW_CFG_IO_LEN,
	.default_loc = fw_cfg_default_loc,
	.check_vdev = fw_cfg_check_vdev,
	.opts = fw_cfg_opts,
	.create = fw_cfg_create,
};
