/* cvisor's ACPI tables through fw_cfg, for firmware that installs them
 * itself (SeaBIOS, OVMF): QEMU's three files.
 *
 *   etc/acpi/tables   every table but the RSDP, each at its offset
 *   etc/acpi/rsdp     the RSDP
 *   etc/table-loader  the BIOSLinker script: 128-byte little-endian
 *                     commands, { u32 command; union {...}; } padded
 *
 * The firmware runs the script in order: ALLOCATE (1) copies a file into
 * memory it picks (zone 1 = high memory, 2 = the F segment, where the RSDP
 * must be for a guest to find it), ADD_POINTER (2) adds the address a
 * source file got to a little-endian pointer inside a destination file,
 * ADD_CHECKSUM (3) subtracts a range's byte sum from its checksum byte so
 * that the range sums to zero again.
 *
 * So the files hold the tables as if built at address 0: every pointer is
 * the target's offset in etc/acpi/tables. They are built by the same
 * acpi_build() that fills the BIOS area (arch/x86/acpi), once at 0 and
 * once shifted by SHIFT: the pointer fields the ACPI specification defines
 * (RSDP, XSDT, RSDT entries, the FADT's FACS and DSDT fields) that moved
 * by SHIFT are the ones to patch, wherever a table builder put a table or
 * whichever of them it filled. Any other byte that moved (besides the
 * checksums) is an address the script would not fix: refused, so that a
 * table added later cannot go out with a wrong pointer unnoticed.
 */
#include <errno.h>
#include <string.h>

#include "arch/x86/acpi/acpi.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/fw_cfg.h"

#define TABLES_FILE "etc/acpi/tables"
#define RSDP_FILE   "etc/acpi/rsdp"
#define LOADER_FILE "etc/table-loader"

#define CMD_ALLOCATE     1
#define CMD_ADD_POINTER  2
#define CMD_ADD_CHECKSUM 3
#define ZONE_HIGH        1
#define ZONE_FSEG        2
#define CMD_LEN          128
#define FILE_LEN         56      /* FW_CFG_NAME_MAX, with the NUL */

#define TABLES_ALIGN     64      /* a FACS must be 64-byte aligned */
#define RSDP_ALIGN       16
#define SHIFT            0x1000  /* keeps any table alignment up to 4 KiB */

#define SDT_CHECKSUM     9       /* offsetof(struct acpi_header, checksum) */
#define RSDP_CHECKSUM    8
#define RSDP_XCHECKSUM   32
#define RSDP_V1_LEN      20

struct ptr_field {
	uint32_t off;
	uint8_t size;
};

#define MAX_PTRS (ACPI_MAX_TABLES + 4)

static void put_name(uint8_t *p, const char *name)
{
	memcpy(p, name, strlen(name));    /* names here are < FILE_LEN */
}

static uint8_t *new_cmd(struct fw_buf *b, uint32_t cmd)
{
	size_t off = fw_buf_zero(b, CMD_LEN);   /* may move b->data */
	uint8_t *p = b->data + off;

	fw_le32(p, cmd);
	return p;
}

static void cmd_allocate(struct fw_buf *b, const char *file, uint32_t align,
			 uint8_t zone)
{
	uint8_t *p = new_cmd(b, CMD_ALLOCATE);

	put_name(p + 4, file);
	fw_le32(p + 4 + FILE_LEN, align);
	p[8 + FILE_LEN] = zone;
}

static void cmd_pointer(struct fw_buf *b, const char *dst, const char *src,
			uint32_t off, uint8_t size)
{
	uint8_t *p = new_cmd(b, CMD_ADD_POINTER);

	put_name(p + 4, dst);
	put_name(p + 4 + FILE_LEN, src);
	fw_le32(p + 4 + 2 * FILE_LEN, off);
	p[8 + 2 * FILE_LEN] = size;
}

static void cmd_checksum(struct fw_buf *b, const char *file, uint32_t off,
			 uint32_t start, uint32_t len)
{
	uint8_t *p = new_cmd(b, CMD_ADD_CHECKSUM);

	put_name(p + 4, file);
	fw_le32(p + 4 + FILE_LEN, off);
	fw_le32(p + 8 + FILE_LEN, start);
	fw_le32(p + 12 + FILE_LEN, len);
}

/* The fields the ACPI specification defines as addresses of other
 * tables: RSDP 5.2.5.3, RSDT 5.2.7, XSDT 5.2.8, FADT 5.2.9 (FIRMWARE_CTRL,
 * DSDT, X_FIRMWARE_CTRL, X_DSDT). */
static unsigned candidates(const struct acpi_table *e, struct ptr_field *f)
{
	static const struct ptr_field fadt[] = {
		{ 36, 4 }, { 40, 4 }, { 132, 8 }, { 140, 8 },
	};
	static const struct ptr_field rsdp[] = { { 16, 4 }, { 24, 8 } };
	size_t len = e->b.len;
	unsigned n = 0;

	if (!strcmp(e->sig, "RSDP")) {
		memcpy(f, rsdp, sizeof(rsdp));
		return ARRAY_SIZE(rsdp);
	}
	if (!strcmp(e->sig, "FACP")) {
		for (unsigned i = 0; i < ARRAY_SIZE(fadt); i++)
			if (fadt[i].off + fadt[i].size <= len)
				f[n++] = fadt[i];
		return n;
	}
	if (strcmp(e->sig, "XSDT") && strcmp(e->sig, "RSDT"))
		return 0;
	for (unsigned size = e->sig[0] == 'X' ? 8 : 4, off = 36;
	     off + size <= len && n < MAX_PTRS; off += size)
		f[n++] = (struct ptr_field){ off, (uint8_t)size };
	return n;
}

static uint64_t get_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = size; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static bool is_checksum(const struct acpi_table *e, size_t k)
{
	if (!strcmp(e->sig, "RSDP"))
		return k == RSDP_CHECKSUM || k == RSDP_XCHECKSUM;
	return k == SDT_CHECKSUM && strcmp(e->sig, "FACS");
}

/* The pointer fields of a (built at 0) that b (built at SHIFT) moved by
 * SHIFT; -EPROTO when some other byte moved too. */
static int find_pointers(const struct acpi_table *a, const struct acpi_table *b,
			 struct ptr_field *out, unsigned *nr)
{
	struct ptr_field f[MAX_PTRS];
	unsigned n = candidates(a, f);

	*nr = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t mask = f[i].size == 8 ? ~0ULL : (1ULL << 32) - 1;
		uint64_t va = get_le(a->b.data + f[i].off, f[i].size);
		uint64_t vb = get_le(b->b.data + f[i].off, f[i].size);

		if (((vb - va) & mask) == SHIFT)
			out[(*nr)++] = f[i];
	}
	for (size_t k = 0; k < a->b.len; k++) {
		bool covered = is_checksum(a, k);

		for (unsigned i = 0; i < *nr && !covered; i++)
			covered = k >= out[i].off && k < out[i].off + out[i].size;
		if (!covered && a->b.data[k] != b->b.data[k]) {
			pr_err("fw-cfg: ACPI table %s holds an address at byte "
			       "%zu that the table loader does not patch",
			       a->sig, k);
			return -EPROTO;
		}
	}
	return 0;
}

/* Both builds must lay the tables out the same way, SHIFT apart. */
static int same_layout(const struct acpi_tables *a, const struct acpi_tables *b)
{
	if (a->nr != b->nr || b->end != a->end + SHIFT)
		return -EPROTO;
	for (unsigned i = 0; i < a->nr; i++) {
		const struct acpi_table *x = &a->t[i], *y = &b->t[i];

		if (strcmp(x->sig, y->sig) || x->b.len != y->b.len)
			return -EPROTO;
		if (i && y->addr != x->addr + SHIFT)
			return -EPROTO;
	}
	return 0;
}

/* Pointers, then the checksum over the table: a checksum is only right
 * once every pointer inside its range has been patched. */
static int link_table(struct fw_buf *script, const struct acpi_table *a,
		      const struct acpi_table *b)
{
	struct ptr_field p[MAX_PTRS];
	unsigned n;
	bool rsdp = !strcmp(a->sig, "RSDP");
	const char *file = rsdp ? RSDP_FILE : TABLES_FILE;
	uint32_t base = rsdp ? 0 : (uint32_t)a->addr;
	int ret = find_pointers(a, b, p, &n);

	if (ret)
		return ret;
	for (unsigned i = 0; i < n; i++)
		cmd_pointer(script, file, TABLES_FILE, base + p[i].off,
			    p[i].size);
	if (!strcmp(a->sig, "FACS"))
		return 0;       /* the one table without a checksum */
	if (!rsdp) {
		cmd_checksum(script, file, base + SDT_CHECKSUM, base,
			     (uint32_t)a->b.len);
		return 0;
	}
	cmd_checksum(script, file, RSDP_CHECKSUM, 0, RSDP_V1_LEN);
	if (a->b.len > RSDP_XCHECKSUM)
		cmd_checksum(script, file, RSDP_XCHECKSUM, 0,
			     (uint32_t)a->b.len);
	return 0;
}

static int build_files(struct fw_cfg *s, const struct acpi_tables *a,
		       const struct acpi_tables *b)
{
	struct fw_buf blob, script;
	int ret = same_layout(a, b);

	fw_buf_init(&blob);
	fw_buf_init(&script);
	if (!ret) {
		fw_buf_zero(&blob, a->end);
		cmd_allocate(&script, TABLES_FILE, TABLES_ALIGN, ZONE_HIGH);
	}
	/* t[0] is the RSDP: the tables first, as QEMU orders them. */
	for (unsigned i = 1; !ret && i < a->nr; i++) {
		memcpy(blob.data + a->t[i].addr, a->t[i].b.data, a->t[i].b.len);
		ret = link_table(&script, &a->t[i], &b->t[i]);
	}
	if (!ret) {
		cmd_allocate(&script, RSDP_FILE, RSDP_ALIGN, ZONE_FSEG);
		ret = link_table(&script, &a->t[0], &b->t[0]);
	}
	if (!ret)
		ret = fw_cfg_add_file(s, TABLES_FILE, blob.data, blob.len);
	if (!ret)
		ret = fw_cfg_add_file(s, RSDP_FILE, a->t[0].b.data,
				      a->t[0].b.len);
	if (!ret)
		ret = fw_cfg_add_file(s, LOADER_FILE, script.data, script.len);
	fw_buf_free(&blob);
	fw_buf_free(&script);
	return ret;
}

int fw_cfg_add_acpi(struct fw_cfg *s, const struct vm_config *cfg,
		    const struct x86_firmware_pci *pci)
{
	struct acpi_tables a, b;
	int ret;

	acpi_build(&a, cfg, pci, 0, 0);
	acpi_build(&b, cfg, pci, 0, SHIFT);
	ret = build_files(s, &a, &b);
	if (ret)
		pr_err("fw-cfg: ACPI tables for the table loader: %s",
		       strerror(-ret));
	acpi_tables_free(&a);
	acpi_tables_free(&b);
	return ret;
}
