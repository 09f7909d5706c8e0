/* Firmware tables in the PC BIOS area.
 *
 * Layout (guest-physical; everything in the F segment so that both the
 * ACPI RSDP scan, 0xE0000-0xFFFFF, and the MP scan, 0xF0000-0xFFFFF, find
 * their structure there):
 *
 *   0xF0000  RSDP, revision 2, 36 bytes (16-byte aligned, as ACPI asks)
 *   0xF0030  MP floating pointer "_MP_", 16 bytes
 *   0xF0040  MP configuration table "PCMP" (44 + 20/vCPU + 8 * 19 bytes)
 *   0xF0040  (+ 8 * 124 bytes of PCI interrupt entries with PCI)
 *   0xF1000  DSDT, FACS, FACP, APIC, [MCFG], XSDT, RSDT, each 16-byte
 *            aligned (the FACS 64)
 *   ...      up to 0xFFFEF; a config with 64 vCPUs and 64 devices needs
 *            well under 16 KiB
 *   0xFFFF0  the reset stub (reset_stub below), 16 bytes
 *
 * 0xE0000-0xEFFFF stays free. Where the memory comes from:
 *  - the config maps RAM or ROM there (QNX's `rom 0xc0000,0x40000`): the
 *    tables are written into it (ROM through guest_mem_load); e820 shows
 *    what the config says (RAM or reserved). Linux keeps its hands off
 *    the first MiB anyway.
 *  - nothing is mapped there (x86_firmware_needs_bios_area()): the builder
 *    maps 128 KiB of ROM at 0xE0000, and e820 must show it reserved.
 * A `load` at a fixed address inside the area owns it: no tables then.
 *
 * PCI: the layout (struct pci_layout, pci_layout_default) and the INTx
 * swizzle come from bus/pci.h, plain data and pure functions, so that the
 * MCFG, PCI0's windows and _PRT say exactly what the host bridge does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/acpi/acpi.h"
#include "arch/x86/firmware.h"
#include "arch/x86/firmware_boot.h"
#include "arch/x86/mptable.h"
#include "bus/pci.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/registry.h"

static bool in_area(uint64_t addr, uint64_t len)
{
	return ranges_overlap(addr, len ? len : 1, X86_BIOS_AREA_START,
			      X86_BIOS_AREA_LEN);
}

static bool loc_in_area(const struct cfg_loc *l, uint64_t dflt_len)
{
	if (l->space != LOC_MEM)
		return false;
	return in_area(l->addr, l->has_len && l->len ? l->len : dflt_len);
}

static bool vdevs_in_area(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];

		for (unsigned j = 0; j < vc->nr_locs; j++)
			if (loc_in_area(&vc->locs[j], vc->type->region_len))
				return true;
	}
	for (unsigned i = 0; i < cfg->nr_pass; i++)
		for (unsigned j = 0; j < cfg->passes[i].nr_locs; j++)
			if (loc_in_area(&cfg->passes[i].locs[j], 1))
				return true;
	return false;
}

bool x86_firmware_needs_bios_area(const struct vm_config *cfg)
{
	/* A BIOS gets RAM there instead (firmware_boot.c). */
	if (x86_fwboot_image(cfg))
		return false;
	for (unsigned i = 0; i < cfg->nr_ram; i++)
		if (in_area(cfg->ram[i].start, cfg->ram[i].size))
			return false;
	for (unsigned i = 0; i < cfg->nr_rom; i++)
		if (in_area(cfg->rom[i].start, cfg->rom[i].size))
			return false;
	return !vdevs_in_area(cfg);
}

/* A blob loaded at a fixed address in the area (a BIOS image, the user's
 * own tables) would overwrite ours, or ours it. */
static const struct load_config *load_in_area(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_loads; i++)
		if (cfg->loads[i].has_addr && in_area(cfg->loads[i].addr, 1))
			return &cfg->loads[i];
	return NULL;
}

static int write_blob(struct guest_mem *mem, uint64_t addr,
		      const struct fw_buf *b)
{
	return guest_mem_load(mem, addr, b->data, b->len);
}

static int write_acpi(struct guest_mem *mem, const struct acpi_tables *t)
{
	for (unsigned i = 0; i < t->nr; i++)
		if (write_blob(mem, t->t[i].addr, &t->t[i].b))
			return -EFAULT;
	return 0;
}

static int write_mptable(struct guest_mem *mem, const struct vm_config *cfg)
{
	struct fw_buf fp, table;
	int ret = -ENOSPC;

	fw_buf_init(&fp);
	fw_buf_init(&table);
	mptable_build(cfg, &fp, &table, X86_FW_MP_TABLE_ADDR);
	if (X86_FW_MP_TABLE_ADDR + table.len <= X86_FW_TABLES_ADDR &&
	    !write_blob(mem, X86_FW_MP_FP_ADDR, &fp) &&
	    !write_blob(mem, X86_FW_MP_TABLE_ADDR, &table))
		ret = 0;
	fw_buf_free(&fp);
	fw_buf_free(&table);
	return ret;
}

/* At the reset vector F000:FFF0, in real mode: what a guest that asks the
 * BIOS for a reset (Linux's machine_real_restart: reboot=b, and its last
 * resort after the other methods) runs when there is no BIOS.
 *   mov dx, X86_ACPI_RESET_PORT; mov al, X86_ACPI_RESET_VALUE; out dx, al
 *   cli; hlt; jmp $-1 (back to the hlt)
 * The write resets the VM (then `reboot reset|exit` decides). */
static const uint8_t reset_stub[X86_FW_RESET_STUB_LEN] = {
	0xba, X86_ACPI_RESET_PORT & 0xff, X86_ACPI_RESET_PORT >> 8,
	0xb0, X86_ACPI_RESET_VALUE,
	0xee,
	0xfa, 0xf4, 0xeb, 0xfd,
};

void x86_firmware_pci_init(struct x86_firmware_pci *p,
			   const struct pci_layout *l)
{
	*p = (struct x86_firmware_pci){
		.ecam_base = l->ecam_base,
		.segment = 0,
		.bus_start = 0,
		.bus_end = 0,               /* one bus: ecam_size is 1 MiB */
		.mmio32_base = l->mmio32_base,
		.mmio32_size = l->mmio32_size,
		.mmio64_base = l->mmio64_base,
		.mmio64_size = l->mmio64_size,
	};
}

/* A caller that gives only the ECAM gets the default 32-bit window: a
 * PCI0 without one would leave every BAR outside the bridge's windows. */
static const struct x86_firmware_pci *
complete_pci(const struct x86_firmware_pci *in, struct x86_firmware_pci *out)
{
	struct pci_layout l;

	if (!in || in->mmio32_size)
		return in;
	pci_layout_default(&l, 0, 0);
	*out = *in;
	out->mmio32_base = l.mmio32_base;
	out->mmio32_size = l.mmio32_size;
	return out;
}

int x86_firmware_build(const struct vm_config *cfg, struct guest_mem *mem,
		       const struct x86_firmware_pci *pci,
		       struct x86_firmware *out)
{
	const struct load_config *l = load_in_area(cfg);
	struct x86_firmware_pci full;
	struct acpi_tables t;
	int ret;

	memset(out, 0, sizeof(*out));
	if (l) {
		pr_warn("%s:%u:%u: load at 0x%llx is in the BIOS area; no ACPI "
			"or MP tables are built",
			l->pos.file ? l->pos.file : "<config>", l->pos.line,
			l->pos.col, (unsigned long long)l->addr);
		return 0;
	}
	if (!guest_mem_find(mem, X86_FW_RSDP_ADDR, X86_FW_RESET_VECTOR +
			    X86_FW_RESET_STUB_LEN - X86_FW_RSDP_ADDR)) {
		pr_err("firmware tables: no guest memory covers 0x%llx-0x%llx",
		       (unsigned long long)X86_FW_RSDP_ADDR,
		       (unsigned long long)X86_FW_RESET_VECTOR +
		       X86_FW_RESET_STUB_LEN - 1);
		return -ENOSPC;
	}
	acpi_build(&t, cfg, complete_pci(pci, &full), X86_FW_RSDP_ADDR,
		   X86_FW_TABLES_ADDR);
	ret = t.end > X86_FW_END ? -ENOSPC : write_acpi(mem, &t);
	if (!ret)
		ret = write_mptable(mem, cfg);
	if (!ret)
		ret = guest_mem_load(mem, X86_FW_RESET_VECTOR, reset_stub,
				     sizeof(reset_stub));
	if (ret)
		pr_err("firmware tables do not fit in 0x%llx-0x%llx",
		       (unsigned long long)X86_FW_RSDP_ADDR,
		       (unsigned long long)X86_FW_END - 1);
	else
		*out = (struct x86_firmware){ .rsdp_addr = X86_FW_RSDP_ADDR,
					      .mp_addr = X86_FW_MP_FP_ADDR,
					      .start = X86_FW_RSDP_ADDR,
					      .end = X86_FW_RESET_VECTOR +
						     X86_FW_RESET_STUB_LEN };
	acpi_tables_free(&t);
	return ret;
}

static int dump_one(const char *dir, const struct acpi_table *e)
{
	char path[4096];
	ssize_t done;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, e->sig);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: %s", path, strerror(errno));
		return err;
	}
	done = write(fd, e->b.data, e->b.len);
	if (done != (ssize_t)e->b.len)
		err = done < 0 ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (err)
		pr_err("%s: %s", path, strerror(-err));
	return err;
}

int acpi_dump(const struct vm_config *cfg, const char *dir)
{
	struct x86_firmware_pci pci;
	struct pci_layout l;
	struct acpi_tables t;
	int ret = 0;

	/* The builder's layout: defaults, no 64-bit window. */
	pci_layout_default(&l, 0, 0);
	x86_firmware_pci_init(&pci, &l);
	acpi_build(&t, cfg, vm_config_has_pci(cfg) ? &pci : NULL,
		   X86_FW_RSDP_ADDR, X86_FW_TABLES_ADDR);
	for (unsigned i = 0; i < t.nr && !ret; i++)
		ret = dump_one(dir, &t.t[i]);
	acpi_tables_free(&t);
	return ret;
}
