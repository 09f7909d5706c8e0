/* debug-exit, i8042, ports 0x80 and 0x92, and testdev. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "devices/registry.h"

struct fake {
	int power_calls;
	enum power_request req;
	int status;
	int level;
	struct dev_env env;
};

static void fake_power(void *ctx, enum power_request req, int status)
{
	struct fake *f = ctx;

	f->power_calls++;
	f->req = req;
	f->status = status;
}

static void fake_irq(void *ctx, uint32_t gsi, int level)
{
	struct fake *f = ctx;

	assert_int_equal(gsi, 1);
	f->level = level;
}

static struct device *make(const struct vdev_type *t, struct fake *f,
			   uint64_t addr, const char *mode, int irq)
{
	struct vdev_config vc = { .type = t, .nr_locs = 1 };
	struct device *d = NULL;

	vc.locs[0].addr = addr;
	if (mode) {
		vc.opts[0] = (struct cfg_devopt){ .key = "mode",
						  .value = (char *)mode };
		vc.nr_opts = 1;
	}
	if (irq >= 0) {
		vc.intrs[0].line = irq;
		vc.nr_intrs = 1;
	}
	memset(f, 0, sizeof(*f));
	f->env = (struct dev_env){ .power = fake_power, .irq_set = fake_irq,
				   .ctx = f };
	assert_int_equal(t->create(&vc, &f->env, &d), 0);
	assert_non_null(d);
	return d;
}

static void test_debug_exit_qemu(void **state)
{
	struct fake f;
	struct device *d = make(&debug_exit_type, &f, 0xf4, NULL, -1);

	assert_int_equal(d->regions[0].base, 0xf4);
	assert_int_equal(d->regions[0].len, 4);
	d->ops->write(d, 0, 0, 1, 0);
	assert_int_equal(f.power_calls, 1);
	assert_int_equal(f.req, POWER_EXIT);
	assert_int_equal(f.status, 1);
	d->ops->write(d, 0, 0, 4, 0x21);
	assert_int_equal(f.status, 0x43);
	d->ops->write(d, 0, 2, 2, 0x80);           /* masked to 8 bits */
	assert_int_equal(f.status, 0x01);
	assert_int_equal(d->ops->read(d, 0, 0, 1) & 0xff, 0xff);
	d->ops->free(d);
}

static void test_debug_exit_plain(void **state)
{
	struct fake f;
	struct device *d = make(&debug_exit_type, &f, 0x501, "plain", -1);

	assert_int_equal(d->regions[0].base, 0x501);
	d->ops->write(d, 0, 0, 1, 0x21);
	assert_int_equal(f.req, POWER_EXIT);
	assert_int_equal(f.status, 0x21);
	d->ops->write(d, 0, 0, 4, 0x1ff);
	assert_int_equal(f.status, 0xff);
	d->ops->free(d);
}

/* i8042: region 0 is the data port, region 1 status/command. */
static uint8_t kbd_data(struct device *d)
{
	return d->ops->read(d, 0, 0, 1);
}

static uint8_t kbd_status(struct device *d)
{
	return d->ops->read(d, 1, 0, 1);
}

static void kbd_cmd(struct device *d, uint8_t c)
{
	d->ops->write(d, 1, 0, 1, c);
}

static void kbd_write(struct device *d, uint8_t v)
{
	d->ops->write(d, 0, 0, 1, v);
}

static void test_i8042_regions_and_selftest(void **state)
{
	struct fake f;
	struct device *d = make(&pckeyboard_type, &f, 0x60, NULL, -1);

	assert_int_equal(d->nr_regions, 2);
	assert_int_equal(d->regions[0].base, 0x60);
	assert_int_equal(d->regions[1].base, 0x64);
	assert_int_equal(kbd_status(d) & 0x03, 0);  /* no OBF, no IBF */
	assert_int_equal(kbd_status(d) & 0x04, 0x04); /* SYS */
	kbd_cmd(d, 0xaa);
	assert_int_equal(kbd_status(d) & 0x01, 0x01);
	assert_int_equal(kbd_data(d), 0x55);
	assert_int_equal(kbd_status(d) & 0x01, 0);
	kbd_cmd(d, 0xab);
	assert_int_equal(kbd_data(d), 0x00);
	kbd_cmd(d, 0xa9);                           /* no mouse */
	assert_int_equal(kbd_data(d), 0x02);
	d->ops->free(d);
}

static void test_i8042_ccb(void **state)
{
	struct fake f;
	struct device *d = make(&pckeyboard_type, &f, 0x60, NULL, 1);

	kbd_cmd(d, 0x20);
	assert_int_equal(kbd_data(d), 0x65);
	kbd_cmd(d, 0x60);
	kbd_write(d, 0x00);                         /* SYS and int off */
	kbd_cmd(d, 0x20);
	assert_int_equal(f.level, 0);               /* KBD_INT is off */
	assert_int_equal(kbd_data(d), 0x00);
	assert_int_equal(kbd_status(d) & 0x04, 0);
	kbd_cmd(d, 0xad);
	kbd_cmd(d, 0xa7);
	kbd_cmd(d, 0x20);
	assert_int_equal(kbd_data(d), 0x30);
	kbd_cmd(d, 0xae);
	kbd_cmd(d, 0xa8);
	kbd_cmd(d, 0x60);
	kbd_write(d, 0x01);                         /* KBD_INT on */
	kbd_cmd(d, 0x20);
	assert_int_equal(f.level, 1);               /* IRQ1 with OBF */
	assert_int_equal(kbd_data(d), 0x01);
	assert_int_equal(f.level, 0);
	d->ops->free(d);
}

static void test_i8042_keyboard_commands(void **state)
{
	struct fake f;
	struct device *d = make(&pckeyboard_type, &f, 0x60, NULL, -1);

	kbd_write(d, 0xff);                         /* reset */
	assert_int_equal(kbd_data(d), 0xfa);
	assert_int_equal(kbd_data(d), 0xaa);
	assert_int_equal(kbd_status(d) & 0x01, 0);
	kbd_write(d, 0xf2);                         /* identify */
	assert_int_equal(kbd_data(d), 0xfa);
	assert_int_equal(kbd_data(d), 0xab);
	assert_int_equal(kbd_data(d), 0x83);
	kbd_write(d, 0xed);                         /* LEDs + argument */
	assert_int_equal(kbd_data(d), 0xfa);
	kbd_write(d, 0x07);
	assert_int_equal(kbd_data(d), 0xfa);
	assert_int_equal(kbd_status(d) & 0x01, 0);
	kbd_write(d, 0xf4);
	assert_int_equal(kbd_data(d), 0xfa);
	kbd_cmd(d, 0xd2);                           /* echo via kbd obuf */
	kbd_write(d, 0x5a);
	assert_int_equal(kbd_data(d), 0x5a);
	assert_int_equal(f.power_calls, 0);
	d->ops->free(d);
}

static void test_i8042_reset_fe(void **state)
{
	struct fake f;
	struct device *d = make(&pckeyboard_type, &f, 0x60, NULL, -1);

	kbd_cmd(d, 0xff);                           /* pulse nothing */
	assert_int_equal(f.power_calls, 0);
	kbd_cmd(d, 0xfe);
	assert_int_equal(f.power_calls, 1);
	assert_int_equal(f.req, POWER_RESET);
	kbd_cmd(d, 0xf0);                           /* pulses bit 0 too */
	assert_int_equal(f.power_calls, 2);
	d->ops->free(d);
}

static void test_i8042_reset_outport(void **state)
{
	struct fake f;
	struct device *d = make(&pckeyboard_type, &f, 0x60, NULL, -1);

	kbd_cmd(d, 0xd0);
	assert_int_equal(kbd_data(d) & 0x03, 0x03);
	kbd_cmd(d, 0xd1);
	kbd_write(d, 0x03);                         /* reset line high */
	assert_int_equal(f.power_calls, 0);
	kbd_cmd(d, 0xd1);
	kbd_write(d, 0x02);                         /* bit 0 clear */
	assert_int_equal(f.power_calls, 1);
	assert_int_equal(f.req, POWER_RESET);
	d->ops->reset(d);
	kbd_cmd(d, 0xd0);
	assert_int_equal(kbd_data(d) & 0x01, 0x01);
	d->ops->free(d);
}

static void test_port80(void **state)
{
	struct device *d = port80_create();

	assert_non_null(d);
	assert_int_equal(d->nr_regions, 1);
	assert_int_equal(d->regions[0].space, BUS_PIO);
	assert_int_equal(d->regions[0].base, 0x80);
	assert_int_equal(d->regions[0].len, 1);
	d->ops->write(d, 0, 0, 1, 0x42);
	assert_int_equal(d->ops->read(d, 0, 0, 1), 0xff);
	d->ops->free(d);
}

/* Port 0x92: A20 reads as written (on from reset), bit 0 set from
 * clear resets the machine, once per edge. */
static void test_port92(void **state)
{
	struct fake f = { 0 };
	struct device *d;

	f.env = (struct dev_env){ .power = fake_power, .ctx = &f };
	d = port92_create(&f.env);
	assert_int_equal(d->regions[0].space, BUS_PIO);
	assert_int_equal(d->regions[0].base, 0x92);
	assert_int_equal(d->regions[0].len, 1);
	assert_int_equal(d->ops->read(d, 0, 0, 1), 0x02);
	d->ops->write(d, 0, 0, 1, 0x00);            /* A20 off: kept */
	assert_int_equal(d->ops->read(d, 0, 0, 1), 0x00);
	assert_int_equal(f.power_calls, 0);
	d->ops->write(d, 0, 0, 1, 0x03);
	assert_int_equal(f.power_calls, 1);
	assert_int_equal(f.req, POWER_RESET);
	d->ops->write(d, 0, 0, 1, 0x03);            /* no new edge */
	assert_int_equal(f.power_calls, 1);
	d->ops->reset(d);
	assert_int_equal(d->ops->read(d, 0, 0, 1), 0x02);
	d->ops->write(d, 0, 0, 1, 0x03);
	assert_int_equal(f.power_calls, 2);
	d->ops->free(d);
}

static void test_testdev(void **state)
{
	struct fake f;
	struct device *d = make(&testdev_type, &f, 0xfeb00000, NULL, -1);

	assert_int_equal(d->regions[0].space, BUS_MMIO);
	assert_int_equal(d->regions[0].len, 0x1000);
	assert_int_equal(d->ops->read(d, 0, 8, 4), 0x74736574);
	assert_int_equal(d->ops->read(d, 0, 0, 4), 0);
	for (int i = 0; i < 5; i++)
		d->ops->write(d, 0, 0, 4, 0);
	d->ops->write(d, 0, 4, 4, 0);               /* not the counter */
	assert_int_equal(d->ops->read(d, 0, 0, 4), 5);
	d->ops->reset(d);
	assert_int_equal(d->ops->read(d, 0, 0, 4), 0);
	d->ops->free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debug_exit_qemu),
		cmocka_unit_test(test_debug_exit_plain),
		cmocka_unit_test(test_i8042_regions_and_selftest),
		cmocka_unit_test(test_i8042_ccb),
		cmocka_unit_test(test_i8042_keyboard_commands),
		cmocka_unit_test(test_i8042_reset_fe),
		cmocka_unit_test(test_i8042_reset_outport),
		cmocka_unit_test(test_port80),
		cmocka_unit_test(test_port92),
		cmocka_unit_test(test_testdev),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
