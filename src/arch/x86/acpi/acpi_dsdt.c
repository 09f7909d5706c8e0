/* DSDT (ACPI 5.2.11.1): the devices the configuration declares, so a guest
 * finds them without command-line hints, \_S3_ for suspend to RAM and
 * \_S5_ for power-off.
 *
 *   \_SB.Cnnn  processor (ACPI0007), _UID = MADT processor UID, per vCPU
 *   \_SB.COMn  ser8250 (PNP0501): IO base,8 + its IRQ
 *   \_SB.URTn  pl011 (ARMH0011, Linux's sbsa-uart/amba-pl011 ACPI id)
 *   \_SB.PS2K  pckeyboard (PNP0303): IO 0x60,1 and 0x64,1 (+ IRQ if given)
 *   \_SB.RTC_  mc146818 (PNP0B00): IO 0x70,2 + IRQ 8
 *   \_SB.VRnn  virtio-mmio (LNRO0005): Memory32Fixed + level interrupt,
 *              the binding Linux's virtio_mmio driver matches
 *   \_SB.PCI0  the PCI host bridge and \_SB.ECAM its ECAM window, when
 *              the VM has PCI (acpi_pci.c)
 *   \_SB.PWRB  the power button (PNP0C0C) and \_SB.GED0 the Generic Event
 *              Device that signals it (acpi_ged.c)
 *   \_S0_      Package {0, 0, 0, 0}: working state, written on wake-up
 *   \_S3_      Package {3, 3, 0, 0}: suspend to RAM (acpi_pm_sleep.c)
 *   \_S5_      Package {5, 5, 0, 0}: SLP_TYP 5, for PM1a_CNT (and the
 *              hardware-reduced sleep control register)
 */
#include <string.h>

#include "arch/x86/acpi/acpi.h"
#include "arch/x86/acpi/aml.h"
#include "arch/x86/firmware_boot.h"
#include "core/log.h"
#include "devices/registry.h"

#define VIRTIO_MMIO_LEN 0x200      /* virtio 1.x MMIO register block */
#define RTC_PORT        0x70
#define RTC_IRQ         8

/* A 4-character NameSeg: the prefix and the index in hex, shortening the
 * prefix when the index needs more digits ("COM0".."COMF", "CO10"...). */
static void dev_name(char out[5], const char *prefix, unsigned idx)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned digits = idx < 16 ? 1 : idx < 256 ? 2 : 3;
	size_t plen = strlen(prefix);

	idx &= 0xfff;                  /* configs hold far fewer devices */
	if (plen > 4 - digits)
		plen = 4 - digits;
	memcpy(out, prefix, plen);
	for (size_t i = 4; i > plen; i--, idx >>= 4)
		out[i - 1] = hex[idx & 0xf];
	out[4] = '\0';
}

static uint32_t vdev_irq(const struct vdev_config *vc, uint32_t fallback)
{
	return vc->nr_intrs ? vc->intrs[0].line : fallback;
}

static uint64_t vdev_base(const struct vdev_config *vc, uint64_t fallback)
{
	return vc->nr_locs ? vc->locs[0].addr : fallback;
}

/* ISA-style interrupt: IRQNoFlags for 0-15, else an edge Interrupt(). */
static void isa_irq(struct fw_buf *r, uint32_t irq)
{
	if (irq < 16)
		res_irq(r, (uint8_t)irq);
	else
		res_interrupt(r, irq, false, false);
}

static void device_end(struct fw_buf *b, size_t mark, struct fw_buf *crs)
{
	aml_crs(b, crs);
	fw_buf_free(crs);
	aml_close(b, mark);
}

static void add_cpus(struct fw_buf *b, const struct vm_config *cfg)
{
	for (unsigned i = 0; i < acpi_nr_cpus(cfg); i++) {
		char name[5];
		size_t dev;

		dev_name(name, "C", i);
		dev = aml_device_open(b, name);
		aml_name_str(b, "_HID", "ACPI0007");
		aml_name_int(b, "_UID", i);
		aml_close(b, dev);
	}
}

static void add_ser8250(struct fw_buf *b, const struct vdev_config *vc)
{
	struct fw_buf crs;
	char name[5];
	size_t dev;

	fw_buf_init(&crs);
	dev_name(name, "COM", vc->index);
	dev = aml_device_open(b, name);
	aml_name_eisaid(b, "_HID", "PNP0501");
	aml_name_int(b, "_UID", vc->index);
	res_io(&crs, (uint16_t)vdev_base(vc, 0x3f8), 8);
	isa_irq(&crs, vdev_irq(vc, 4));
	device_end(b, dev, &crs);
}

/* MMIO devices need 32-bit addresses for Memory32Fixed. */
static bool below_4g(const struct vdev_config *vc, uint64_t base, uint64_t len)
{
	if (base + len <= 1ULL << 32)
		return true;
	pr_warn("acpi: vdev %s at 0x%llx is above 4 GiB; not in the DSDT",
		vc->type->name, (unsigned long long)base);
	return false;
}

static void add_mmio_dev(struct fw_buf *b, const struct vdev_config *vc,
			 const char *prefix, const char *hid, unsigned uid,
			 uint64_t len)
{
	uint64_t base = vdev_base(vc, 0);
	struct fw_buf crs;
	char name[5];
	size_t dev;

	if (!below_4g(vc, base, len))
		return;
	fw_buf_init(&crs);
	dev_name(name, prefix, uid);
	dev = aml_device_open(b, name);
	aml_name_str(b, "_HID", hid);
	aml_name_int(b, "_UID", uid);
	res_mem32_fixed(&crs, (uint32_t)base, (uint32_t)len, true);
	if (vc->nr_intrs)
		res_interrupt(&crs, vdev_irq(vc, 0), true, false);
	device_end(b, dev, &crs);
}

static void add_pckeyboard(struct fw_buf *b, const struct vdev_config *vc)
{
	uint16_t base = (uint16_t)vdev_base(vc, 0x60);
	struct fw_buf crs;
	size_t dev;

	fw_buf_init(&crs);
	dev = aml_device_open(b, "PS2K");
	aml_name_eisaid(b, "_HID", "PNP0303");
	res_io(&crs, base, 1);             /* data */
	res_io(&crs, (uint16_t)(base + 4), 1); /* status/command */
	if (vc->nr_intrs)
		isa_irq(&crs, vdev_irq(vc, 1));
	device_end(b, dev, &crs);
}

static void add_rtc(struct fw_buf *b, const struct vdev_config *vc)
{
	struct fw_buf crs;
	size_t dev;

	fw_buf_init(&crs);
	dev = aml_device_open(b, "RTC_");
	aml_name_eisaid(b, "_HID", "PNP0B00");
	res_io(&crs, (uint16_t)vdev_base(vc, RTC_PORT), 2);
	isa_irq(&crs, vdev_irq(vc, RTC_IRQ));
	device_end(b, dev, &crs);
}

static uint64_t virtio_len(const struct vdev_config *vc)
{
	if (vc->nr_locs && vc->locs[0].has_len && vc->locs[0].len)
		return vc->locs[0].len;
	return vc->type->region_len ? vc->type->region_len : VIRTIO_MMIO_LEN;
}

static void add_vdev(struct fw_buf *b, const struct vdev_config *vc,
		     unsigned *nr_virtio)
{
	const char *t = vc->type->name;

	if (vc->type->class == VDEV_VIRTIO) {
		if (!vc->on_pci)
			add_mmio_dev(b, vc, "VR", "LNRO0005", (*nr_virtio)++,
				     virtio_len(vc));
	} else if (!strcmp(t, "ser8250")) {
		add_ser8250(b, vc);
	} else if (!strcmp(t, "pl011")) {
		add_mmio_dev(b, vc, "URT", "ARMH0011", vc->index,
			     vc->type->region_len);
	} else if (!strcmp(t, "pckeyboard")) {
		add_pckeyboard(b, vc);
	} else if (!strcmp(t, "mc146818")) {
		add_rtc(b, vc);
	}
}

/* \_Sx_ Package {SLP_TYPa, SLP_TYPb, 0, 0}; the value is x itself, which
 * acpi-pm decodes. \_S0_ is what a guest writes back on wake-up. */
static void add_sleep_state(struct fw_buf *b, const char *name, unsigned typ)
{
	size_t pkg;

	aml_name(b, name);
	pkg = aml_package_open(b, 4);
	aml_integer(b, typ);               /* SLP_TYPa */
	aml_integer(b, typ);               /* SLP_TYPb (unused: no PM1b) */
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_close(b, pkg);
}

/* No \_S3_ under firmware (SeaBIOS): its copy of the tables is not
 * where cvisor's wake-up looks for the FACS, so a guest offered S3 there
 * would die on the wake (the boot vCPU's triple fault). */
static void add_sleep_states(struct fw_buf *b, const struct vm_config *cfg)
{
	add_sleep_state(b, "\\_S0_", 0);
	if (!x86_fwboot_image(cfg))
		add_sleep_state(b, "\\_S3_", X86_ACPI_SLP_TYP_S3);
	add_sleep_state(b, "\\_S5_", X86_ACPI_SLP_TYP_S5);
}

void acpi_dsdt_build(struct fw_buf *b, const struct vm_config *cfg,
		     const struct x86_firmware_pci *pci)
{
	unsigned nr_virtio = 0;
	size_t sb;

	/* Revision 2: integers are 64 bits wide. */
	acpi_table_start(b, "DSDT", 2);
	sb = aml_scope_open(b, "\\_SB_");
	add_cpus(b, cfg);
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		add_vdev(b, &cfg->vdevs[i], &nr_virtio);
	if (pci)
		acpi_dsdt_add_pci(b, pci);
	acpi_dsdt_add_ged(b, cfg);
	aml_close(b, sb);
	add_sleep_states(b, cfg);
	acpi_table_finish(b);
}
