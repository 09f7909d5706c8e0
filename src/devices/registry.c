#include <string.h>

#include "devices/registry.h"

/* Types QNX documents that cvisor does not emulate yet: they are known, so a
 * config using them gets "not supported yet" instead of "unknown vdev". */
#define UNSUPPORTED(n, cls) \
	static const struct vdev_type n##_unsupported = { .name = #n, .class = cls }
#define UNSUPPORTED_NAMED(var, str, cls, ...) \
	static const struct vdev_type var = { .name = str, .class = cls, \
		.aliases = (const char *const[]){ __VA_ARGS__ } }

UNSUPPORTED(hpet, VDEV_PLATFORM);
UNSUPPORTED(shmem, VDEV_PLATFORM);
UNSUPPORTED_NAMED(wdt_ib700_u, "wdt-ib700", VDEV_PLATFORM, NULL);
UNSUPPORTED_NAMED(wdt_sp805_u, "wdt-sp805", VDEV_PLATFORM, NULL);
UNSUPPORTED_NAMED(pci_dummy_u, "pci-dummy", VDEV_PLATFORM, NULL);

const struct vdev_type *const vdev_types[] = {
	&ser8250_type,
	&pl011_type,
	&pl031_type,
	&debug_exit_type,
	&pckeyboard_type,
	&testdev_type,
	&pc_testdev_type,
	&fw_cfg_type,
	&ioapic_type,
	&pic8259_type,
	&timer8254_type,
	&hpet_unsupported,
	&mc146818_type,
	&shmem_unsupported,
	&gic_type,
	&pmu_type,
	&virtio_blk_type,
	&virtio_net_type,
	&virtio_console_type,
	&virtio_entropy_type,
	&lsi53c895a_type,
	&wdt_ib700_u,
	&wdt_sp805_u,
	&pci_dummy_u,
	NULL,
};

static bool name_is(const struct vdev_type *t, const char *name, size_t len)
{
	if (strlen(t->name) == len && !strncmp(t->name, name, len))
		return true;
	for (const char *const *a = t->aliases; a && *a; a++)
		if (strlen(*a) == len && !strncmp(*a, name, len))
			return true;
	return false;
}

const struct vdev_type *vdev_type_find(const char *name)
{
	size_t len = strlen(name);

	/* QNX also accepts the shared-object spellings vdev-X and vdev-X.so. */
	if (!strncmp(name, "vdev-", 5)) {
		name += 5;
		len -= 5;
		if (len > 3 && !strcmp(name + len - 3, ".so"))
			len -= 3;
	}
	for (const struct vdev_type *const *t = vdev_types; *t; t++)
		if (name_is(*t, name, len))
			return *t;
	return NULL;
}

const struct devopt_spec *vdev_type_opt(const struct vdev_type *t,
					const char *key)
{
	for (const struct devopt_spec *o = t->opts; o && o->key; o++)
		if (!strcmp(o->key, key))
			return o;
	return NULL;
}
