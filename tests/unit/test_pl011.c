/* PL011 model: IDs, flags, FIFOs, interrupts, loopback, access sizes. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "stall_log.h"
#include "devices/pl011.h"
#include "devices/registry.h"

enum {
	DR = 0x000, RSR = 0x004, FR = 0x018, IBRD = 0x024, FBRD = 0x028,
	LCR_H = 0x02c, CR = 0x030, IFLS = 0x034, IMSC = 0x038, RIS = 0x03c,
	MIS = 0x040, ICR = 0x044, DMACR = 0x048,
};
#define FR_RXFE 0x10
#define FR_TXFF 0x20
#define FR_RXFF 0x40
#define FR_TXFE 0x80
#define INT_RX 0x10
#define INT_TX 0x20
#define INT_RT 0x40
#define INT_OE 0x400
#define CR_ON  0x301           /* UARTEN | TXE | RXE */

struct fake {
	int level, changes;
	struct dev_env env;
	struct device *dev;
};

static void fake_irq(void *ctx, uint32_t gsi, int level)
{
	struct fake *f = ctx;

	assert_int_equal(gsi, 5);
	f->level = level;
	f->changes++;
}

static uint32_t rd(struct device *d, unsigned off)
{
	return d->ops->read(d, 0, off, 4);
}

static void wr(struct device *d, unsigned off, uint32_t v)
{
	d->ops->write(d, 0, off, 4, v);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct vdev_config vc = { .type = &pl011_type, .nr_locs = 1,
				  .nr_intrs = 1 };

	vc.locs[0].addr = 0xfe001000;
	vc.intrs[0].line = 5;
	f->env = (struct dev_env){ .irq_set = fake_irq, .ctx = f };
	assert_int_equal(pl011_type.create(&vc, &f->env, &f->dev), 0);
	assert_int_equal(f->dev->regions[0].base, 0xfe001000);
	assert_int_equal(f->dev->regions[0].len, 0x1000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	f->dev->ops->free(f->dev);
	free(f);
	return 0;
}

static void test_id_registers(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;
	static const uint8_t id[8] = { 0x11, 0x10, 0x14, 0x00,
				       0x0d, 0xf0, 0x05, 0xb1 };

	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(rd(d, 0xfe0 + 4 * i), id[i]);
}

static void test_reset_values(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;

	assert_int_equal(rd(d, CR), 0x300);
	assert_int_equal(rd(d, IFLS), 0x12);
	assert_int_equal(rd(d, FR) & 0xf8, FR_RXFE | FR_TXFE);
	assert_int_equal(rd(d, RIS), 0);
	assert_int_equal(rd(d, 0x100), 0);        /* unknown: 0 */
	wr(d, IBRD, 0x1ffff);
	wr(d, FBRD, 0xff);
	assert_int_equal(rd(d, IBRD), 0xffff);
	assert_int_equal(rd(d, FBRD), 0x3f);
	wr(d, DMACR, 0xff);
	assert_int_equal(rd(d, DMACR), 0x7);
}

static void test_fr_fifo_flags(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;
	uint8_t data[20] = "abcdefghijklmnopqrst";

	/* Receiver disabled (UARTEN clear): nothing is taken. */
	assert_int_equal(pl011_receive(d, data, 4), 0);
	wr(d, CR, CR_ON);
	/* FIFO disabled: 1 deep, full after one character. */
	assert_int_equal(pl011_receive(d, data, 20), 1);
	assert_int_equal(rd(d, FR) & (FR_RXFE | FR_RXFF), FR_RXFF);
	assert_int_equal(rd(d, DR), 'a');
	assert_int_equal(rd(d, FR) & (FR_RXFE | FR_RXFF), FR_RXFE);
	/* FIFO enabled: 16 deep. */
	wr(d, LCR_H, 0x70);
	assert_int_equal(pl011_receive(d, data, 20), 16);
	assert_int_equal(rd(d, FR) & (FR_RXFE | FR_RXFF | FR_TXFF),
			 FR_RXFF);
	for (int i = 0; i < 15; i++)
		assert_int_equal(rd(d, DR), 'a' + i);
	assert_int_equal(rd(d, FR) & (FR_RXFE | FR_RXFF), 0);
	assert_int_equal(rd(d, DR), 'p');
	assert_int_equal(rd(d, FR) & FR_RXFE, FR_RXFE);
	assert_int_equal(rd(d, FR) & FR_TXFE, FR_TXFE);
}

static void test_rx_interrupts(void **state)
{
	struct fake *f = *state;
	struct device *d = f->dev;
	uint8_t data[8] = "01234567";

	wr(d, CR, CR_ON);
	wr(d, LCR_H, 0x10);             /* FIFO on; IFLS 1/2 = 8 */
	wr(d, IMSC, INT_RX | INT_RT);
	assert_int_equal(pl011_receive(d, data, 3), 3);
	assert_int_equal(rd(d, RIS) & (INT_RX | INT_RT), INT_RT);
	assert_int_equal(f->level, 1);
	assert_int_equal(pl011_receive(d, data, 5), 5);
	assert_int_equal(rd(d, RIS) & (INT_RX | INT_RT), INT_RX);
	assert_int_equal(rd(d, MIS), INT_RX);
	rd(d, DR);                      /* below the trigger again */
	assert_int_equal(rd(d, RIS) & (INT_RX | INT_RT), INT_RT);
	wr(d, ICR, INT_RT);             /* write-1-to-clear */
	assert_int_equal(rd(d, RIS) & INT_RT, 0);
	assert_int_equal(f->level, 0);
	wr(d, IMSC, 0);
	for (int i = 0; i < 7; i++)
		rd(d, DR);
	assert_int_equal(rd(d, RIS) & (INT_RX | INT_RT), 0);
}

static void test_tx_interrupt_and_mask(void **state)
{
	struct fake *f = *state;
	struct device *d = f->dev;

	wr(d, CR, CR_ON);
	assert_int_equal(rd(d, RIS) & INT_TX, 0);  /* not until a write */
	wr(d, DR, 'x');
	assert_int_equal(rd(d, RIS) & INT_TX, INT_TX);
	assert_int_equal(f->level, 0);             /* masked */
	assert_int_equal(rd(d, MIS), 0);
	wr(d, IMSC, INT_TX);
	assert_int_equal(f->level, 1);
	assert_int_equal(rd(d, MIS), INT_TX);
	wr(d, ICR, 0x7ff);
	assert_int_equal(f->level, 0);
	assert_int_equal(rd(d, RIS), 0);
	wr(d, DR, 'y');
	assert_int_equal(f->level, 1);
	wr(d, IMSC, 0);
	assert_int_equal(f->level, 0);
}

static void test_loopback(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;
	uint8_t b = 'h';

	wr(d, CR, CR_ON | 0x80);        /* LBE */
	assert_int_equal(pl011_receive(d, &b, 1), 1);  /* discarded */
	assert_int_equal(rd(d, FR) & FR_RXFE, FR_RXFE);
	wr(d, DR, 'L');
	assert_int_equal(rd(d, FR) & FR_RXFE, 0);
	assert_int_equal(rd(d, DR), 'L');
	/* 1-deep: the second character overruns. */
	wr(d, DR, '1');
	wr(d, DR, '2');
	assert_int_equal(rd(d, RIS) & INT_OE, INT_OE);
	assert_int_equal(rd(d, DR), '1' | 0x800);      /* OE flagged */
	assert_int_equal(rd(d, RSR), 0x8);
	wr(d, RSR, 0);
	assert_int_equal(rd(d, RSR), 0);
	/* Modem lines: RTS -> CTS, DTR -> DSR, Out1 -> DCD, Out2 -> RI. */
	wr(d, ICR, 0x7ff);
	wr(d, CR, CR_ON | 0x80 | 0x800);
	assert_int_equal(rd(d, FR) & 0x107, 0x001);
	assert_int_equal(rd(d, RIS) & 0x2, 0x2);       /* CTSMIS */
	wr(d, CR, CR_ON | 0x80 | 0x400 | 0x1000 | 0x2000);
	assert_int_equal(rd(d, FR) & 0x107, 0x106);
	wr(d, CR, CR_ON);               /* out of loopback: connected */
	assert_int_equal(rd(d, FR) & 0x107, 0x007);
}

static void test_fifo_enable_flushes(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;
	uint8_t data[4] = "wxyz";

	wr(d, CR, CR_ON);
	wr(d, LCR_H, 0x10);
	assert_int_equal(pl011_receive(d, data, 4), 4);
	wr(d, LCR_H, 0x00);
	assert_int_equal(rd(d, FR) & FR_RXFE, FR_RXFE);
	assert_int_equal(rd(d, RIS) & (INT_RX | INT_RT), 0);
	assert_int_equal(rd(d, LCR_H), 0);
}

static void test_access_sizes(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;

	d->ops->write(d, 0, IBRD, 2, 0x1234);
	assert_int_equal(d->ops->read(d, 0, IBRD, 4), 0x1234);
	assert_int_equal(d->ops->read(d, 0, IBRD, 1), 0x34);
	d->ops->write(d, 0, IBRD, 1, 0x56);       /* zero-extended */
	assert_int_equal(rd(d, IBRD), 0x56);
	d->ops->write(d, 0, IBRD + 1, 1, 0x77);   /* unaligned: ignored */
	assert_int_equal(rd(d, IBRD), 0x56);
	assert_int_equal(d->ops->read(d, 0, 0xfe1, 1), 0);
	assert_int_equal(d->ops->read(d, 0, 0xfe0, 1), 0x11);
}

static void test_reset(void **state)
{
	struct fake *f = *state;
	struct device *d = f->dev;

	wr(d, CR, CR_ON | 0x80);
	wr(d, IMSC, INT_TX);
	wr(d, DR, 'q');
	assert_int_equal(f->level, 1);
	d->ops->reset(d);
	assert_int_equal(f->level, 0);
	assert_int_equal(rd(d, CR), 0x300);
	assert_int_equal(rd(d, FR) & FR_RXFE, FR_RXFE);
	assert_int_equal(rd(d, RIS), 0);
}

static void *unknown_write(void *arg)
{
	wr(arg, 0x100, 1);
	return NULL;
}

static void *unknown_read(void *arg)
{
	rd(arg, 0x104);
	return NULL;
}

static void *receive(void *arg)
{
	pl011_receive(arg, (const uint8_t *)"z", 1);
	return NULL;
}

/* A guest's access to an unknown register is logged, and stderr can
 * stall: the log must not be written under the lock that the event
 * loop's receive takes. */
static void test_log_outside_lock(void **state)
{
	struct device *d = ((struct fake *)*state)->dev;
	void *(*const access[2])(void *) = { unknown_write, unknown_read };

	for (unsigned i = 0; i < 2; i++) {
		struct stall_log s;
		bool received;

		log_stall(&s);
		received = log_stall_race(&s, access[i], receive, d);
		log_unstall(&s, received);
		assert_true(received);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_id_registers),
		T(test_reset_values),
		T(test_fr_fifo_flags),
		T(test_rx_interrupts),
		T(test_tx_interrupt_and_mask),
		T(test_loopback),
		T(test_fifo_enable_flushes),
		T(test_access_sizes),
		T(test_reset),
		T(test_log_outside_lock),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
