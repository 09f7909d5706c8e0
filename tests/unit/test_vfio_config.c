/* vfio/config.c and msi.c against a fake device: the "device fd" is a
 * memfd holding its configuration space (VFIO's config region is read
 * and written with pread/pwrite the same way; its ioctls fail on a
 * memfd, which stands for a device VFIO refuses). Checks the filtered
 * capability list (a looping, hostile list included), which bytes are
 * the device's and which cvisor's, the command register forwarded, and
 * MSI's routes and irqfds undone when VFIO refuses the vectors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"
#include "devices/device.h"
#include "vfio/vfio_priv.h"

static struct vfio_pass *p;
static int routes, irqfds, lines, made;
static bool refuse;             /* KVM refuses the next route updates */
static uint64_t routed_addr;    /* the message of the last one taken */

static int fake_route(void *ctx, int route, uint64_t addr, uint32_t data,
		      uint32_t devid)
{
	if (refuse)
		return -EINVAL;
	made++;
	routed_addr = addr;
	return route >= 0 ? route : 100 + routes++;
}

static void fake_route_free(void *ctx, int route)
{
	routes--;
}

static int fake_irqfd(void *ctx, int route, int efd, bool assign)
{
	irqfds += assign ? 1 : -1;
	return 0;
}

static int fake_line(void *ctx, uint32_t gsi, int efd, int rfd, bool assign)
{
	lines += assign ? 1 : -1;
	return 0;
}

static const struct dev_env env = {
	.msi_route = fake_route, .msi_route_free = fake_route_free,
	.msi_irqfd = fake_irqfd, .line_irqfd = fake_line,
};

static uint8_t dev_cfg[256];

static void cap(unsigned off, uint8_t id, uint8_t next)
{
	dev_cfg[off] = id;
	dev_cfg[off + 1] = next;
}

/* 1234:11e8, class ff0000, INTA; PM 0x40 -> MSI 0x50 (64-bit, 4
 * vectors) -> MSI-X 0x70 -> vendor 0x80 -> SATA 0x90 -> back to 0x40. */
static void build_cfg(void)
{
	memset(dev_cfg, 0, sizeof(dev_cfg));
	dev_cfg[0] = 0x34; dev_cfg[1] = 0x12; dev_cfg[2] = 0xe8;
	dev_cfg[3] = 0x11;
	dev_cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	dev_cfg[8] = 0x10; dev_cfg[11] = 0xff;
	dev_cfg[PCI_CAP_PTR] = 0x40;
	dev_cfg[PCI_INTERRUPT_PIN] = 1;
	cap(0x40, 0x01, 0x50);
	dev_cfg[0x44] = 0x08;
	cap(0x50, 0x05, 0x70);
	dev_cfg[0x52] = 0x80 | (2 << 1);    /* 64-bit, MMC = 4 vectors */
	cap(0x70, 0x11, 0x80);
	cap(0x80, 0x09, 0x90);
	dev_cfg[0x82] = 8;
	dev_cfg[0x84] = 0xab;
	cap(0x90, 0x12, 0x40);
	dev_cfg[0xc0] = 0x77;                /* a vendor register */
}

static int open_dev(void)
{
	int fd = memfd_create("cfg", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, dev_cfg, sizeof(dev_cfg), 0),
			 sizeof(dev_cfg));
	return fd;
}

static uint8_t dev_byte(unsigned off)
{
	uint8_t b = 0;

	assert_int_equal(pread(p->fd, &b, 1, off), 1);
	return b;
}

static int setup(void **state)
{
	build_cfg();
	p = calloc(1, sizeof(*p));
	p->fd = open_dev();
	p->cfg_size = 256;
	p->intx_efd = p->intx_rfd = -1;
	pthread_mutex_init(&p->irq_lock, NULL);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		p->bars[i].slot_gpa = PCI_BAR_UNMAPPED;
	strcpy(p->host.name, "0000:00:01.0");
	vfio_msi_init(p);
	routes = irqfds = lines = made = 0;
	refuse = false;
	routed_addr = 0;
	return 0;
}

static int teardown(void **state)
{
	close(p->fd);
	pthread_mutex_destroy(&p->irq_lock);
	free(p);
	return 0;
}

static uint32_t rd(unsigned off, unsigned size)
{
	return pci_func_cfg_read(&p->f, off, size);
}

static void test_header(void **state)
{
	assert_int_equal(vfio_config_init(p), 0);
	assert_int_equal(rd(0, 4), 0x11e81234);
	assert_int_equal(rd(8, 4), 0xff000010);
	assert_int_equal(rd(PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(p->pin, 1);
	/* no BAR: VFIO's region ioctls fail on the fake */
	assert_int_equal(rd(PCI_BAR0, 4), 0);
}

static void test_caps_filtered(void **state)
{
	unsigned off, seen[8], n = 0;

	assert_int_equal(vfio_config_init(p), 0);
	assert_true(rd(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (off = rd(PCI_CAP_PTR, 1); off && n < 8; off = rd(off + 1, 1))
		seen[n++] = off;
	/* PM, MSI and vendor in order; MSI-X and SATA gone; no loop */
	assert_int_equal(n, 3);
	assert_int_equal(seen[0], 0x40);
	assert_int_equal(seen[1], 0x50);
	assert_int_equal(seen[2], 0x80);
	assert_int_equal(rd(0x50, 1), 0x05);
	assert_int_equal(p->msi.cap, 0x50);
	assert_true(p->msi.is64);
	assert_int_equal(p->msi.max_vec, 4);
	/* the device's own bytes: PM body, vendor body, vendor register */
	assert_int_equal(rd(0x44, 1), 0x08);
	assert_int_equal(rd(0x84, 1), 0xab);
	assert_int_equal(rd(0xc0, 1), 0x77);
}

/* MSI-X that cannot be emulated is hidden, and its real table and PBA
 * still leave the guest's mapping of the BAR (they stayed mapped: what
 * the guest wrote there reached the device). Here the BAR is VFIO's but
 * not declared on the function, so the emulation is refused. */
static void test_msix_hidden_holed(void **state)
{
	struct vfio_bar *b = &p->bars[0];

	dev_cfg[0x72] = 3;                          /* 4 vectors */
	dev_cfg[0x75] = 0x10;                       /* table BAR0+0x1000 */
	dev_cfg[0x79] = 0x18;                       /* PBA BAR0+0x1800 */
	close(p->fd);
	p->fd = open_dev();
	*b = (struct vfio_bar){ .size = 0x4000, .split = 0x4000,
				.split_end = 0x4000,
				.slot_gpa = PCI_BAR_UNMAPPED };
	assert_int_equal(vfio_config_init(p), 0);
	for (unsigned off = rd(PCI_CAP_PTR, 1), n = 0; off && n < 8;
	     off = rd(off + 1, 1), n++)
		assert_int_not_equal(rd(off, 1), 0x11);
	assert_int_equal(b->split, 0x1000);
	assert_int_equal(b->split_end, 0x2000);
}

static void test_writes(void **state)
{
	assert_int_equal(vfio_config_init(p), 0);
	/* a PM register: the device's */
	pci_func_cfg_write(&p->f, 0x44, 1, 0x03);
	assert_int_equal(dev_byte(0x44), 0x03);
	assert_int_equal(rd(0x44, 1), 0x03);
	/* the chain's pointers are cvisor's: the device keeps its own */
	pci_func_cfg_write(&p->f, 0x51, 1, 0x90);
	assert_int_equal(rd(0x51, 1), 0x80);
	assert_int_equal(dev_byte(0x51), 0x70);
	/* MSI's message is cvisor's: the device never sees it */
	pci_func_cfg_write(&p->f, 0x54, 4, 0xfee00000);
	assert_int_equal(rd(0x54, 4), 0xfee00000);
	assert_int_equal(dev_byte(0x56), 0);
	/* the command register goes to the device too */
	pci_func_cfg_write(&p->f, PCI_COMMAND, 2, 0x0406);
	assert_int_equal(rd(PCI_COMMAND, 2), 0x0406);
	assert_int_equal(dev_byte(PCI_COMMAND), 0x06);
	assert_int_equal(dev_byte(PCI_COMMAND + 1), 0x04);
	/* header bytes stay cvisor's (the ids are read-only) */
	pci_func_cfg_write(&p->f, 0, 4, 0);
	assert_int_equal(rd(0, 4), 0x11e81234);
}

/* VFIO refuses the vectors (the fake's ioctl fails): MSI stays off,
 * every route and irqfd made for it is undone, INTx is asked back. */
static void test_msi_refused(void **state)
{
	assert_int_equal(vfio_config_init(p), 0);
	p->f.env = &env;
	pci_func_cfg_write(&p->f, 0x54, 4, 0xfee00000);
	pci_func_cfg_write(&p->f, 0x5c, 2, 0x33);
	pci_func_cfg_write(&p->f, 0x52, 2, 0x0080 | (2 << 4) | 1);
	assert_false(p->msi.on);
	assert_int_equal(routes, 0);
	assert_int_equal(irqfds, 0);
	assert_int_equal(lines, 0);
	for (unsigned i = 0; i < VFIO_MSI_MAX; i++) {
		assert_int_equal(p->msi.efd[i], -1);
		assert_int_equal(p->msi.route[i], -1);
	}
	/* the enable bit and vector count are writable, MMC is not */
	assert_int_equal(rd(0x52, 2) & 0x7f, (2 << 4) | 1 | (2 << 1));
}

/* A message address that is not an MSI controller's is never routed
 * (it went to KVM's routing table unchecked), and MSI is not tried while
 * MSI-X is on (each try cost a routing update and VFIO's refusal). */
static void test_msi_bad_address_and_msix_on(void **state)
{
	assert_int_equal(vfio_config_init(p), 0);
	p->f.env = &env;
	pci_func_cfg_write(&p->f, 0x54, 4, 0x1000);       /* RAM, not the APIC */
	pci_func_cfg_write(&p->f, 0x52, 2, 0x0080 | (2 << 4) | 1);
	assert_false(p->msi.on);
	assert_int_equal(made, 0);
	pci_func_cfg_write(&p->f, 0x52, 2, 0);
	pci_func_cfg_write(&p->f, 0x54, 4, 0xfee00000);
	p->msix_on = true;
	pci_func_cfg_write(&p->f, 0x52, 2, 0x0080 | (2 << 4) | 1);
	assert_false(p->msi.on);
	assert_int_equal(made, 0);
	assert_int_equal(lines, 0);
}

/* MSI on (set up by hand: VFIO's ioctls fail on the fake): a write that
 * changes nothing rebuilds no route; a bad address unbinds the vector
 * and frees its route; a later write with the same bad address binds
 * nothing (it bound the route with the old message); a good address
 * routes and binds again. */
static void test_msi_retarget(void **state)
{
	struct vfio_msi *s = &p->msi;

	assert_int_equal(vfio_config_init(p), 0);
	p->f.env = &env;
	pci_func_cfg_write(&p->f, 0x54, 4, 0xfee00000);
	pci_func_cfg_write(&p->f, 0x5c, 2, 0x33);
	s->on = true;
	s->nr_on = 1;
	s->addr = 0xfee00000;
	s->data = 0x33;
	s->efd[0] = eventfd(0, EFD_CLOEXEC);
	s->route[0] = fake_route(NULL, -1, 0xfee00000, 0x33, 0);
	s->bound[0] = true;
	irqfds = 1;
	made = 0;
	pci_func_cfg_write(&p->f, 0x52, 2, 0x0001);      /* enable, 1 vector */
	assert_int_equal(made, 0);
	assert_int_equal(irqfds, 1);
	pci_func_cfg_write(&p->f, 0x54, 4, 0x1000);      /* not the APIC */
	assert_int_equal(irqfds, 0);
	assert_int_equal(routes, 0);
	assert_int_equal(s->route[0], -1);
	pci_func_cfg_write(&p->f, 0x52, 2, 0x0001);
	assert_int_equal(irqfds, 0);
	assert_int_equal(made, 0);
	pci_func_cfg_write(&p->f, 0x54, 4, 0xfee01000);
	assert_int_equal(made, 1);
	assert_int_equal(routes, 1);
	assert_int_equal(irqfds, 1);
	/* a move KVM refuses leaves the vector dropped, and the next write
	 * routes the message the guest wrote, not the old one */
	refuse = true;
	pci_func_cfg_write(&p->f, 0x54, 4, 0xfee02000);
	refuse = false;
	assert_int_equal(irqfds, 0);
	assert_int_equal(s->route[0], -1);
	pci_func_cfg_write(&p->f, 0x52, 2, 0x0001);
	assert_int_equal(irqfds, 1);
	assert_int_equal(routed_addr, 0xfee02000);
	vfio_msi_disable(p);
	assert_int_equal(routes, 0);
	assert_int_equal(irqfds, 0);
}

/* A BAR access at an unaligned offset goes through the region (pread),
 * never through the mapping: an unaligned access to a device mapping
 * faults on arm64 (SIGBUS: cvisor died). Aligned ones use the mapping.
 * The "region" here is the fake's memfd: the config bytes. */
static void test_bar_unaligned(void **state)
{
	uint8_t map[64];
	struct vfio_bar *b = &p->bars[0];

	memset(map, 0x11, sizeof(map));
	*b = (struct vfio_bar){ .size = sizeof(map), .map = map,
				.slot_gpa = PCI_BAR_UNMAPPED };
	assert_int_equal(vfio_bar_read(&p->f, 0, 0, 4), 0x11111111);
	assert_int_equal(vfio_bar_read(&p->f, 0, 1, 4), 0x0011e812);
	assert_int_equal(vfio_bar_read(&p->f, 0, 2, 2), 0x1111);   /* aligned */
	assert_int_equal(vfio_bar_read(&p->f, 0, 3, 2), 0x0011);
	vfio_bar_write(&p->f, 0, 5, 2, 0xbeef);
	assert_int_equal(dev_byte(5), 0xef);
	assert_int_equal(dev_byte(6), 0xbe);
	assert_int_equal(map[5], 0x11);
	vfio_bar_write(&p->f, 0, 8, 8, 0);
	assert_int_equal(map[8], 0);
	assert_int_equal(vfio_bar_read(&p->f, 0, 64, 1), ~0ull);    /* outside */
	b->map = NULL;
}

static void test_not_endpoint(void **state)
{
	dev_cfg[PCI_HEADER_TYPE] = 1;      /* a bridge */
	close(p->fd);
	p->fd = open_dev();
	assert_int_equal(vfio_config_init(p), -ENOTSUP);
	build_cfg();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps_filtered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_msi_bad_address_and_msix_on,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_unaligned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_msi_retarget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_msix_hidden_holed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_endpoint, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
