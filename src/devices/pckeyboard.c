/* i8042 keyboard controller (`vdev pckeyboard`): data port at loc (0x60),
 * status/command at loc + 4 (0x64).
 *
 * Enough for guests to probe it quickly and to reboot through it: the
 * controller commands, ACKs for keyboard commands, and the reset line
 * (command 0xFE, pulse commands 0xF0-0xFF, or output port bit 0 cleared
 * through 0xD1). There is no mouse and no key input from the host; see
 * docs/devices.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/util.h"
#include "devices/registry.h"

#define STS_OBF      0x01
#define STS_SYS      0x04
#define STS_CMD      0x08   /* last write went to the command port */
#define STS_UNLOCKED 0x10

#define CCB_KBD_INT  0x01
#define CCB_SYS      0x04
#define CCB_KBD_DIS  0x10
#define CCB_AUX_DIS  0x20
#define CCB_XLATE    0x40
/* As firmware leaves it: translation, keyboard interrupt, POST passed;
 * the (absent) aux port disabled. */
#define CCB_RESET    (CCB_XLATE | CCB_AUX_DIS | CCB_SYS | CCB_KBD_INT)

#define OUT_RESET    0x01   /* active low: 0 holds the CPU in reset */
#define OUT_A20      0x02
#define OUT_RESET_VAL (OUT_RESET | OUT_A20)

#define KBD_ACK      0xfa
#define OBUF_SIZE    8

/* What the next data-port write means. */
enum pending {
	PEND_NONE,          /* a keyboard command */
	PEND_CCB,           /* 0x60: write command byte */
	PEND_OUTPORT,       /* 0xD1: write output port */
	PEND_KBD_OBUF,      /* 0xD2: as if sent by the keyboard */
	PEND_AUX_OBUF,      /* 0xD3: as if sent by the mouse */
	PEND_AUX,           /* 0xD4: to the mouse */
	PEND_KBD_ARG,       /* keyboard command parameter (LEDs, rate...) */
	PEND_KBD_SCANSET,   /* 0xF0 parameter: 0 asks for the current set */
};

struct i8042 {
	struct device dev;
	pthread_mutex_t lock;
	struct dev_env env;
	bool has_irq;
	uint32_t gsi;
	bool irq_level;

	uint8_t status, ccb, outport;
	enum pending pending;
	uint8_t obuf[OBUF_SIZE];
	unsigned ob_head, ob_count;
	uint8_t last;           /* read again when the buffer is empty */
};

static struct i8042 *to_kbc(struct device *d)
{
	return container_of(d, struct i8042, dev);
}

static void update_irq(struct i8042 *k)
{
	bool level = k->ob_count && (k->ccb & CCB_KBD_INT);

	if (!k->has_irq || level == k->irq_level)
		return;
	k->irq_level = level;
	if (k->env.irq_set)
		k->env.irq_set(k->env.ctx, k->gsi, level);
}

static void queue(struct i8042 *k, uint8_t b)
{
	if (k->ob_count == OBUF_SIZE)
		return;         /* a guest that never reads loses replies */
	k->obuf[(k->ob_head + k->ob_count++) % OBUF_SIZE] = b;
}

static uint8_t dequeue(struct i8042 *k)
{
	if (k->ob_count) {
		k->last = k->obuf[k->ob_head];
		k->ob_head = (k->ob_head + 1) % OBUF_SIZE;
		k->ob_count--;
	}
	return k->last;
}

static void request_reset(struct i8042 *k)
{
	if (k->env.power)
		k->env.power(k->env.ctx, POWER_RESET, 0);
}

static void write_outport(struct i8042 *k, uint8_t v)
{
	k->outport = v;
	/* A20 (bit 1) is not emulated: KVM guest memory never wraps. */
	if (!(v & OUT_RESET))
		request_reset(k);
}

/* Commands to the keyboard itself: acknowledged, as an MF2 keyboard. */
static void kbd_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0xff:                      /* reset: ACK, then BAT passed */
		queue(k, KBD_ACK);
		queue(k, 0xaa);
		break;
	case 0xf2:                      /* identify: MF2, translated */
		queue(k, KBD_ACK);
		queue(k, 0xab);
		queue(k, 0x83);
		break;
	case 0xee:                      /* echo */
		queue(k, 0xee);
		break;
	case 0xed: case 0xf3:           /* LEDs, typematic: one argument */
		queue(k, KBD_ACK);
		k->pending = PEND_KBD_ARG;
		break;
	case 0xf0:                      /* scan code set */
		queue(k, KBD_ACK);
		k->pending = PEND_KBD_SCANSET;
		break;
	default:
		queue(k, KBD_ACK);
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	enum pending p = k->pending;

	k->pending = PEND_NONE;
	switch (p) {
	case PEND_CCB:
		k->ccb = v;
		break;
	case PEND_OUTPORT:
		write_outport(k, v);
		break;
	case PEND_KBD_OBUF:
		queue(k, v);
		break;
	case PEND_AUX_OBUF:
		/* No mouse: the byte comes back on the keyboard channel,
		 * which a prober takes as "aux loop failed". */
		queue(k, v);
		break;
	case PEND_AUX:
		break;                  /* no mouse to hear it */
	case PEND_KBD_ARG:
		queue(k, KBD_ACK);
		break;
	case PEND_KBD_SCANSET:
		queue(k, KBD_ACK);
		if (v == 0)
			queue(k, 0x02);
		break;
	case PEND_NONE:
		kbd_command(k, v);
		break;
	}
}

/* Commands that take a data byte next. */
static bool command_with_arg(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x60: k->pending = PEND_CCB;       return true;
	case 0xd1: k->pending = PEND_OUTPORT;   return true;
	case 0xd2: k->pending = PEND_KBD_OBUF;  return true;
	case 0xd3: k->pending = PEND_AUX_OBUF;  return true;
	case 0xd4: k->pending = PEND_AUX;       return true;
	}
	return false;
}

static void command_write(struct i8042 *k, uint8_t cmd)
{
	k->pending = PEND_NONE;
	if (command_with_arg(k, cmd))
		return;
	if (cmd >= 0xf0) {
		/* Pulse output lines whose bit is 0; bit 0 is reset. */
		if (!(cmd & 0x01))
			request_reset(k);
		return;
	}
	switch (cmd) {
	case 0x20: queue(k, k->ccb);            break;
	case 0xa7: k->ccb |= CCB_AUX_DIS;       break;
	case 0xa8: k->ccb &= ~CCB_AUX_DIS;      break;
	/* Aux interface test: an empty port's clock line floats high. */
	case 0xa9: queue(k, 0x02);              break;
	case 0xaa: queue(k, 0x55);              break;   /* self test OK */
	case 0xab: queue(k, 0x00);              break;   /* kbd iface OK */
	case 0xad: k->ccb |= CCB_KBD_DIS;       break;
	case 0xae: k->ccb &= ~CCB_KBD_DIS;      break;
	case 0xc0: queue(k, 0x00);              break;   /* input port */
	case 0xd0: queue(k, k->outport);        break;
	default:                                break;
	}
}

static uint8_t read_status(const struct i8042 *k)
{
	/* Input is processed at once, so IBF is never set. */
	return k->status | (k->ob_count ? STS_OBF : 0) |
	       (k->ccb & CCB_SYS ? STS_SYS : 0);
}

static uint64_t kbc_read(struct device *dev, unsigned region, uint64_t off,
			 unsigned size)
{
	struct i8042 *k = to_kbc(dev);
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	v = region == 0 ? dequeue(k) : read_status(k);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	return v;
}

static void kbc_write(struct device *dev, unsigned region, uint64_t off,
		      unsigned size, uint64_t value)
{
	struct i8042 *k = to_kbc(dev);

	pthread_mutex_lock(&k->lock);
	if (region == 0) {
		k->status &= ~STS_CMD;
		data_write(k, value);
	} else {
		k->status |= STS_CMD;
		command_write(k, value);
	}
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

static void kbc_reset_locked(struct i8042 *k)
{
	k->status = STS_UNLOCKED;
	k->ccb = CCB_RESET;
	k->outport = OUT_RESET_VAL;
	k->pending = PEND_NONE;
	k->ob_head = k->ob_count = 0;
	k->last = 0;
	update_irq(k);
}

static void kbc_reset(struct device *dev)
{
	struct i8042 *k = to_kbc(dev);

	pthread_mutex_lock(&k->lock);
	kbc_reset_locked(k);
	pthread_mutex_unlock(&k->lock);
}

static void kbc_free(struct device *dev)
{
	struct i8042 *k = to_kbc(dev);

	pthread_mutex_destroy(&k->lock);
	free(k);
}

static const struct device_ops i8042_ops = {
	.read = kbc_read,
	.write = kbc_write,
	.reset = kbc_reset,
	.free = kbc_free,
};

static bool pckeyboard_default_loc(unsigned index, uint64_t *addr)
{
	*addr = 0x60;
	return index == 0;
}

/* IRQ1 as on a PC: Linux's i8042 driver fails its probe without one. */
static bool pckeyboard_default_intr(unsigned index, uint32_t *line)
{
	*line = 1;
	return index == 0;
}

static int pckeyboard_create(const struct vdev_config *vc,
			     const struct dev_env *env, struct device **out)
{
	struct i8042 *k = xcalloc(1, sizeof(*k));
	uint64_t base = vc->locs[0].addr;

	pthread_mutex_init(&k->lock, NULL);
	k->env = *env;
	k->has_irq = vc->nr_intrs > 0;
	k->gsi = k->has_irq ? vc->intrs[0].line : 0;
	k->dev.ops = &i8042_ops;
	k->dev.name = "pckeyboard";
	device_add_region(&k->dev, BUS_PIO, base, 1);       /* data */
	device_add_region(&k->dev, BUS_PIO, base + 4, 1);   /* status/cmd */
	kbc_reset_locked(k);
	*out = &k->dev;
	return 0;
}

/* The i8042 decodes 0x60 and 0x64; loc names the data port. */
const struct vdev_type pckeyboard_type = {
	.name = "pckeyboard",
	.aliases = (const char *const[]){ "i8042", NULL },
	.class = VDEV_PLATFORM,
	.supported = true,
	.max_instances = 1,
	.loc_space = LOC_IO,
	.region_len = 1,
	.default_loc = pckeyboard_default_loc,
	.default_intr = pckeyboard_default_intr,
	.create = pckeyboard_create,
};
