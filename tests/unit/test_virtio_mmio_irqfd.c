/* virtio-mmio's interrupt line as an irqfd with resampling: raising writes
 * the irqfd, the guest's acknowledgement costs nothing, and at the EOI
 * (KVM signals the resample eventfd) the line is raised again only while
 * InterruptStatus is still set. A VM that refuses the resampling irqfd
 * gets the KVM_IRQ_LINE path (test_virtio_mmio covers that). */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test_virtio_mmio.h"

struct binding {
	int efd, rfd;
	unsigned assigned, unassigned;
	int rc;
};

static struct binding bound;

static int fake_line_irqfd(void *ctx, uint32_t gsi, int efd, int rfd,
			   bool assign)
{
	assert_int_equal(gsi, MMIO_GSI);
	if (bound.rc)
		return bound.rc;
	if (assign) {
		bound.efd = efd;
		bound.rfd = rfd;
		bound.assigned++;
	} else {
		assert_int_equal(efd, bound.efd);
		assert_int_equal(rfd, bound.rfd);
		bound.unassigned++;
	}
	return 0;
}

static int setup(void **state)
{
	struct fix *f = fix_new();

	bound = (struct binding){ .efd = -1, .rfd = -1 };
	f->env.loop = event_loop_new();
	assert_non_null(f->env.loop);
	f->env.line_irqfd = fake_line_irqfd;
	*state = f;
	return 0;
}

/* How many times the line was raised since the last call. */
static uint64_t raised(void)
{
	eventfd_t v = 0;

	if (eventfd_read(bound.efd, &v) < 0) {
		assert_int_equal(errno, EAGAIN);
		return 0;
	}
	return v;
}

/* The guest EOIs: KVM lowers the line and signals the resample fd. */
static void eoi(struct fix *f)
{
	assert_int_equal(eventfd_write(bound.rfd, 1), 0);
	assert_true(event_loop_poll(f->env.loop, 1000) > 0);
}

/* One request, kicked by an exit; with an event loop the kick is served
 * there, as in cvisor. */
static void complete_one(struct fix *f)
{
	uint16_t used = get_used_idx(&f->vm);

	drv_post(f, 8);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(event_loop_poll(f->env.loop, 1000) > 0);
	assert_int_equal(get_used_idx(&f->vm), (uint16_t)(used + 1));
}

static void test_level_through_irqfd(void **state)
{
	struct fix *f = *state;

	fix_place(f);
	assert_int_equal(bound.assigned, 1);
	drv_bring_up(f);
	complete_one(f);
	assert_int_equal(raised(), 1);
	assert_int_equal(f->irq_calls, 0);      /* no KVM_IRQ_LINE */
	/* a second completion while the line is high: nothing to do */
	complete_one(f);
	assert_int_equal(raised(), 0);
	/* the usual handler: ack, then EOI; the line stays low */
	w32(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	assert_int_equal(raised(), 0);
	eoi(f);
	assert_int_equal(raised(), 0);
	/* a completion between the ack and the EOI raises it again, and
	 * an EOI without an ack (a shared line's other handler) re-raises */
	complete_one(f);
	assert_int_equal(raised(), 1);
	eoi(f);
	assert_int_equal(raised(), 1);
	w32(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	eoi(f);
	assert_int_equal(raised(), 0);
	assert_int_equal(f->irq_calls, 0);
	fix_free_dev(f);
	assert_int_equal(bound.unassigned, 1);
}

/* A reset clears the ISR: the next EOI leaves the line low. */
static void test_reset_then_eoi(void **state)
{
	struct fix *f = *state;

	fix_place(f);
	drv_bring_up(f);
	complete_one(f);
	assert_int_equal(raised(), 1);
	w32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	eoi(f);
	assert_int_equal(raised(), 0);
}

static void test_refused_falls_back(void **state)
{
	struct fix *f = *state;

	bound.rc = -EINVAL;
	fix_place(f);
	drv_bring_up(f);
	complete_one(f);
	assert_int_equal(f->level, 1);
	assert_int_equal(f->irq_calls, 1);
	w32(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	assert_int_equal(f->level, 0);
	fix_free_dev(f);
	assert_int_equal(bound.unassigned, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fix_teardown)
		T(test_level_through_irqfd),
		T(test_reset_then_eoi),
		T(test_refused_falls_back),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
