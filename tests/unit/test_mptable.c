/* The MP table (Intel MP Spec 1.4) as a guest without ACPI finds it: the
 * floating pointer on a 16-byte boundary of 0xF0000-0xFFFFF, checksums,
 * and the entries a kernel needs to bring up the CPUs and route ISA IRQs. */
#include <string.h>

#include "unit.h"
#include "arch/x86/firmware.h"
#include "bus/pci.h"

static uint8_t bios[0x20000];        /* backs 0xE0000-0xFFFFF */
static struct guest_mem mem;
static struct vm_config cfg;

static int setup(void **state)
{
	memset(bios, 0, sizeof(bios));
	memset(&cfg, 0, sizeof(cfg));
	guest_mem_init(&mem);
	return guest_mem_add_host(&mem, 0xe0000, sizeof(bios), bios,
				  GUEST_ROM) ? 0 : -1;
}

static int teardown(void **state)
{
	guest_mem_free(&mem);
	return 0;
}

static const uint8_t *gpa(uint64_t addr, uint64_t len)
{
	const uint8_t *p = guest_mem_ptr(&mem, addr, len);

	assert_non_null(p);
	return p;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Linux's smp_scan_config over the F segment. */
static const uint8_t *scan_fp(void)
{
	for (uint64_t a = 0xf0000; a < 0x100000; a += 16) {
		const uint8_t *p = gpa(a, 16);

		if (!memcmp(p, "_MP_", 4) && p[8] == 1 && !sum(p, 16))
			return p;
	}
	return NULL;
}

struct counts {
	unsigned cpus, bsp, buses, ioapics, iointr, lintr, pci_intr;
	uint8_t ioapic_id, isa_bus, pci_bus;
	uint8_t irq_pin[16];       /* 0xff: no entry */
	uint16_t irq_flags[16];
	uint8_t pci_pin[32][4];    /* [slot][INTx]: IOAPIC pin, 0xff: none */
	bool extint_lint0, nmi_lint1;
};

static void entry(const uint8_t *e, struct counts *c)
{
	switch (e[0]) {
	case 0:
		assert_int_equal(e[1], c->cpus);           /* LAPIC id */
		assert_true(e[3] & 1);                     /* enabled */
		c->bsp += !!(e[3] & 2);
		if (e[3] & 2)
			assert_int_equal(e[1], 0);
		c->cpus++;
		break;
	case 1:
		if (!memcmp(e + 2, "PCI   ", 6))
			c->pci_bus = e[1];
		else if (!memcmp(e + 2, "ISA   ", 6))
			c->isa_bus = e[1];
		else
			fail_msg("unknown bus type %.6s", e + 2);
		c->buses++;
		break;
	case 2:
		assert_int_equal(e[2], 0x11);
		assert_int_equal(e[3] & 1, 1);
		assert_int_equal(le32(e + 4), 0xfec00000);
		c->ioapic_id = e[1];
		c->ioapics++;
		break;
	case 3:
		assert_int_equal(e[1], 0);                 /* INT */
		assert_int_equal(e[6], c->ioapic_id);
		if (e[4] == c->isa_bus) {
			c->irq_pin[e[5]] = e[7];
			c->irq_flags[e[5]] = (uint16_t)(e[2] | e[3] << 8);
			c->iointr++;
		} else {
			assert_int_equal(e[4], c->pci_bus);
			/* level, active low */
			assert_int_equal(e[2] | e[3] << 8, 0xf);
			c->pci_pin[(e[5] >> 2) & 31][e[5] & 3] = e[7];
			c->pci_intr++;
		}
		break;
	case 4:
		assert_int_equal(e[6], 0xff);              /* all LAPICs */
		c->extint_lint0 |= e[1] == 3 && e[7] == 0;
		c->nmi_lint1 |= e[1] == 1 && e[7] == 1;
		c->lintr++;
		break;
	default:
		fail_msg("unknown MP entry type %u", e[0]);
	}
}

static void walk(struct counts *c)
{
	const uint8_t *fp = scan_fp(), *t, *e;
	uint16_t len, n;

	assert_non_null(fp);
	assert_int_equal(fp[9], 4);                        /* spec 1.4 */
	assert_int_equal(fp[11], 0);                       /* table follows */
	t = gpa(le32(fp + 4), 44);
	assert_memory_equal(t, "PCMP", 4);
	len = (uint16_t)(t[4] | t[5] << 8);
	n = (uint16_t)(t[34] | t[35] << 8);
	t = gpa(le32(fp + 4), len);
	assert_int_equal(sum(t, len), 0);
	assert_int_equal(le32(t + 36), 0xfee00000);
	assert_memory_equal(t + 8, "CVISOR  ", 8);
	memset(c, 0, sizeof(*c));
	memset(c->irq_pin, 0xff, sizeof(c->irq_pin));
	memset(c->pci_pin, 0xff, sizeof(c->pci_pin));
	c->isa_bus = c->pci_bus = 0xff;
	e = t + 44;
	for (unsigned i = 0; i < n; i++) {
		assert_true(e < t + len);
		entry(e, c);
		e += e[0] == 0 ? 20 : 8;
	}
	assert_int_equal(e, t + len);
}

static void check(unsigned cpus)
{
	struct x86_firmware fw;
	struct counts c;

	assert_int_equal(x86_firmware_build(&cfg, &mem, NULL, &fw), 0);
	assert_int_equal(fw.mp_addr % 16, 0);
	walk(&c);
	assert_int_equal(c.cpus, cpus);
	assert_int_equal(c.bsp, 1);
	assert_int_equal(c.buses, 1);
	assert_int_equal(c.isa_bus, 0);
	assert_int_equal(c.pci_intr, 0);
	assert_int_equal(c.ioapics, 1);
	assert_int_equal(c.ioapic_id, cpus);
	assert_int_equal(c.iointr, 15);
	assert_int_equal(c.irq_pin[0], 2);
	assert_int_equal(c.irq_pin[2], 0xff);
	for (unsigned irq = 1; irq < 16; irq++)
		if (irq != 2)
			assert_int_equal(c.irq_pin[irq], irq);
	/* the SCI (IRQ 9): level, active high, as the MADT says */
	assert_int_equal(c.irq_flags[9], 0xd);
	assert_int_equal(c.irq_flags[4], 0);
	assert_int_equal(c.lintr, 2);
	assert_true(c.extint_lint0);
	assert_true(c.nmi_lint1);
}

static void test_one_cpu(void **state)
{
	cfg.nr_cpus = 1;
	check(1);
}

static void test_four_cpus(void **state)
{
	cfg.nr_cpus = 4;
	check(4);
}

/* The largest config still fits below the ACPI tables. */
static void test_max_cpus(void **state)
{
	cfg.nr_cpus = CFG_MAX_CPUS;
	check(CFG_MAX_CPUS);
}

/* With PCI: bus 0 is PCI (Linux takes the MP bus id for the PCI bus
 * number), ISA follows, and every slot's INTA-INTD is on the IOAPIC pin
 * the _PRT names (acpi=off guests route INTx with it). */
static void test_pci_intx(void **state)
{
	struct vm_config pc;
	struct cfg_error err;
	struct x86_firmware fw;
	struct counts c;

	assert_int_equal(config_from_string(&pc, "t", "ram 1m\nload /dev/null\n"
					    "vdev virtio-entropy\n", &err), 0);
	assert_int_equal(x86_firmware_build(&pc, &mem, NULL, &fw), 0);
	walk(&c);
	assert_int_equal(c.buses, 2);
	assert_int_equal(c.pci_bus, 0);
	assert_int_equal(c.isa_bus, 1);
	assert_int_equal(c.iointr, 15);
	assert_int_equal(c.pci_intr, 31 * 4);
	for (unsigned slot = 1; slot < 32; slot++)
		for (unsigned pin = 0; pin < 4; pin++)
			assert_int_equal(c.pci_pin[slot][pin],
					 pci_intx_gsi(slot, pin + 1));
	assert_int_equal(c.pci_pin[0][0], 0xff);
	config_free(&pc);
}

/* The reset vector F000:FFF0: mov dx, 0x602; mov al, 1; out dx, al;
 * then cli; hlt in a loop. The tables end below it. */
static void test_reset_stub(void **state)
{
	static const uint8_t want[] = { 0xba, 0x02, 0x06, 0xb0, 0x01, 0xee,
					0xfa, 0xf4, 0xeb, 0xfd };
	struct x86_firmware fw;

	cfg.nr_cpus = CFG_MAX_CPUS;
	assert_int_equal(x86_firmware_build(&cfg, &mem, NULL, &fw), 0);
	assert_memory_equal(gpa(0xffff0, sizeof(want)), want, sizeof(want));
	assert_int_equal(X86_ACPI_RESET_PORT, 0x602);
	assert_int_equal(X86_ACPI_RESET_VALUE, 1);
	assert_int_equal(fw.end, 0x100000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_one_cpu),
		T(test_four_cpus),
		T(test_max_cpus),
		T(test_pci_intx),
		T(test_reset_stub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
