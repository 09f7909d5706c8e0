/* A reader of the flattened device tree (the structure block, walked
 * once): the first arm,pl011's and the GIC's reg (arm,gic-v3, or a
 * GICv2's arm,cortex-a15-gic), the virtio,mmio nodes, the first
 * ns16550a (with its reg-shift) and arm,pl031, the cpu@N nodes,
 * /chosen/bootargs, the ECAM PCI host bridge (reg and its 32-bit memory
 * range) and the GICv3's ITS (a child of the GIC's node). */
#include "a64.h"

uint64_t dt_uart, dt_gic_dist, dt_gic_redist;
uint64_t dt_ns16550, dt_pl031;
unsigned dt_pl031_intid;
unsigned dt_ns16550_shift;
bool dt_gic_v2;
uint64_t dt_virtio[DT_MAX_VIRTIO];
unsigned dt_nr_virtio;
unsigned dt_cpus;
const char *dt_bootargs;
uint64_t dt_pci_ecam, dt_pci_mem, dt_pci_mem_end, dt_its;

/* The tree is big-endian; the guest runs little-endian. */
static uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static uint64_t be64(const void *p)
{
	return (uint64_t)be32(p) << 32 | be32((const uint8_t *)p + 4);
}

static bool has_compat(const char *list, uint32_t len, const char *want)
{
	for (uint32_t i = 0; i < len; i += strlen(list + i) + 1)
		if (!strcmp(list + i, want))
			return true;
	return false;
}

/* Only nodes one level below the root (and /cpus' children) matter: that
 * is where cvisor and QEMU's virt put them, with #address-cells = 2. */
void dt_scan(const void *dtb)
{
	const uint8_t *base = dtb;
	const uint8_t *p, *strings;
	unsigned depth = 0;
	bool in_cpus = false, in_chosen = false;
	/* 1: pl011, 2: gic, 3: virtio,mmio, 4: ns16550a, 5: pl031,
	 * 6: pci-host-ecam-generic; its: a depth-3 arm,gic-v3-its */
	int kind = 0;
	bool its = false;
	uint64_t its_reg = 0, mem = 0, mem_end = 0;
	unsigned shift = 0, spi = 0;
	uint64_t reg = 0, reg2 = 0;

	if (be32(base) != 0xd00dfeed)
		return;
	p = base + be32(base + 8);
	strings = base + be32(base + 12);
	for (;;) {
		uint32_t tok = be32(p);

		p += 4;
		if (tok == 1) {                       /* BEGIN_NODE */
			const char *name = (const char *)p;

			depth++;
			if (depth == 2) {
				in_cpus = !strcmp(name, "cpus");
				in_chosen = !strcmp(name, "chosen");
				kind = 0;
				shift = 0;
				spi = 0;
				mem = mem_end = 0;
			}
			its = false;
			if (depth == 3 && in_cpus && name[0] == 'c' &&
			    name[1] == 'p' && name[2] == 'u' && name[3] == '@')
				dt_cpus++;
			p += (strlen(name) + 4) & ~3u;
		} else if (tok == 2) {                /* END_NODE */
			if (depth == 2 && kind == 1 && !dt_uart)
				dt_uart = reg;
			if (depth == 2 && kind == 3 &&
			    dt_nr_virtio < DT_MAX_VIRTIO)
				dt_virtio[dt_nr_virtio++] = reg;
			if (depth == 2 && kind == 4 && !dt_ns16550) {
				dt_ns16550 = reg;
				dt_ns16550_shift = shift;
			}
			if (depth == 2 && kind == 5 && !dt_pl031) {
				dt_pl031 = reg;
				dt_pl031_intid = spi;
			}
			if (depth == 2 && kind == 6 && !dt_pci_ecam) {
				dt_pci_ecam = reg;
				dt_pci_mem = mem;
				dt_pci_mem_end = mem_end;
			}
			if (depth == 3 && its && !dt_its)
				dt_its = its_reg;
			if (depth == 2 && kind == 2 && !dt_gic_redist) {
				dt_gic_dist = reg;
				dt_gic_redist = reg2;
			}
			if (!--depth)
				return;
		} else if (tok == 3) {                /* PROP */
			uint32_t len = be32(p);
			const char *name = (const char *)strings + be32(p + 4);
			const uint8_t *val = p + 8;

			if (depth == 2 && !strcmp(name, "compatible")) {
				if (has_compat((const char *)val, len, "arm,pl011"))
					kind = 1;
				else if (has_compat((const char *)val, len,
						    "arm,gic-v3"))
					kind = 2;
				else if (has_compat((const char *)val, len,
						    "arm,cortex-a15-gic"))
					kind = 2, dt_gic_v2 = true;
				else if (has_compat((const char *)val, len,
						    "virtio,mmio"))
					kind = 3;
				else if (has_compat((const char *)val, len,
						    "ns16550a"))
					kind = 4;
				else if (has_compat((const char *)val, len,
						    "arm,pl031"))
					kind = 5;
				else if (has_compat((const char *)val, len,
						    "pci-host-ecam-generic"))
					kind = 6;
			}
			if (depth == 3 && !strcmp(name, "compatible"))
				its = has_compat((const char *)val, len,
						 "arm,gic-v3-its");
			/* (QEMU writes a node's properties in reverse:
			 * what a node is is known at its end) */
			if (depth == 3 && !strcmp(name, "reg") && len >= 16)
				its_reg = be64(val);
			/* ranges: <phys.hi mid lo, cpu hi lo, size hi lo>;
			 * the first 32-bit memory one (space code 2) */
			if (depth == 2 && !strcmp(name, "ranges"))
				for (uint32_t i = 0; i + 28 <= len && !mem;
				     i += 28)
					if (((be32(val + i) >> 24) & 3) == 2) {
						mem = be64(val + i + 12);
						mem_end = mem + be64(val + i + 20);
					}
			if (depth == 2 && !strcmp(name, "reg") && len >= 16) {
				reg = be64(val);
				if (len >= 32)
					reg2 = be64(val + 16);
			}
			/* interrupts = <GIC_SPI n flags>: INTID 32 + n */
			if (depth == 2 && !strcmp(name, "interrupts") &&
			    len >= 12 && be32(val) == 0)
				spi = 32 + be32(val + 4);
			if (depth == 2 && !strcmp(name, "reg-shift") &&
			    len == 4)
				shift = be32(val);
			if (in_chosen && depth == 2 &&
			    !strcmp(name, "bootargs"))
				dt_bootargs = (const char *)val;
			p += 8 + ((len + 3) & ~3u);
		} else if (tok == 4) {                /* NOP */
			continue;
		} else {
			return;                       /* END or garbage */
		}
	}
}
