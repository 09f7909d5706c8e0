/* virtio-mmio registers through the bus: identification, feature pages,
 * the status handshake, queue set-up, a request from QueueNotify to the
 * interrupt line and back, config space, reset, and accesses the spec
 * does not allow. No event loop here: kicks run on the caller's thread
 * (test_virtio_mmio_kick.c covers the eventfd paths). */
#include "test_virtio_mmio.h"

static int setup(void **state)
{
	struct fix *f = fix_new();

	fix_place(f);
	*state = f;
	return 0;
}

static void test_identification(void **state)
{
	struct fix *f = *state;

	assert_int_equal(r32(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(r32(f, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(r32(f, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	assert_int_equal(r32(f, VIRTIO_MMIO_VENDOR_ID), 0x554d4551);
	assert_int_equal(f->dev->regions[0].base, MMIO_BASE);
	assert_int_equal(f->dev->regions[0].len, 0x200);
	assert_string_equal(f->dev->name, "toy");
	/* the line starts low and is not touched until something happens */
	assert_int_equal(f->irq_calls, 0);
}

static void test_feature_pages(void **state)
{
	struct fix *f = *state;

	w32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_DEVICE_FEATURES),
			 (1u << 3) | (1u << VIRTIO_F_RING_INDIRECT_DESC) |
			 (1u << VIRTIO_F_RING_EVENT_IDX));
	w32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(r32(f, VIRTIO_MMIO_DEVICE_FEATURES), 1);
	w32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(r32(f, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	w32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	assert_int_equal(r32(f, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	/* driver pages land in the right half; other pages are dropped */
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES, 1u << 3);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	assert_int_equal(virtio_dev_driver_features(&f->toy->vdev, 0), 1u << 3);
	assert_int_equal(virtio_dev_driver_features(&f->toy->vdev, 1), 1);
	/* the selectors are write-only */
	assert_int_equal(r32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL), 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL), 0);
}

static void test_status_handshake(void **state)
{
	struct fix *f = *state;

	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), 0);
	w32(f, VIRTIO_MMIO_STATUS, S_ACK);
	w32(f, VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
	/* FEATURES_OK without VERSION_1 does not stick */
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES, 1u << 3);
	w32(f, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
	/* nor does DRIVER_OK without FEATURES_OK */
	w32(f, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_DOK);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
	/* with VERSION_1 it does */
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	w32(f, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	/* features are frozen now */
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	assert_true(virtio_dev_has_feature(&f->toy->vdev, 3));
	w32(f, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_true(virtio_dev_running(&f->toy->vdev));
	/* bits above the low byte are not status */
	w32(f, VIRTIO_MMIO_STATUS, 0x100 | S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS),
			 S_ACK | S_DRV | S_FOK | S_DOK);
}

static void test_queue_registers(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy->vdev;

	w32(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	w32(f, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	/* 64-bit addresses in two halves, either order */
	w32(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x12);
	w32(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x34567000);
	w32(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x89abc000);
	w32(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0xfedc);
	w32(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0xffffffff);
	w32(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0xffffffff);
	w32(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x1000);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_DESC),
			 0x1234567000ULL);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_AVAIL),
			 0xfedc89abc000ULL);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_USED),
			 0xffffffff00001000ULL);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_DESC_LOW), 0x34567000);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_DESC_HIGH), 0x12);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH), 0xffffffff);
	/* queue 0 was not touched */
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_DESC), 0);
	/* QueueNum goes to the selected queue; READY before FEATURES_OK
	 * is refused */
	w32(f, VIRTIO_MMIO_QUEUE_NUM, 32);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_SIZE), 32);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_NUM), 0);  /* write-only */
	drv_negotiate(f);
	drv_queue(f, 1, 16);
	/* frozen while ready */
	w32(f, VIRTIO_MMIO_QUEUE_NUM, 8);
	w32(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_SIZE), 16);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_DESC_LOW), RING_DESC);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	/* a bad ring stays not ready and the device needs a reset */
	w32(f, VIRTIO_MMIO_QUEUE_NUM, 17);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(r32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_request_and_interrupt(void **state)
{
	struct fix *f = *state;

	drv_bring_up(f);
	drv_post(f, 40);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->toy->kicks, 1);
	assert_int_equal(get_used_idx(&f->vm), 1);
	assert_int_equal(get_used(&f->vm, 0).id, 0);
	assert_int_equal(get_used(&f->vm, 0).len, 40);
	assert_int_equal(r32(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE);
	assert_int_equal(f->level, 1);
	assert_int_equal(f->irq_calls, 1);
	/* a second completion while the line is high: no new edge needed */
	drv_post(f, 8);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(get_used_idx(&f->vm), 2);
	assert_int_equal(f->irq_calls, 1);
	/* acking a bit that is not set changes nothing */
	w32(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
	assert_int_equal(f->level, 1);
	w32(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	assert_int_equal(r32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(f->level, 0);
	assert_int_equal(f->irq_calls, 2);
	/* InterruptACK is write-only */
	assert_int_equal(r32(f, VIRTIO_MMIO_INTERRUPT_ACK), 0);
	/* kicks of other queues do not reach queue 0 */
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	assert_int_equal(f->toy->kicks, 2);
}

static void test_config_space(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy->vdev;
	uint8_t nb[2] = { 0xaa, 0xbb };

	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG, 1), 0x10);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 2, 2), 0x1312);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 8, 4), 0x1b1a1918);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 4, 8),
			 0x1b1a191817161514ULL);
	/* past the device's config, up to the end of the region: 0 */
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 12, 1), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 10, 4), 0);
	assert_int_equal(rd(f, 0x1fc, 4), 0);
	/* writes reach the device (the toy accepts them) */
	wr(f, VIRTIO_MMIO_CONFIG + 4, 2, 0xbeef);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG + 4, 2), 0xbeef);
	/* a device change bumps the generation; once the driver is up it
	 * also raises a configuration interrupt */
	assert_int_equal(r32(f, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	virtio_dev_config_update(d, 0, nb, 2);
	assert_int_equal(r32(f, VIRTIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG, 2), 0xbbaa);
	assert_int_equal(f->irq_calls, 0);
	drv_bring_up(f);
	virtio_dev_config_update(d, 1, nb, 1);
	assert_int_equal(r32(f, VIRTIO_MMIO_CONFIG_GENERATION), 2);
	assert_int_equal(r32(f, VIRTIO_MMIO_INTERRUPT_STATUS),
			 VIRTIO_ISR_CONFIG);
	assert_int_equal(f->level, 1);
	w32(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
	assert_int_equal(f->level, 0);
}

static void test_reset(void **state)
{
	struct fix *f = *state;

	drv_bring_up(f);
	drv_post(f, 8);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->level, 1);
	w32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f->toy->resets, 2);  /* drv_negotiate wrote 0 too */
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(f->level, 0);
	w32(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	/* a kick after reset does nothing */
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->toy->kicks, 1);
	/* the device comes back from scratch; so does the device op */
	f->vm.avail_idx = 0;
	memset(gpa_host(&f->vm, RING_AVAIL), 0, 0x1000);
	memset(gpa_host(&f->vm, RING_USED), 0, 0x1000);
	drv_bring_up(f);
	drv_post(f, 4);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(get_used_idx(&f->vm), 1);
	assert_int_equal(f->level, 1);
	f->dev->ops->reset(f->dev);
	assert_int_equal(f->toy->resets, 4);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(f->level, 0);
}

/* Reset with a request held by the device's backend: the Status write
 * returns at once, Status reads non-zero until the request is back, the
 * transport is reset already (QueueReady 0, line low). QueueReady 0 then
 * 1 on a fresh ring with a request out: its late completion does not
 * reach the new ring. */
static void test_reset_and_ready_async(void **state)
{
	struct fix *f = *state;
	uint32_t up = S_ACK | S_DRV | S_FOK | S_DOK;

	drv_bring_up(f);
	f->toy->hold = true;
	drv_post(f, 8);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(f->toy->holding);
	w32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), up);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	toy_complete(f->toy);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(get_used_idx(&f->vm), 0);
	assert_true(f->level <= 0);             /* never raised */
	/* QueueReady 0 -> 1 with a request out */
	f->vm.avail_idx = 0;
	memset(gpa_host(&f->vm, RING_AVAIL), 0, 0x1000);
	drv_bring_up(f);
	drv_post(f, 8);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(f->toy->holding);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	f->vm.avail_idx = 0;
	memset(gpa_host(&f->vm, RING_AVAIL), 0, 0x1000);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 1);
	toy_complete(f->toy);
	assert_int_equal(get_used_idx(&f->vm), 0);
	assert_false(r32(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	f->toy->hold = false;
	drv_post(f, 8);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(get_used_idx(&f->vm), 1);
}

static void test_bad_accesses(void **state)
{
	struct fix *f = *state;
	static const unsigned sizes[] = { 1, 2, 8 };

	/* registers: only aligned 32-bit accesses count */
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE, sizes[i]), 0);
		wr(f, VIRTIO_MMIO_STATUS, sizes[i], S_ACK);
		assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), 0);
	}
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE + 1, 4), 0);
	wr(f, VIRTIO_MMIO_STATUS + 2, 4, S_ACK);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), 0);
	/* read-only registers ignore writes */
	w32(f, VIRTIO_MMIO_MAGIC_VALUE, 0);
	w32(f, VIRTIO_MMIO_DEVICE_ID, 0);
	w32(f, VIRTIO_MMIO_INTERRUPT_STATUS, 0xffffffff);
	w32(f, VIRTIO_MMIO_CONFIG_GENERATION, 5);
	assert_int_equal(r32(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(r32(f, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	assert_int_equal(r32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	/* legacy, reserved and QueueReset (not offered) read 0 */
	assert_int_equal(r32(f, 0x028), 0);     /* GuestPageSize */
	assert_int_equal(r32(f, 0x040), 0);     /* QueuePFN */
	assert_int_equal(r32(f, 0x048), 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_RESET), 0);
	assert_int_equal(r32(f, 0x0f8), 0);
	w32(f, 0x040, 0x1234);
	w32(f, VIRTIO_MMIO_QUEUE_RESET, 1);
	/* no shared memory: length and base all-ones */
	w32(f, VIRTIO_MMIO_SHM_SEL, 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(r32(f, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	assert_int_equal(r32(f, VIRTIO_MMIO_SHM_BASE_LOW), 0xffffffff);
	assert_int_equal(r32(f, VIRTIO_MMIO_SHM_BASE_HIGH), 0xffffffff);
	/* a queue that does not exist: max 0, set-up ignored */
	drv_negotiate(f);
	w32(f, VIRTIO_MMIO_QUEUE_SEL, TOY_QUEUES);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	w32(f, VIRTIO_MMIO_QUEUE_NUM, 16);
	w32(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)RING_DESC);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	w32(f, VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 1);
	/* nothing above broke the device */
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	/* outside the region the device does not answer */
	{
		uint32_t v = 0;
		assert_false(bus_access(&f->bus, MMIO_BASE + 0x200, &v, 4,
					false));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fix_teardown)
		T(test_identification),
		T(test_feature_pages),
		T(test_status_handshake),
		T(test_queue_registers),
		T(test_request_and_interrupt),
		T(test_config_space),
		T(test_reset),
		T(test_reset_and_ready_async),
		T(test_bad_accesses),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
