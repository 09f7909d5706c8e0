/* Every device's register file through the bus, as vCPU exits reach it:
 * 16550A and PL011 UARTs, the CMOS RTC, the i8042, debug-exit, testdev,
 * pc-testdev, fw_cfg (ports and DMA into the fuzzed RAM), port 0x80, the ACPI power registers, the PCI host bridge (0xCF8/0xCFC,
 * 0xCF9, ECAM), and virtio-blk, -console and -entropy on virtio-mmio and
 * on virtio-pci (common config, ISR, device config, notify, MSI-X table
 * and PBA), and the LSI 53C895A (00:04.0, the first free slot: register
 * file through its I/O and memory BARs, SCRIPTS RAM; SCRIPTS fetched from
 * the fuzzed RAM run against a disk on target 0 and a CD-ROM on target
 * 2). The machine is built once, from a fixed config, the way the
 * builder does it (type->create, bus placement, pci_host_attach), with a
 * fake dev_env: no KVM, MSI routes are numbers, interrupts are counted,
 * and the event loop runs on its own thread as in a VM (kicks, block
 * completions and the end of a virtio reset arrive there).
 * Guest RAM is 0-0x9ffff and 1-2 MiB, so virtio rings can work.
 *
 * The input is a sequence of operations, each an opcode byte
 *   bits 0-2  kind: 0, 1 a placed region (byte: which, le16: offset),
 *             2 raw port (le16), 3 raw MMIO address (le64),
 *             4 PCI config through 0xCF8/0xCFC (byte devfn, byte reg),
 *             5 PCI config through ECAM (byte devfn, le16 reg),
 *             6 guest RAM write (le32 address, byte n, n bytes),
 *             7 yield to the event loop thread
 *   bits 3-4  access size 1 << n;  bit 5  write (le64 value follows)
 * Every device is reset after each input, as at power-on. */
#include <errno.h>
#include <sched.h>

#include "fuzz_common.h"
#include "bus/bus.h"
#include "bus/pci.h"
#include "config/config.h"
#include "devices/registry.h"
#include "event/loop.h"
#include "mem/guest_mem.h"

#define MAX_DEVS  32
#define LOW_RAM   0xa0000ULL
#define HIGH_RAM  0x100000ULL       /* 1 MiB at 1 MiB */

static const char config_text[] =
	"ram 0,0xa0000 ram 1m,1m load blob.dat\n"
	"vdev ser8250 hostdev >/dev/null\n"
	"vdev ser8250 loc 0x2f8 intr ioapic:3\n"
	"vdev pl011 loc 0x9000000 intr ioapic:5 hostdev >/dev/null\n"
	"vdev mc146818\n"
	"vdev pckeyboard\n"
	"vdev debug-exit\n"
	"vdev testdev\n"
	"vdev pc-testdev\n"
	"vdev fw-cfg string opt/fuzz,0123456789abcdef\n"
	"vdev virtio-blk hostdev disk.img loc 0xfeb10000 intr ioapic:11\n"
	"vdev virtio-entropy loc 0xfeb11000 intr ioapic:10\n"
	"vdev virtio-console loc 0xfeb12000 intr ioapic:12 hostdev >/dev/null\n"
	"vdev virtio-blk hostdev disk.img threads 2\n"
	"vdev virtio-entropy\n"
	"vdev virtio-console hostdev >/dev/null\n"
	"vdev lsi53c895a hostdev disk.img\n"
	"	hostdev <cd.img target 2 cdrom\n";

static struct vm_config cfg;
static struct guest_mem mem;
static uint8_t *low, *high;
static struct bus pio, mmio;
static struct event_loop *loop;
static struct pci_host *host;
static struct device *devs[MAX_DEVS];
static unsigned nr_devs;
static uint64_t irq_changes, msi_sent;
static int next_route;

static void irq_set(void *ctx, uint32_t gsi, int level) { irq_changes++; }
static void power(void *ctx, enum power_request req, int status) { }

static int msi_route(void *ctx, int route, uint64_t addr, uint32_t data,
		     uint32_t devid)
{
	return route >= 0 ? route : next_route++;
}

static int msi_signal(void *ctx, uint64_t addr, uint32_t data, uint32_t devid)
{
	msi_sent++;
	return 0;
}

static void msi_route_free(void *ctx, int route) { }

static struct dev_env env = {
	.mem = &mem, .irq_set = irq_set, .power = power,
	.msi_route = msi_route, .msi_signal = msi_signal,
	.msi_route_free = msi_route_free,
};

static void place(struct device *dev)
{
	devs[nr_devs++] = dev;
	for (unsigned i = 0; i < dev->nr_regions; i++) {
		const struct dev_region *r = &dev->regions[i];

		if (bus_register(r->space == BUS_PIO ? &pio : &mmio, r->base,
				 r->len, dev, i)) {
			fprintf(stderr, "fuzz: %s does not fit\n", dev->name);
			abort();
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char disk[64 * 1024];
	struct cfg_error err;
	struct pci_layout l;
	char name[128];

	fz_mkdir("devices");
	fz_write("blob.dat", "blob", 4);
	fz_write("disk.img", disk, sizeof(disk));
	fz_write("cd.img", disk, sizeof(disk));
	if (config_from_string(&cfg, fz_path(name, sizeof(name), "m.qvmconf"),
			       config_text, &err)) {
		cfg_error_print(&err);
		abort();
	}
	guest_mem_init(&mem);
	low = calloc(1, LOW_RAM);
	high = calloc(1, HIGH_RAM);
	guest_mem_add_host(&mem, 0, LOW_RAM, low, GUEST_RAM);
	guest_mem_add_host(&mem, HIGH_RAM, HIGH_RAM, high, GUEST_RAM);
	bus_init(&pio, BUS_PIO);
	bus_init(&mmio, BUS_MMIO);
	loop = event_loop_new();
	env.loop = loop;
	pci_layout_default(&l, guest_mem_ram_end(&mem), 0);
	host = pci_host_create(&env, &l, &pio, &mmio);
	place(&host->dev);
	for (unsigned i = 0; i < cfg.nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg.vdevs[i];
		struct device *dev = NULL;
		struct pci_func *f;

		if (!vc->type->create)
			continue;
		if (vc->type->create(vc, &env, &dev) || !dev)
			abort();
		place(dev);
		f = pci_func_of(dev);
		if (f && pci_host_attach(host, f, -1, 0))
			abort();
	}
	place(port80_create());
	place(acpi_pm_create(&env, 9));
	if (event_loop_start(loop))
		abort();
	return 0;
}

/* The nth placed range (port I/O ranges first), read under the bus's
 * sequence counter the way lookups do: BAR writes move ranges. */
static bool nth_range(unsigned n, struct bus **b, struct bus_range *out)
{
	unsigned np = bus_count(&pio), nm = bus_count(&mmio);
	struct bus *bb;
	struct bus_array *arr;

	if (!(np + nm))
		return false;
	n %= np + nm;
	bb = n < np ? &pio : &mmio;
	if (n >= np)
		n -= np;
	arr = __atomic_load_n(&bb->arr, __ATOMIC_ACQUIRE);
	if (n >= __atomic_load_n(&bb->nr, __ATOMIC_ACQUIRE))
		return false;
	*out = arr->r[n];
	*b = bb;
	return true;
}

static void dev_access(struct bus *b, uint64_t addr, unsigned size, bool write,
		   uint64_t v)
{
	uint64_t data = v;

	bus_access(b, addr, &data, size, write);
}

static void pci_conf1(struct fz_in *in, unsigned size, bool write,
		      uint64_t v)
{
	uint8_t devfn = fz_u8(in), reg = fz_u8(in);
	uint32_t cf8 = 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xfc);

	if (size > 4)
		size = 4;
	dev_access(&pio, 0xcf8, 4, true, cf8);
	dev_access(&pio, 0xcfc + (reg & 3), size, write, v);
}

static void op(struct fz_in *in)
{
	uint8_t code = fz_u8(in);
	unsigned size = 1u << ((code >> 3) & 3);
	bool write = code & 0x20;
	struct bus_range r;
	struct bus *b;

	switch (code & 7) {
	case 0:
	case 1: {
		uint8_t which = fz_u8(in);
		uint16_t off = fz_u16(in);
		uint64_t v = write ? fz_u64(in) : 0;

		if (nth_range(which, &b, &r))
			dev_access(b, r.base + off % r.len, size, write, v);
		break;
	}
	case 2: {
		uint16_t port = fz_u16(in);

		dev_access(&pio, port, size, write, write ? fz_u64(in) : 0);
		break;
	}
	case 3: {
		uint64_t addr = fz_u64(in);

		dev_access(&mmio, addr, size, write, write ? fz_u64(in) : 0);
		break;
	}
	case 4: {
		uint64_t v = write ? fz_u64(in) : 0;

		pci_conf1(in, size, write, v);
		break;
	}
	case 5: {
		uint8_t devfn = fz_u8(in);
		uint16_t reg = fz_u16(in) & 0xfff;

		dev_access(&mmio, host->layout.ecam_base + ((uint64_t)devfn << 12) +
		       reg, size, write, write ? fz_u64(in) : 0);
		break;
	}
	case 6: {
		uint32_t gpa = fz_u32(in) % (HIGH_RAM * 2);
		unsigned n = fz_u8(in) % 64;
		uint8_t buf[64];

		for (unsigned k = 0; k < n; k++)
			buf[k] = fz_u8(in);
		guest_mem_write(&mem, gpa, buf, n);
		break;
	}
	default:
		sched_yield();
		break;
	}
}

/* Power-on state, as a VM reset gives it. */
static void reset_all(void)
{
	for (unsigned i = 0; i < nr_devs; i++)
		if (devs[i]->ops->reset)
			devs[i]->ops->reset(devs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	unsigned ops = 0;

	memset(low, 0, LOW_RAM);
	memset(high, 0, HIGH_RAM);
	while (in.left && ops++ < 1024)
		op(&in);
	/* here, not before the next input: a reset that hangs or crashes
	 * is this input's */
	reset_all();
	return 0;
}
