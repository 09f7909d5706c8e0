/* The table of vdev types: for each QNX-style `vdev TYPE`, what the config
 * layer needs to validate it (options, location rules, default location and
 * size) and how the builder creates it. Adding a device type = one new file
 * defining a `const struct vdev_type` and one line in registry.c.
 */
#ifndef CVISOR_DEVICES_REGISTRY_H
#define CVISOR_DEVICES_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "devices/device.h"

enum devopt_kind {
	DEVOPT_FLAG,      /* no argument: `legacy` */
	DEVOPT_NUM,       /* one number, within [min, max] */
	DEVOPT_STR,       /* one word or quoted string */
	DEVOPT_ENUM,      /* one of choices ("a|b|c") */
	DEVOPT_LIST,      /* one token of comma-separated numbers: `reg 0x0b,0x02` */
};

struct devopt_spec {
	const char *key;
	enum devopt_kind kind;
	uint64_t min, max;         /* DEVOPT_NUM */
	const char *choices;       /* DEVOPT_ENUM: "enable|disable" */
	bool repeatable;
	/* Optional syntax check of the value: NULL or what is wrong. */
	const char *(*check)(const char *value);
};

enum vdev_class {
	VDEV_PLATFORM,    /* fixed io/mem location */
	VDEV_VIRTIO,      /* PCI unless loc and intr both given */
	VDEV_IRQCHIP,     /* names an interrupt controller (ioapic) */
	VDEV_INKERNEL,    /* emulated by KVM itself (8259, timer8254): the
			     declaration is checked, nothing is created */
	VDEV_PCI,         /* a PCI function that is not virtio: on the host
			     bridge, `loc pci:0:D.F` or the first free slot */
};

struct vdev_type {
	const char *name;          /* "ser8250" */
	const char *const *aliases; /* NULL-terminated, or NULL */
	enum vdev_class class;
	bool supported;            /* false: "not supported yet" error */
	bool needs_intr;           /* a platform device that interrupts */
	bool allow_hostdev;
	/* Optional: the hostdev names a backend, not a file (kept as written,
	 * not made relative to the config's directory); NULL or what is
	 * wrong with it. */
	const char *(*check_hostdev)(const char *hostdev);
	/* Optional: what no single option shows (options that exclude or
	 * need each other), checked by `cvisor check` as by a run. NULL, or
	 * what is wrong with *at pointed at the culprit (default: the vdev). */
	const char *(*check_vdev)(const struct vdev_config *vc,
				  const struct cfg_pos **at);
	unsigned max_instances;    /* 0 = unlimited */
	enum cfg_space loc_space;  /* LOC_IO or LOC_MEM for platform devices */
	/* a LOC_IO device that has an MMIO form too (the 16550 of
	 * device-tree machines): on arm64, which has no port I/O, its loc
	 * is required and mem (a bare one too) */
	bool mem_loc_too;
	/* a PCI function with an I/O BAR: it needs the bridge's I/O space,
	 * which only the PC has (arm64's ECAM bridge has none) */
	bool pci_io_bar;
	uint64_t region_len;       /* bytes the device decodes at its loc */
	/* Default loc/intr for the nth instance when not given; return false
	 * when there is none (then `loc`/`intr` are required). */
	bool (*default_loc)(unsigned index, uint64_t *addr);
	bool (*default_intr)(unsigned index, uint32_t *line);
	const struct devopt_spec *opts; /* terminated by key == NULL */
	/* Build the device. Returns 0 or -errno, with a message logged. */
	int (*create)(const struct vdev_config *vc, const struct dev_env *env,
		      struct device **out);
};

/* Look a type up by name or alias; also accepts QNX's "vdev-NAME" and
 * "vdev-NAME.so" spellings. */
const struct vdev_type *vdev_type_find(const char *name);
const struct devopt_spec *vdev_type_opt(const struct vdev_type *t,
					const char *key);

extern const struct vdev_type *const vdev_types[];

/* Device types, each defined in its own file. */
extern const struct vdev_type ser8250_type, pl011_type, debug_exit_type,
	pckeyboard_type, testdev_type, ioapic_type, pic8259_type,
	timer8254_type;
/* virtio device types (src/virtio/blk.c, console.c, rng.c, net.c) */
extern const struct vdev_type virtio_blk_type, virtio_console_type,
	virtio_entropy_type, virtio_net_type;
extern const struct vdev_type mc146818_type;
/* the ARM PL031 RTC (pl031.c) */
extern const struct vdev_type pl031_type;
/* arm64's implicit interrupt controller (src/arch/arm64/gic.c) */
extern const struct vdev_type gic_type;
/* arm64's PMUv3, emulated by KVM (src/arch/arm64/pmu.c) */
extern const struct vdev_type pmu_type;
/* QEMU's fw_cfg (fw_cfg_user.c) and ISA test device (pc_testdev.c) */
extern const struct vdev_type fw_cfg_type, pc_testdev_type;
/* the LSI 53C895A SCSI controller (lsi53c895a.c) */
extern const struct vdev_type lsi53c895a_type;

/* Devices every x86 VM has without being asked: the port 0x80 sink and the
 * ACPI power registers the FADT describes. */
struct device *port80_create(void);
struct device *port92_create(const struct dev_env *env);
/* sci_gsi: the SCI's line (x86_acpi_sci_irq), -1 for none. */
struct device *acpi_pm_create(const struct dev_env *env, int sci_gsi);

#endif
