/* The firmware table builders fed random configurations: the input is
 * .qvmconf text (as in fuzz_config.c, without includes; blob.dat and
 * disk.img exist), and every configuration the validator accepts goes
 * through the e820 map, the ACPI tables (RSDP, XSDT, RSDT, FADT, MADT,
 * DSDT with its AML, MCFG when there is PCI), the MP table, and
 * x86_firmware_build into a fake BIOS area. Every table must be as long
 * as its header says and sum to zero, the way a guest checks it. */
#include "fuzz_common.h"
#include "arch/x86/acpi/acpi.h"
#include "arch/x86/boot.h"
#include "arch/x86/firmware.h"
#include "arch/x86/mptable.h"
#include "bus/pci.h"
#include "config/config.h"

static struct guest_mem mem;       /* low RAM and the BIOS area */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char disk[4096];

	fz_mkdir("tables");
	fz_write("blob.dat", "blob\n", 5);
	fz_write("disk.img", disk, sizeof(disk));
	guest_mem_init(&mem);
	if (!guest_mem_add(&mem, 0, 0xa0000, GUEST_RAM) ||
	    !guest_mem_add(&mem, X86_BIOS_AREA_START, X86_BIOS_AREA_LEN,
			   GUEST_ROM))
		abort();
	return 0;
}

static void check_sum(const char *what, const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	if (sum) {
		fprintf(stderr, "%s: checksum off by %u\n", what, sum);
		abort();
	}
}

static void check_acpi(const struct acpi_tables *t)
{
	for (unsigned i = 0; i < t->nr; i++) {
		const struct fw_buf *b = &t->t[i].b;
		uint32_t len;

		if (!strcmp(t->t[i].sig, "RSDP")) {
			check_sum("RSDP v1", b->data, 20);
			check_sum("RSDP", b->data, b->len);
			continue;
		}
		memcpy(&len, b->data + 4, 4);
		if (!strcmp(t->t[i].sig, "FACS")) {
			/* 64 bytes, no checksum (ACPI 5.2.10) */
			if (len != 64 || b->len != 64)
				abort();
			continue;
		}
		if (b->len < sizeof(struct acpi_header) || len != b->len) {
			fprintf(stderr, "%s: header length %u, table %zu\n",
				t->t[i].sig, len, b->len);
			abort();
		}
		check_sum(t->t[i].sig, b->data, b->len);
	}
}

static uint64_t ram_end(const struct vm_config *cfg)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < cfg->nr_ram; i++)
		if (cfg->ram[i].start + cfg->ram[i].size > end)
			end = cfg->ram[i].start + cfg->ram[i].size;
	return end;
}

static void build(const struct vm_config *cfg)
{
	struct e820_entry map[X86_MEMMAP_MAX];
	struct x86_firmware_pci pci, *pp = NULL;
	struct x86_firmware fw;
	struct acpi_tables t;
	struct fw_buf fp, mp;
	struct pci_layout l;

	(void)x86_memmap_build(cfg, map, X86_MEMMAP_MAX);
	(void)x86_firmware_needs_bios_area(cfg);
	if (vm_config_has_pci(cfg)) {
		pci_layout_default(&l, ram_end(cfg), 0);
		x86_firmware_pci_init(&pci, &l);
		pp = &pci;
	}
	acpi_build(&t, cfg, pp, X86_FW_RSDP_ADDR, X86_FW_TABLES_ADDR);
	check_acpi(&t);
	acpi_tables_free(&t);
	fw_buf_init(&fp);
	fw_buf_init(&mp);
	mptable_build(cfg, &fp, &mp, X86_FW_MP_TABLE_ADDR);
	check_sum("MP floating pointer", fp.data, fp.len);
	check_sum("MP table", mp.data, mp.len);
	fw_buf_free(&fp);
	fw_buf_free(&mp);
	(void)x86_firmware_build(cfg, &mem, pp, &fw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), name[128];
	struct vm_config cfg;
	struct cfg_error err;

	memcpy(text, data, size);
	text[size] = '\0';
	if (!config_from_string(&cfg, fz_path(name, sizeof(name), "t.qvmconf"),
				text, &err)) {
		build(&cfg);
		config_free(&cfg);
	}
	free(text);
	return 0;
}
