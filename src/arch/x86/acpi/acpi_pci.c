/* The PCI host bridge in the DSDT, for a VM that has one:
 *
 *   \_SB.PCI0  PNP0A08 (PCI Express root bridge), _CID PNP0A03 (PCI), so
 *              Linux binds its ACPI PCI root driver and takes the bus's
 *              resources and interrupt routing from here:
 *     _SEG, _BBN, _UID  0: segment 0, bus 0, the first bridge. No _ADR
 *           (QEMU has one): ACPI 6.1.5 allows _HID or _ADR, not both, and
 *           iasl warns about both; Linux reads neither from a root bridge.
 *     _CRS  WordBusNumber  bus_start..bus_end
 *           WordIO         0x0000-0x0CF7 and 0x0D00-0xFFFF: every port
 *                          but the config ports, which the bridge itself
 *                          consumes (IO 0xCF8,8), as QEMU describes it
 *           DWordMemory    the 32-bit BAR window
 *           QWordMemory    the 64-bit BAR window, when there is one
 *     _PRT  slot 1-31, pins INTA-INTD: { slot << 16 | 0xFFFF, pin, 0, GSI }
 *           with GSI = pci_intx_gsi(slot, pin + 1). A GSI entry (Source 0)
 *           is level-triggered, active low by definition, so the MADT
 *           needs no override for GSIs 16-19. Slot 0 is the host bridge,
 *           which has no interrupt pin.
 *   \_SB.ECAM  PNP0C02 (motherboard resources): Memory32Fixed over the
 *              ECAM window of the MCFG's bus range. Linux uses MMCONFIG
 *              only when the MCFG range is reserved in e820 or by such a
 *              device; e820 must equal the configuration (issue 3), so
 *              the reservation is made here, as QEMU does too.
 *
 * No _OSC: Linux then keeps PCIe native services (hot-plug, AER) off,
 * which a bridge without PCIe capabilities does not have anyway.
 *
 * The swizzle comes from bus/pci.h, the one place that decides it (the
 * interrupt line register uses it too); arch reads only that description
 * and the pure function, nothing with state.
 */
#include "arch/x86/acpi/acpi.h"
#include "arch/x86/acpi/aml.h"
#include "bus/pci.h"
#include "core/log.h"

#define PCI_CFG_PORT      0xcf8
#define PCI_CFG_PORTS_LEN 8            /* 0xCF8-0xCFF */
#define PCI_ECAM_BUS_SIZE (1ULL << 20) /* 32 devices x 8 functions x 4 KiB */
#define PCI_PRT_PINS      4

static void pci0_crs(struct fw_buf *b, const struct x86_firmware_pci *pci)
{
	uint64_t mem32_end = pci->mmio32_base + pci->mmio32_size - 1;
	struct fw_buf r;

	fw_buf_init(&r);
	res_word_bus(&r, pci->bus_start, pci->bus_end);
	res_word_io(&r, 0, PCI_CFG_PORT - 1);
	res_io(&r, PCI_CFG_PORT, PCI_CFG_PORTS_LEN);
	res_word_io(&r, PCI_CFG_PORT + PCI_CFG_PORTS_LEN, 0xffff);
	res_dword_mem(&r, (uint32_t)pci->mmio32_base, (uint32_t)mem32_end,
		      false);
	if (pci->mmio64_size)
		res_qword_mem(&r, pci->mmio64_base,
			      pci->mmio64_base + pci->mmio64_size - 1, true);
	aml_crs(b, &r);
	fw_buf_free(&r);
}

static void prt_entry(struct fw_buf *b, unsigned slot, unsigned pin)
{
	size_t pkg = aml_package_open(b, 4);

	aml_integer(b, (uint64_t)slot << 16 | 0xffff);  /* any function */
	aml_integer(b, pin);                             /* 0 = INTA */
	aml_integer(b, 0);                               /* Source: a GSI */
	aml_integer(b, pci_intx_gsi(slot, pin + 1));
	aml_close(b, pkg);
}

static void pci0_prt(struct fw_buf *b)
{
	size_t pkg;

	aml_name(b, "_PRT");
	pkg = aml_package_open(b, (PCI_MAX_SLOTS - 1) * PCI_PRT_PINS);
	for (unsigned slot = 1; slot < PCI_MAX_SLOTS; slot++)
		for (unsigned pin = 0; pin < PCI_PRT_PINS; pin++)
			prt_entry(b, slot, pin);
	aml_close(b, pkg);
}

static void add_pci0(struct fw_buf *b, const struct x86_firmware_pci *pci)
{
	size_t dev = aml_device_open(b, "PCI0");

	aml_name_eisaid(b, "_HID", "PNP0A08");
	aml_name_eisaid(b, "_CID", "PNP0A03");
	aml_name_int(b, "_SEG", pci->segment);
	aml_name_int(b, "_BBN", pci->bus_start);
	aml_name_int(b, "_UID", 0);
	pci0_crs(b, pci);
	pci0_prt(b);
	aml_close(b, dev);
}

static void add_ecam(struct fw_buf *b, const struct x86_firmware_pci *pci)
{
	uint64_t base = pci->ecam_base + pci->bus_start * PCI_ECAM_BUS_SIZE;
	uint64_t len = (pci->bus_end - pci->bus_start + 1) * PCI_ECAM_BUS_SIZE;
	struct fw_buf r;
	size_t dev;

	if (base + len > 1ULL << 32) {
		pr_warn("acpi: ECAM at 0x%llx is above 4 GiB; not reserved in "
			"the DSDT", (unsigned long long)base);
		return;
	}
	fw_buf_init(&r);
	dev = aml_device_open(b, "ECAM");
	aml_name_eisaid(b, "_HID", "PNP0C02");
	aml_name_int(b, "_UID", 0);
	res_mem32_fixed(&r, (uint32_t)base, (uint32_t)len, true);
	aml_crs(b, &r);
	fw_buf_free(&r);
	aml_close(b, dev);
}

void acpi_dsdt_add_pci(struct fw_buf *b, const struct x86_firmware_pci *pci)
{
	add_pci0(b, pci);
	add_ecam(b, pci);
}
