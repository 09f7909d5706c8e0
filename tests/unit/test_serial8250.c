/* 16550A model: registers, FIFO, interrupts, loopback, host flow control. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "backends/chardev.h"
#include "devices/registry.h"
#include "devices/serial8250.h"
#include "event/loop.h"

enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR
#define DLL RBR
#define DLM IER

struct fake {
	int level, changes;
	struct dev_env env;
	struct device *dev;
	char path[64];
};

static void fake_irq(void *ctx, uint32_t gsi, int level)
{
	struct fake *f = ctx;

	assert_int_equal(gsi, 4);
	f->level = level;
	f->changes++;
}

static struct device *make(struct fake *f, struct cfg_hostdev *hd,
			   unsigned nr, struct event_loop *loop)
{
	struct vdev_config vc = { .type = &ser8250_type, .nr_locs = 1,
				  .nr_intrs = 1 };

	vc.locs[0].addr = 0x3f8;
	vc.intrs[0].line = 4;
	for (unsigned i = 0; i < nr; i++)
		vc.hostdevs[i] = hd[i];
	vc.nr_hostdevs = nr;
	f->env = (struct dev_env){ .irq_set = fake_irq, .ctx = f,
				   .loop = loop };
	assert_int_equal(ser8250_type.create(&vc, &f->env, &f->dev), 0);
	assert_int_equal(f->dev->nr_regions, 1);
	assert_int_equal(f->dev->regions[0].base, 0x3f8);
	return f->dev;
}

static uint8_t rd(struct device *d, unsigned off)
{
	return d->ops->read(d, 0, off, 1);
}

static void wr(struct device *d, unsigned off, uint8_t v)
{
	d->ops->write(d, 0, off, 1, v);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	make(f, NULL, 0, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	f->dev->ops->free(f->dev);
	if (f->path[0])
		unlink(f->path);
	free(f);
	return 0;
}

static void test_reset_state(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;

	assert_int_equal(rd(d, LSR), 0x60);       /* THRE | TEMT */
	assert_int_equal(rd(d, IIR), 0x01);
	assert_int_equal(rd(d, IER), 0);
	assert_int_equal(rd(d, MSR), 0xb0);       /* CTS DSR DCD */
}

static void test_dlab_divisor(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;

	wr(d, LCR, 0x83);
	wr(d, DLL, 0x01);
	wr(d, DLM, 0x02);
	assert_int_equal(rd(d, DLL), 0x01);
	assert_int_equal(rd(d, DLM), 0x02);
	assert_int_equal(rd(d, LCR), 0x83);
	wr(d, LCR, 0x03);
	/* With DLAB clear offset 1 is IER again, untouched by DLM. */
	assert_int_equal(rd(d, IER), 0);
	wr(d, IER, 0x05);
	wr(d, LCR, 0x83);
	assert_int_equal(rd(d, DLM), 0x02);
	assert_int_equal(rd(d, DLL), 0x01);
}

static void test_register_round_trip(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;

	wr(d, LCR, 0x1b);
	assert_int_equal(rd(d, LCR), 0x1b);
	wr(d, MCR, 0xff);
	assert_int_equal(rd(d, MCR), 0x1f);       /* 5 bits only */
	wr(d, MCR, 0x0b);
	assert_int_equal(rd(d, MCR), 0x0b);
	wr(d, SCR, 0xa5);
	assert_int_equal(rd(d, SCR), 0xa5);
	wr(d, IER, 0xff);
	assert_int_equal(rd(d, IER), 0x0f);
	wr(d, LSR, 0x00);                         /* read-only */
	assert_int_equal(rd(d, LSR) & 0x60, 0x60);
}

static void test_thr_to_backend(void **state)
{
	struct fake *f = *state;
	struct cfg_hostdev hd = { .dir = HOSTDEV_OUT, .path = f->path };
	char buf[16] = { 0 };
	int fd;

	f->dev->ops->free(f->dev);
	strcpy(f->path, "/tmp/cvisor-ser-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	make(f, &hd, 1, NULL);
	wr(f->dev, RBR, 'h');
	wr(f->dev, RBR, 'i');
	wr(f->dev, RBR, '\n');
	assert_int_equal(rd(f->dev, LSR) & 0x60, 0x60);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "hi\n");
	close(fd);
}

static void test_thre_interrupt(void **state)
{
	struct fake *f = *state;
	struct device *d = f->dev;

	assert_int_equal(f->level, 0);
	wr(d, IER, 0x02);               /* ETBEI while THR empty: raised */
	assert_int_equal(f->level, 1);
	assert_int_equal(rd(d, IIR), 0x02);
	assert_int_equal(f->level, 0);  /* the IIR read acknowledged it */
	assert_int_equal(rd(d, IIR), 0x01);
	wr(d, RBR, 'x');                /* sent at once: empty again */
	assert_int_equal(f->level, 1);
	wr(d, IER, 0x00);
	assert_int_equal(f->level, 0);
	wr(d, IER, 0x02);               /* re-enabling raises it again */
	assert_int_equal(f->level, 1);
}

static void test_iir_priorities(void **state)
{
	struct fake *f = *state;
	struct device *d = f->dev;

	wr(d, FCR, 0x01);               /* FIFO on, trigger 1 */
	wr(d, MCR, 0x10);               /* loopback: CTS/DSR/DCD drop */
	for (int i = 0; i < 17; i++)
		wr(d, RBR, 'a' + i);    /* 17th overruns */
	wr(d, IER, 0x0d);               /* all but THRE first */
	assert_int_equal(rd(d, IIR), 0xc6);       /* line status */
	assert_int_equal(rd(d, LSR) & 0x03, 0x03); /* DR | OE */
	assert_int_equal(rd(d, IIR), 0xc4);       /* RX data */
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(d, RBR), 'a' + i);
	wr(d, IER, 0x0f);
	assert_int_equal(rd(d, IIR), 0xc2);       /* THR empty */
	assert_int_equal(rd(d, IIR), 0xc0);       /* modem status */
	assert_int_equal(f->level, 1);
	assert_int_equal(rd(d, MSR) & 0x0f, 0x0b); /* DCTS DDSR DDCD */
	assert_int_equal(rd(d, IIR), 0xc1);
	assert_int_equal(f->level, 0);
}

static void test_rx_trigger_levels(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;
	static const struct { uint8_t fcr; unsigned level; } t[] = {
		{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
	};
	uint8_t data[16] = "0123456789abcdef";

	wr(d, IER, 0x01);
	for (unsigned i = 0; i < 4; i++) {
		wr(d, FCR, t[i].fcr | 0x02);      /* and clear RX */
		if (t[i].level > 1) {
			assert_int_equal(ser8250_receive(d, data,
						t[i].level - 1), t[i].level - 1);
			/* below the trigger: character timeout */
			assert_int_equal(rd(d, IIR), 0xcc);
		}
		assert_int_equal(ser8250_receive(d, data, 1), 1);
		assert_int_equal(rd(d, IIR), 0xc4);
	}
}

static void test_rx_fifo_full(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;
	uint8_t data[20];

	for (int i = 0; i < 20; i++)
		data[i] = i;
	/* FIFO off: one byte at a time. */
	assert_int_equal(ser8250_receive(d, data, 20), 1);
	assert_int_equal(rd(d, LSR) & 0x03, 0x01);
	assert_int_equal(rd(d, RBR), 0);
	assert_int_equal(rd(d, LSR) & 0x01, 0);
	/* FIFO on: 16 fit, the host keeps the rest; no overrun. */
	wr(d, FCR, 0x01);
	assert_int_equal(ser8250_receive(d, data, 20), 16);
	assert_int_equal(rd(d, LSR) & 0x02, 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(d, RBR), i);
	assert_int_equal(rd(d, LSR) & 0x01, 0);
}

static void test_loopback_overrun(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;

	wr(d, FCR, 0x01);
	wr(d, MCR, 0x10);
	for (int i = 0; i < 16; i++)
		wr(d, RBR, i);
	assert_int_equal(rd(d, LSR) & 0x02, 0);
	wr(d, RBR, 0xee);               /* the 17th */
	assert_int_equal(rd(d, LSR) & 0x03, 0x03);
	assert_int_equal(rd(d, LSR) & 0x02, 0);    /* cleared by the read */
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(d, RBR), i);  /* FIFO kept, 17th lost */
}

static void test_fifo_reset(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;
	uint8_t data[4] = "abcd";

	wr(d, FCR, 0x01);
	wr(d, IER, 0x01);
	assert_int_equal(ser8250_receive(d, data, 4), 4);
	assert_int_equal(rd(d, IIR), 0xc4);
	wr(d, FCR, 0x03);               /* clear RX FIFO */
	assert_int_equal(rd(d, LSR) & 0x01, 0);
	assert_int_equal(rd(d, IIR), 0xc1);
	assert_int_equal(ser8250_receive(d, data, 2), 2);
	wr(d, FCR, 0x00);               /* FIFO off: cleared, no 0xc0 */
	assert_int_equal(rd(d, LSR) & 0x01, 0);
	assert_int_equal(rd(d, IIR), 0x01);
}

static void test_loopback_msr(void **state)
{
	struct fake *f = *state;
	struct cfg_hostdev hd = { .dir = HOSTDEV_OUT, .path = f->path };
	struct device *d;
	struct stat st;

	f->dev->ops->free(f->dev);
	strcpy(f->path, "/tmp/cvisor-ser-XXXXXX");
	close(mkstemp(f->path));
	d = make(f, &hd, 1, NULL);
	wr(d, MCR, 0x10);
	assert_int_equal(rd(d, MSR), 0x0b);       /* all low, deltas */
	wr(d, MCR, 0x11);                         /* DTR -> DSR */
	assert_int_equal(rd(d, MSR), 0x22);
	wr(d, MCR, 0x12);                         /* RTS -> CTS */
	assert_int_equal(rd(d, MSR), 0x13);
	wr(d, MCR, 0x14);                         /* OUT1 -> RI */
	assert_int_equal(rd(d, MSR) & 0xf0, 0x40);
	wr(d, MCR, 0x18);                         /* RI falls: TERI */
	assert_int_equal(rd(d, MSR), 0x8c);       /* DCD + TERI + DDCD */
	wr(d, RBR, 'L');                          /* to ourselves */
	assert_int_equal(rd(d, RBR), 'L');
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 0);          /* nothing to the host */
	wr(d, MCR, 0x00);                         /* back to "connected" */
	assert_int_equal(rd(d, MSR), 0xb3);     /* DCD was already up */
}

static void test_irq_transitions(void **state)
{
	struct fake *f = *state;
	struct device *d = f->dev;
	uint8_t b = 'z';

	wr(d, IER, 0x01);
	assert_int_equal(f->changes, 0);
	ser8250_receive(d, &b, 1);
	assert_int_equal(f->level, 1);
	assert_int_equal(f->changes, 1);
	rd(d, LSR);                     /* no change: no call */
	assert_int_equal(f->changes, 1);
	rd(d, RBR);
	assert_int_equal(f->level, 0);
	assert_int_equal(f->changes, 2);
	/* OUT2 does not gate the line (as QEMU). */
	wr(d, MCR, 0x00);
	ser8250_receive(d, &b, 1);
	assert_int_equal(f->level, 1);
	d->ops->reset(d);
	assert_int_equal(f->level, 0);
	assert_int_equal(rd(d, IER), 0);
}

static void pump(struct event_loop *l)
{
	for (int i = 0; i < 4; i++)
		event_loop_poll(l, 20);
}

/* Host input through a FIFO, the event loop and the chardev: what does not
 * fit waits on the host until the guest reads. */
static void test_host_flow_control(void **state)
{
	struct fake *f = *state;
	struct cfg_hostdev hd = { .dir = HOSTDEV_IN, .path = f->path };
	struct event_loop *l = event_loop_new();
	struct device *d;
	int w;

	f->dev->ops->free(f->dev);
	snprintf(f->path, sizeof(f->path), "/tmp/cvisor-ser-%d", getpid());
	unlink(f->path);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	w = open(f->path, O_RDWR);
	assert_true(w >= 0);
	d = make(f, &hd, 1, l);
	wr(d, FCR, 0x01);
	assert_int_equal(write(w, "ABCDEFGHIJKLMNOPQRST", 20), 20);
	pump(l);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(d, RBR), 'A' + i);
	assert_int_equal(rd(d, LSR) & 0x01, 0);
	pump(l);                        /* rx_ready: the rest comes in */
	for (int i = 16; i < 20; i++)
		assert_int_equal(rd(d, RBR), 'A' + i);
	assert_int_equal(rd(d, LSR) & 0x03, 0);
	d->ops->free(d);
	f->dev = NULL;
	event_loop_free(l);
	close(w);
	make(f, NULL, 0, NULL);         /* for teardown */
}

/* At a mem loc with `regshift 2` (an MMIO 16550, the tree's reg-shift
 * 2 / reg-io-width 4): an MMIO region of 32 bytes, register n at 4n
 * reached by a 32-bit access, the rest of each word inert. */
static void test_mmio_regshift(void **state)
{
	struct fake *f = *state;
	struct vdev_config vc = { .type = &ser8250_type, .nr_locs = 1,
				  .nr_intrs = 1, .nr_opts = 1 };
	struct device *d;

	f->dev->ops->free(f->dev);
	vc.locs[0] = (struct cfg_loc){ .space = LOC_MEM, .addr = 0x1c0a0000 };
	vc.intrs[0].line = 4;
	vc.opts[0] = (struct cfg_devopt){ .key = "regshift", .num = 2 };
	assert_int_equal(ser8250_reg_shift(&vc), 2);
	assert_int_equal(ser8250_type.create(&vc, &f->env, &f->dev), 0);
	d = f->dev;
	assert_int_equal(d->regions[0].space, BUS_MMIO);
	assert_int_equal(d->regions[0].base, 0x1c0a0000);
	assert_int_equal(d->regions[0].len, 32);
	d->ops->write(d, 0, 4 * SCR, 4, 0xa5);
	assert_int_equal(d->ops->read(d, 0, 4 * SCR, 4), 0xa5);
	assert_int_equal(rd(d, SCR), 0);            /* byte 7 is inert */
	d->ops->write(d, 0, 4 * SCR + 1, 1, 0x11);
	assert_int_equal(d->ops->read(d, 0, 4 * SCR, 4), 0xa5);
	/* LSR: THR empty, transmitter empty, as after reset */
	assert_int_equal(d->ops->read(d, 0, 4 * LSR, 4), 0x60);
	/* an io loc has no shift */
	vc.locs[0].space = LOC_IO;
	assert_int_equal(ser8250_reg_shift(&vc), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_reset_state),
		T(test_dlab_divisor),
		T(test_register_round_trip),
		T(test_thr_to_backend),
		T(test_thre_interrupt),
		T(test_iir_priorities),
		T(test_rx_trigger_levels),
		T(test_rx_fifo_full),
		T(test_loopback_overrun),
		T(test_fifo_reset),
		T(test_loopback_msr),
		T(test_irq_transitions),
		T(test_host_flow_control),
		T(test_mmio_regshift),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
