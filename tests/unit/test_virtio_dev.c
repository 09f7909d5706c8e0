/* Virtio device model: feature negotiation, the status machine, reset,
 * config space, queue set-up through the transport accessors, and the
 * notify → pop → push → interrupt path with a toy device. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "unit.h"
#include "core/util.h"
#include "test_virtq_helpers.h"
#include "virtio/virtio.h"

#define F_TOY0		0             /* a device-specific feature */
#define F_TOY_BAD	5             /* one the toy vetoes */

struct toy {
	struct virtio_dev vdev;
	uint8_t config[12];
	int activate_rc;
	unsigned activated, resets, kicks, config_writes;
	unsigned used_irqs, config_irqs, last_irq_q;
	int last_pop;
	/* hold: a kick pops one chain and keeps it, as a device whose
	 * backend is slow (counted work); the test completes it. */
	bool hold, holding;
	unsigned held_q;
	struct virtq_req held;
	struct iovec held_iov[8];
};

struct fix {
	struct fake_vm vm;
	struct toy toy;
};

static struct toy *to_toy(struct virtio_dev *d)
{
	return container_of(d, struct toy, vdev);
}

static int toy_validate(struct virtio_dev *d, uint64_t f)
{
	return (f & VIRTIO_BIT(F_TOY_BAD)) ? -EINVAL : 0;
}

static int toy_activate(struct virtio_dev *d)
{
	to_toy(d)->activated++;
	return to_toy(d)->activate_rc;
}

static void toy_reset(struct virtio_dev *d)
{
	to_toy(d)->resets++;
}

/* Echo device: completes each chain with its writable length. */
static void toy_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct toy *t = to_toy(d);
	struct iovec iov[8];
	struct virtq_req r = { .iov = iov, .max_iov = 8 };
	int rc;

	t->kicks++;
	if (t->hold) {
		t->held = (struct virtq_req){ .iov = t->held_iov,
					      .max_iov = 8 };
		if (!t->holding && virtio_queue_pop(d, q, &t->held) > 0) {
			t->holding = true;
			t->held_q = q;
			virtio_dev_work_get(d);
		}
		return;
	}
	while ((rc = virtio_queue_pop(d, q, &r)) > 0)
		virtq_push(virtio_dev_vq(d, q), &r, (uint32_t)r.write_len);
	t->last_pop = rc;
	virtio_queue_interrupt(d, q);
}

static void toy_config_write(struct virtio_dev *d, uint32_t off, uint32_t len)
{
	to_toy(d)->config_writes++;
}

/* The held chain's backend finished: complete it as a device must (push
 * under the queue lock, then put). */
static void toy_complete(struct toy *t)
{
	struct virtio_dev *d = &t->vdev;

	assert_true(t->holding);
	virtio_queue_lock(d, t->held_q);
	virtq_push(virtio_dev_vq(d, t->held_q), &t->held,
		   (uint32_t)t->held.write_len);
	virtio_queue_unlock(d, t->held_q);
	t->holding = false;
	virtio_dev_work_put(d);
}

static void toy_drain(struct virtio_dev *d)
{
	if (to_toy(d)->holding)
		toy_complete(to_toy(d));
}

static const struct virtio_dev_ops toy_ops = {
	.validate_features = toy_validate,
	.activate = toy_activate,
	.reset = toy_reset,
	.drain = toy_drain,
	.queue_notify = toy_queue_notify,
	.config_write = toy_config_write,
};

static void tr_used(struct virtio_dev *d, unsigned q)
{
	to_toy(d)->used_irqs++;
	to_toy(d)->last_irq_q = q;
}

static void tr_config(struct virtio_dev *d)
{
	to_toy(d)->config_irqs++;
}

static const struct virtio_transport toy_transport = {
	.notify_used = tr_used,
	.notify_config = tr_config,
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	unsigned i;

	fake_vm_init(&f->vm, 16);
	for (i = 0; i < sizeof(f->toy.config); i++)
		f->toy.config[i] = (uint8_t)(0x10 + i);
	assert_int_equal(virtio_dev_init(&f->toy.vdev, "toy", VIRTIO_ID_RNG,
					 &toy_ops, &f->vm.mem,
					 VIRTIO_BIT(F_TOY0) |
					 VIRTIO_BIT(F_TOY_BAD) |
					 VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM),
					 f->toy.config, sizeof(f->toy.config),
					 2, 256), 0);
	virtio_dev_attach(&f->toy.vdev, &toy_transport);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	virtio_dev_uninit(&f->toy.vdev);
	fake_vm_free(&f->vm);
	free(f);
	return 0;
}

static void negotiate(struct virtio_dev *d, uint64_t features)
{
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE |
			      VIRTIO_STATUS_DRIVER);
	virtio_dev_set_driver_features(d, 0, (uint32_t)features);
	virtio_dev_set_driver_features(d, 1, (uint32_t)(features >> 32));
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE |
			      VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

#define BASE_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | \
		       VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
		       VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC))

static void setup_queue(struct virtio_dev *d, unsigned q, uint64_t size)
{
	virtio_queue_write(d, q, VIRTIO_QUEUE_SIZE, size);
	virtio_queue_write(d, q, VIRTIO_QUEUE_DESC, RING_DESC);
	virtio_queue_write(d, q, VIRTIO_QUEUE_AVAIL, RING_AVAIL);
	virtio_queue_write(d, q, VIRTIO_QUEUE_USED, RING_USED);
	virtio_queue_write(d, q, VIRTIO_QUEUE_READY, 1);
}

static void bring_up(struct fix *f)
{
	struct virtio_dev *d = &f->toy.vdev;

	negotiate(d, BASE_FEATURES);
	setup_queue(d, 0, 16);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 1);
	virtio_dev_set_status(d, virtio_dev_status(d) |
			      VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_dev_running(d));
}

static void test_device_features(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	/* VERSION_1 always offered (bit 0 of page 1), ACCESS_PLATFORM never */
	assert_int_equal(virtio_dev_device_features(d, 1), 1);
	assert_int_equal(virtio_dev_device_features(d, 0),
			 (1u << F_TOY0) | (1u << F_TOY_BAD) |
			 (1u << VIRTIO_F_RING_INDIRECT_DESC) |
			 (1u << VIRTIO_F_RING_EVENT_IDX));
	assert_int_equal(virtio_dev_device_features(d, 2), 0);
	assert_int_equal(virtio_dev_device_features(d, 0xffffffff), 0);
}

static void test_features_ok_accepted(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	negotiate(d, BASE_FEATURES | VIRTIO_BIT(F_TOY0));
	assert_true(virtio_dev_status(d) & VIRTIO_STATUS_FEATURES_OK);
	assert_true(virtio_dev_has_feature(d, F_TOY0));
	assert_int_equal(virtio_dev_driver_features(d, 1), 1);
}

static void test_features_ok_without_version1(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	negotiate(d, VIRTIO_BIT(F_TOY0));
	assert_false(virtio_dev_status(d) & VIRTIO_STATUS_FEATURES_OK);
	/* features can still be fixed and FEATURES_OK retried */
	virtio_dev_set_driver_features(d, 1, 1);
	virtio_dev_set_status(d, virtio_dev_status(d) |
			      VIRTIO_STATUS_FEATURES_OK);
	assert_true(virtio_dev_status(d) & VIRTIO_STATUS_FEATURES_OK);
}

static void test_features_ok_not_offered(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	negotiate(d, BASE_FEATURES | VIRTIO_BIT(7));
	assert_false(virtio_dev_status(d) & VIRTIO_STATUS_FEATURES_OK);
	virtio_dev_reset(d);
	negotiate(d, BASE_FEATURES | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM));
	assert_false(virtio_dev_status(d) & VIRTIO_STATUS_FEATURES_OK);
	virtio_dev_reset(d);
	negotiate(d, BASE_FEATURES | VIRTIO_BIT(63));
	assert_false(virtio_dev_status(d) & VIRTIO_STATUS_FEATURES_OK);
}

static void test_features_ok_device_veto(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	negotiate(d, BASE_FEATURES | VIRTIO_BIT(F_TOY_BAD));
	assert_false(virtio_dev_status(d) & VIRTIO_STATUS_FEATURES_OK);
}

static void test_features_ok_needs_driver(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	virtio_dev_set_driver_features(d, 1, 1);
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE |
			      VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(virtio_dev_status(d), VIRTIO_STATUS_ACKNOWLEDGE);
}

static void test_feature_writes_after_features_ok(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	negotiate(d, BASE_FEATURES);
	virtio_dev_set_driver_features(d, 0, 1u << F_TOY0);
	virtio_dev_set_driver_features(d, 1, 0);
	assert_false(virtio_dev_has_feature(d, F_TOY0));
	assert_true(virtio_dev_has_feature(d, VIRTIO_F_VERSION_1));
	/* pages beyond 1 never stick */
	virtio_dev_reset(d);
	virtio_dev_set_driver_features(d, 2, 0xffffffff);
	assert_int_equal(virtio_dev_driver_features(d, 0), 0);
	assert_int_equal(virtio_dev_driver_features(d, 1), 0);
	assert_int_equal(virtio_dev_driver_features(d, 2), 0);
}

static void test_driver_ok_needs_features_ok(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE |
			      VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	assert_false(virtio_dev_status(d) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->toy.activated, 0);
	assert_false(virtio_dev_running(d));
}

static void test_driver_ok_activates(void **state)
{
	struct fix *f = *state;

	bring_up(f);
	assert_int_equal(f->toy.activated, 1);
	/* writing DRIVER_OK again does not re-activate */
	virtio_dev_set_status(&f->toy.vdev, virtio_dev_status(&f->toy.vdev));
	assert_int_equal(f->toy.activated, 1);
}

static void test_activate_failure(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	f->toy.activate_rc = -EIO;
	negotiate(d, BASE_FEATURES);
	virtio_dev_set_status(d, virtio_dev_status(d) |
			      VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_dev_status(d) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(virtio_dev_running(d));
	assert_int_equal(f->toy.config_irqs, 1);
	assert_true(virtio_dev_isr(d) & VIRTIO_ISR_CONFIG);
}

static void test_status_bits_sticky(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	negotiate(d, BASE_FEATURES);
	/* the driver cannot clear bits, nor set NEEDS_RESET itself */
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE |
			      VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(virtio_dev_status(d), VIRTIO_STATUS_ACKNOWLEDGE |
			 VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	/* NEEDS_RESET set by the device survives driver status writes */
	virtio_dev_needs_reset(d, 0);
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_true(virtio_dev_status(d) & VIRTIO_STATUS_NEEDS_RESET);
	/* not DRIVER_OK yet: no config interrupt */
	assert_int_equal(f->toy.config_irqs, 0);
	/* FAILED stops the device */
	virtio_dev_reset(d);
	bring_up(f);
	virtio_dev_set_status(d, virtio_dev_status(d) | VIRTIO_STATUS_FAILED);
	assert_false(virtio_dev_running(d));
}

static void test_reset_clears_everything(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	bring_up(f);
	setup_queue(d, 1, 8);
	virtio_dev_needs_reset(d, 0);
	virtio_dev_set_status(d, 0);
	assert_int_equal(virtio_dev_status(d), 0);
	assert_int_equal(f->toy.resets, 1);
	assert_int_equal(virtio_dev_driver_features(d, 1), 0);
	assert_int_equal(virtio_dev_isr(d), 0);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 0);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_READY), 0);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_SIZE), 256);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_DESC), 0);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_USED), 0);
	/* and the device comes back up from scratch */
	bring_up(f);
	assert_int_equal(f->toy.activated, 2);
}

static void test_queue_registers(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	virtio_dev_set_queue_max(d, 1, 64);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_MAX_SIZE), 256);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_MAX_SIZE), 64);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_SIZE), 64);
	/* queues that do not exist read 0 and ignore writes */
	assert_int_equal(virtio_queue_read(d, 2, VIRTIO_QUEUE_MAX_SIZE), 0);
	virtio_queue_write(d, 2, VIRTIO_QUEUE_READY, 1);
	virtio_queue_write(d, 0xffffffff, VIRTIO_QUEUE_SIZE, 4);
	virtio_queue_notify(d, 2);
	virtio_queue_interrupt(d, 7);
	/* values read back as written */
	virtio_queue_write(d, 0, VIRTIO_QUEUE_DESC, 0x123456789abcdef0ULL);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_DESC),
			 0x123456789abcdef0ULL);
	/* READY before FEATURES_OK is refused */
	setup_queue(d, 0, 16);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 0);
	/* once ready, the set-up is frozen */
	negotiate(d, BASE_FEATURES);
	setup_queue(d, 0, 16);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 1);
	virtio_queue_write(d, 0, VIRTIO_QUEUE_SIZE, 8);
	virtio_queue_write(d, 0, VIRTIO_QUEUE_USED, 0);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_SIZE), 16);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_USED), RING_USED);
	/* negotiated ring features reach the queue */
	assert_int_equal(virtio_dev_vq(d, 0)->features,
			 VIRTQ_FEAT_INDIRECT | VIRTQ_FEAT_EVENT_IDX);
	/* READY 0 stops the queue */
	virtio_queue_write(d, 0, VIRTIO_QUEUE_READY, 0);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 0);
}

static void test_bad_queue_setup(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	negotiate(d, BASE_FEATURES);
	setup_queue(d, 0, 65536 + 16);          /* truncation must not help */
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 0);
	assert_true(virtio_dev_status(d) & VIRTIO_STATUS_NEEDS_RESET);
	virtio_dev_reset(d);
	negotiate(d, BASE_FEATURES);
	virtio_queue_write(d, 0, VIRTIO_QUEUE_SIZE, 16);
	virtio_queue_write(d, 0, VIRTIO_QUEUE_DESC, RING_DESC + 4);
	virtio_queue_write(d, 0, VIRTIO_QUEUE_READY, 1);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 0);
	assert_true(virtio_dev_status(d) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_notify_before_driver_ok(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	negotiate(d, BASE_FEATURES);
	setup_queue(d, 0, 16);
	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
	virtio_queue_notify(d, 0);
	assert_int_equal(f->toy.kicks, 0);
	assert_int_equal(get_used_idx(&f->vm), 0);
}

static void test_notify_pop_push_interrupt(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	bring_up(f);
	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, BUF_GPA + 8, 24, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
	virtio_queue_notify(d, 0);
	assert_int_equal(f->toy.kicks, 1);
	assert_int_equal(f->toy.last_pop, 0);
	assert_int_equal(get_used_idx(&f->vm), 1);
	assert_int_equal(get_used(&f->vm, 0).len, 24);
	assert_int_equal(f->toy.used_irqs, 1);
	assert_int_equal(f->toy.last_irq_q, 0);
	assert_int_equal(virtio_dev_isr_take(d), VIRTIO_ISR_QUEUE);
	assert_int_equal(virtio_dev_isr(d), 0);
	/* EVENT_IDX: driver asks for no interrupt until used idx passes 5 */
	set_used_event(&f->vm, 5);
	set_desc(&f->vm, 2, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 2);
	virtio_queue_notify(d, 0);
	assert_int_equal(get_used_idx(&f->vm), 2);
	assert_int_equal(f->toy.used_irqs, 1);
	assert_int_equal(get_avail_event(&f->vm), 2);
}

static void test_broken_queue_needs_reset(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	bring_up(f);
	avail_add(&f->vm, 99);                  /* head out of range */
	virtio_queue_notify(d, 0);
	assert_int_equal(f->toy.last_pop, -EIO);
	assert_true(virtio_dev_status(d) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(virtio_dev_running(d));
	assert_int_equal(f->toy.config_irqs, 1);
	assert_int_equal(f->toy.used_irqs, 0);
	virtio_dev_isr_ack(d, VIRTIO_ISR_CONFIG);
	assert_int_equal(virtio_dev_isr(d), 0);
	/* further kicks do nothing and raise nothing */
	virtio_queue_notify(d, 0);
	assert_int_equal(f->toy.kicks, 1);
	assert_int_equal(f->toy.config_irqs, 1);
	/* reset recovers */
	virtio_dev_set_status(d, 0);
	assert_false(virtio_dev_vq(d, 0)->broken);
	bring_up(f);
}

#define S_UP (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
	      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

/* One writable chain made available on queue 0 and kicked: held. */
static void hold_one(struct fix *f)
{
	f->toy.hold = true;
	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
	virtio_queue_notify(&f->toy.vdev, 0);
	assert_true(f->toy.holding);
}

/* A reset with a request out returns at once; the status reads what it
 * was until the request is back, then 0 (spec 2.4.1). Meanwhile the
 * data plane is stopped, the set-up is forgotten, and the completion
 * touches no ring. */
static void test_reset_pending_until_work_done(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	bring_up(f);
	hold_one(f);
	virtio_dev_set_status(d, 0);
	assert_int_equal(f->toy.resets, 1);
	assert_true(virtio_dev_reset_pending(d));
	assert_int_equal(virtio_dev_status(d), S_UP);
	assert_false(virtio_dev_running(d));
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 0);
	assert_int_equal(virtio_dev_driver_features(d, 1), 0);
	assert_int_equal(virtio_dev_isr(d), 0);
	/* queues cannot be enabled while the reset is pending */
	setup_queue(d, 0, 16);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 0);
	/* no kick reaches the device */
	virtio_queue_notify(d, 0);
	assert_int_equal(f->toy.kicks, 1);
	/* a NEEDS_RESET from the data plane meanwhile is void at the end */
	virtio_dev_needs_reset(d, 0);
	toy_complete(&f->toy);
	assert_false(virtio_dev_reset_pending(d));
	assert_int_equal(virtio_dev_status(d), 0);
	assert_int_equal(get_used_idx(&f->vm), 0);
	assert_int_equal(f->toy.used_irqs, 0);
	/* and the device comes back up */
	f->toy.hold = false;
	bring_up(f);
}

struct cancel_run {
	struct fix *f;
	bool locked, done;
};

/* As blk's submit when the backend refuses: under the queue lock, once
 * a reset on another vCPU is pending (and holds the device's lock while
 * it waits for this queue's). */
static void *cancel_thread(void *opaque)
{
	struct cancel_run *c = opaque;
	struct virtio_dev *d = &c->f->toy.vdev;

	virtio_queue_lock(d, 0);
	__atomic_store_n(&c->locked, true, __ATOMIC_RELEASE);
	while (!virtio_dev_reset_pending(d))
		sched_yield();
	c->f->toy.holding = false;
	virtio_dev_work_cancel(d);
	virtio_queue_unlock(d, 0);
	__atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void *reset_thread(void *opaque)
{
	virtio_dev_set_status(opaque, 0);
	return NULL;
}

static void join_or_abort(pthread_t t, const char *what)
{
	struct timespec end;

	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += 30;                 /* a hang guard, not a timing */
	if (pthread_timedjoin_np(t, NULL, &end)) {
		fprintf(stderr, "%s did not end: deadlock\n", what);
		abort();
	}
}

/* A request the backend refused is uncounted without the device's lock
 * (virtio_dev_work_cancel), and a reset racing it completes. blk's
 * submit used work_put there, which took the device's lock under the
 * queue's: a reset holds them the other way round. */
static void test_work_cancel_during_reset(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;
	struct cancel_run c = { .f = f };
	pthread_t a, b;

	bring_up(f);
	hold_one(f);                    /* counted: the get */
	assert_int_equal(pthread_create(&a, NULL, cancel_thread, &c), 0);
	/* the notify holds the queue's lock before the reset begins (it
	 * entered while the device ran) */
	while (!__atomic_load_n(&c.locked, __ATOMIC_ACQUIRE))
		sched_yield();
	assert_int_equal(pthread_create(&b, NULL, reset_thread, d), 0);
	join_or_abort(a, "the cancel");
	join_or_abort(b, "the reset");
	assert_true(c.done);
	assert_false(virtio_dev_reset_pending(d));
	assert_int_equal(virtio_dev_status(d), 0);
}

/* Nothing out: the reset is complete when the write returns. */
static void test_reset_idle_is_immediate(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	bring_up(f);
	virtio_dev_set_status(d, 0);
	assert_false(virtio_dev_reset_pending(d));
	assert_int_equal(virtio_dev_status(d), 0);
}

struct writer {
	struct virtio_dev *d;
	sem_t started;
};

static void *status_writer(void *arg)
{
	struct writer *w = arg;

	sem_post(&w->started);
	virtio_dev_set_status(w->d, VIRTIO_STATUS_ACKNOWLEDGE);
	return NULL;
}

/* A driver that does not poll (Linux's virtio-mmio) writes ACKNOWLEDGE
 * right after 0: that write waits for the reset and then applies to the
 * reset device, however the threads are scheduled. */
static void test_status_write_during_reset(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;
	struct writer w = { .d = d };
	pthread_t th;

	bring_up(f);
	hold_one(f);
	virtio_dev_set_status(d, 0);
	assert_int_equal(sem_init(&w.started, 0, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, status_writer, &w), 0);
	sem_wait(&w.started);
	toy_complete(&f->toy);
	pthread_join(th, NULL);
	sem_destroy(&w.started);
	assert_false(virtio_dev_reset_pending(d));
	assert_int_equal(virtio_dev_status(d), VIRTIO_STATUS_ACKNOWLEDGE);
}

/* Teardown: the synchronous reset completes the work on this thread
 * through ops->drain. */
static void test_reset_sync_drains(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	bring_up(f);
	hold_one(f);
	virtio_dev_reset_sync(d);
	assert_false(f->toy.holding);
	assert_int_equal(virtio_dev_status(d), 0);
	assert_int_equal(get_used_idx(&f->vm), 0);
}

/* READY 0 then 1 on a fresh ring with a chain out: its completion is
 * stale and never reaches the new ring (it used to land there, or break
 * the queue with "pushed more than popped"). */
static void test_queue_reenable_stale(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	bring_up(f);
	hold_one(f);
	virtio_queue_write(d, 0, VIRTIO_QUEUE_READY, 0);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 0);
	memset(gpa_host(&f->vm, RING_DESC), 0, 3 * 0x10000);
	f->vm.avail_idx = 0;
	virtio_queue_write(d, 0, VIRTIO_QUEUE_READY, 1);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_READY), 1);
	toy_complete(&f->toy);
	assert_int_equal(get_used_idx(&f->vm), 0);
	assert_false(virtio_dev_vq(d, 0)->broken);
	assert_true(virtio_dev_running(d));
	/* the new ring works */
	f->toy.hold = false;
	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
	virtio_queue_notify(d, 0);
	assert_int_equal(get_used_idx(&f->vm), 1);
}

static void test_config_read(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	assert_int_equal(virtio_dev_config_read(d, 0, 1), 0x10);
	assert_int_equal(virtio_dev_config_read(d, 2, 2), 0x1312);
	assert_int_equal(virtio_dev_config_read(d, 8, 4), 0x1b1a1918);
	assert_int_equal(virtio_dev_config_read(d, 4, 8),
			 0x1b1a191817161514ULL);
	/* out of bounds, straddling, odd sizes, huge offsets: 0 */
	assert_int_equal(virtio_dev_config_read(d, 12, 1), 0);
	assert_int_equal(virtio_dev_config_read(d, 10, 4), 0);
	assert_int_equal(virtio_dev_config_read(d, 5, 8), 0);
	assert_int_equal(virtio_dev_config_read(d, 0, 3), 0);
	assert_int_equal(virtio_dev_config_read(d, 0, 16), 0);
	assert_int_equal(virtio_dev_config_read(d, ~0ULL, 4), 0);
	assert_int_equal(virtio_dev_config_read(d, ~0ULL - 2, 4), 0);
}

static void test_config_write(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;

	virtio_dev_config_write(d, 4, 4, 0xdeadbeef);
	assert_int_equal(virtio_dev_config_read(d, 4, 4), 0xdeadbeef);
	assert_int_equal(f->toy.config_writes, 1);
	virtio_dev_config_write(d, 10, 4, 0xffffffff);
	virtio_dev_config_write(d, ~0ULL - 1, 4, 0xffffffff);
	virtio_dev_config_write(d, 0, 5, 0xffffffff);
	assert_int_equal(f->toy.config_writes, 1);
	assert_int_equal(virtio_dev_config_read(d, 8, 4), 0x1b1a1918);
}

static void test_config_read_only(void **state)
{
	struct fix *f = *state;
	struct virtio_dev d;
	static const struct virtio_dev_ops ro_ops = {
		.queue_notify = toy_queue_notify,
	};
	uint8_t cfg[4] = { 1, 2, 3, 4 };

	assert_int_equal(virtio_dev_init(&d, "ro", VIRTIO_ID_RNG, &ro_ops,
					 &f->vm.mem, 0, cfg, 4, 1, 16), 0);
	virtio_dev_config_write(&d, 0, 4, 0);
	assert_int_equal(virtio_dev_config_read(&d, 0, 4), 0x04030201);
	virtio_dev_uninit(&d);
	/* bad constructor arguments */
	assert_int_equal(virtio_dev_init(&d, "x", 1, &ro_ops, &f->vm.mem, 0,
					 NULL, 4, 1, 16), -EINVAL);
	assert_int_equal(virtio_dev_init(&d, "x", 1, &ro_ops, &f->vm.mem, 0,
					 NULL, 0, 0, 16), -EINVAL);
	assert_int_equal(virtio_dev_init(&d, "x", 1, &ro_ops, &f->vm.mem, 0,
					 NULL, 0, 1, 100), -EINVAL);
	assert_int_equal(virtio_dev_init(&d, "x", 1, &ro_ops, &f->vm.mem, 0,
					 NULL, 0, VIRTIO_MAX_QUEUES + 1, 16),
			 -EINVAL);
}

static void test_config_update_generation(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy.vdev;
	uint8_t v[2] = { 0xaa, 0xbb };
	uint32_t g = virtio_dev_config_generation(d);

	/* before DRIVER_OK: generation moves, no interrupt */
	virtio_dev_config_update(d, 0, v, 2);
	assert_int_equal(virtio_dev_config_generation(d), g + 1);
	assert_int_equal(virtio_dev_config_read(d, 0, 2), 0xbbaa);
	assert_int_equal(f->toy.config_irqs, 0);
	bring_up(f);
	virtio_dev_config_update(d, 10, v, 2);
	assert_int_equal(virtio_dev_config_generation(d), g + 2);
	assert_int_equal(f->toy.config_irqs, 1);
	assert_true(virtio_dev_isr(d) & VIRTIO_ISR_CONFIG);
	/* out of bounds update is dropped */
	virtio_dev_config_update(d, 11, v, 2);
	virtio_dev_config_update(d, 0xffffffff, v, 2);
	assert_int_equal(virtio_dev_config_generation(d), g + 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_device_features),
		T(test_features_ok_accepted),
		T(test_features_ok_without_version1),
		T(test_features_ok_not_offered),
		T(test_features_ok_device_veto),
		T(test_features_ok_needs_driver),
		T(test_feature_writes_after_features_ok),
		T(test_driver_ok_needs_features_ok),
		T(test_driver_ok_activates),
		T(test_activate_failure),
		T(test_status_bits_sticky),
		T(test_reset_clears_everything),
		T(test_reset_pending_until_work_done),
		T(test_work_cancel_during_reset),
		T(test_reset_idle_is_immediate),
		T(test_status_write_during_reset),
		T(test_reset_sync_drains),
		T(test_queue_reenable_stale),
		T(test_queue_registers),
		T(test_bad_queue_setup),
		T(test_notify_before_driver_ok),
		T(test_notify_pop_push_interrupt),
		T(test_broken_queue_needs_reset),
		T(test_config_read),
		T(test_config_write),
		T(test_config_read_only),
		T(test_config_update_generation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
