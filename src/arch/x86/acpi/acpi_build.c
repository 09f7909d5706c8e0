/* The whole set: build each table, give it an address, link and checksum.
 * Order in memory: FACS, DSDT, FACP, APIC, [MCFG], XSDT, RSDT from tables_addr
 * up; the RSDP separately (it must sit where a guest scans for it). */
#include <string.h>

#include "arch/x86/acpi/acpi.h"
#include "core/util.h"

#define ACPI_TABLE_ALIGN 16
#define ACPI_FACS_ALIGN  64

static struct acpi_table *add(struct acpi_tables *t, const char *sig)
{
	struct acpi_table *e = &t->t[t->nr++];

	memcpy(e->sig, sig, 4);
	e->sig[4] = '\0';
	fw_buf_init(&e->b);
	return e;
}

/* The next free 16-byte-aligned address after the tables placed so far. */
static void place(struct acpi_tables *t, struct acpi_table *e)
{
	e->addr = t->end;
	t->end = ALIGN_UP(t->end + e->b.len, ACPI_TABLE_ALIGN);
}

/* The FACS must be 64-byte aligned (ACPI 5.2.10). */
static void place_facs(struct acpi_tables *t, struct acpi_table *e)
{
	t->end = ALIGN_UP(t->end, ACPI_FACS_ALIGN);
	place(t, e);
}

void acpi_build(struct acpi_tables *t, const struct vm_config *cfg,
		const struct x86_firmware_pci *pci, uint64_t rsdp_addr,
		uint64_t tables_addr)
{
	uint64_t sdt[ACPI_MAX_TABLES];
	struct acpi_table *rsdp, *dsdt, *facs, *e, *xsdt, *rsdt;
	unsigned n = 0;

	memset(t, 0, sizeof(*t));
	t->end = ALIGN_UP(tables_addr, ACPI_TABLE_ALIGN);
	rsdp = add(t, "RSDP");
	rsdp->addr = rsdp_addr;

	/* The FACS first, at tables_addr itself: the acpi-pm device needs
	 * its address before the tables exist (the OS writes its waking
	 * vector there, into the BIOS area's read-only memory). */
	facs = add(t, "FACS");
	acpi_facs_build(&facs->b);
	place_facs(t, facs);

	dsdt = add(t, "DSDT");
	acpi_dsdt_build(&dsdt->b, cfg, pci);
	place(t, dsdt);

	e = add(t, "FACP");
	acpi_fadt_build(&e->b, cfg, dsdt->addr, facs->addr);
	place(t, e);
	sdt[n++] = e->addr;

	e = add(t, "APIC");
	acpi_madt_build(&e->b, cfg);
	place(t, e);
	sdt[n++] = e->addr;

	if (pci) {
		e = add(t, "MCFG");
		acpi_mcfg_build(&e->b, pci->ecam_base, pci->segment,
				pci->bus_start, pci->bus_end);
		place(t, e);
		sdt[n++] = e->addr;
	}

	xsdt = add(t, "XSDT");
	acpi_xsdt_build(&xsdt->b, sdt, n);
	place(t, xsdt);
	rsdt = add(t, "RSDT");
	acpi_rsdt_build(&rsdt->b, sdt, n);
	place(t, rsdt);

	acpi_rsdp_build(&rsdp->b, rsdt->addr, xsdt->addr);
}

void acpi_tables_free(struct acpi_tables *t)
{
	for (unsigned i = 0; i < t->nr; i++)
		fw_buf_free(&t->t[i].b);
	t->nr = 0;
}

const struct acpi_table *acpi_find(const struct acpi_tables *t,
				   const char *sig)
{
	for (unsigned i = 0; i < t->nr; i++)
		if (!strncmp(t->t[i].sig, sig, 4))
			return &t->t[i];
	return NULL;
}
