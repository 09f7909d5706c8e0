/* Split virtqueue with a real concurrent driver: one thread plays the
 * guest driver (adds chains, reaps used entries), another the device
 * (pops, transforms, pushes). Checks that the ordering in queue.c is
 * enough for every request's data to arrive intact and in one piece. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "unit.h"
#include "test_virtq_helpers.h"

#define QSIZE	64
#define SLOTS	(QSIZE / 2)       /* each request: 2 descriptors */
#define ROUNDS	200000

struct shared {
	struct fake_vm vm;
	struct virtq q;
	int done;
	unsigned device_errors;
};

static uint64_t slot_gpa(unsigned k)
{
	return BUF_GPA + 16 * (uint64_t)k;
}

static void *device_thread(void *arg)
{
	struct shared *s = arg;
	struct iovec iov[4];
	struct virtq_req r = { .iov = iov, .max_iov = 4 };
	uint64_t v;
	int rc;

	while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
		rc = virtq_pop(&s->q, &r);
		if (rc < 0) {
			s->device_errors++;
			break;
		}
		if (!rc) {
			sched_yield();
			continue;
		}
		if (r.nr_read != 1 || r.nr_write != 1) {
			s->device_errors++;
			break;
		}
		memcpy(&v, iov[0].iov_base, 8);
		v = v * 3 + 1;
		memcpy(iov[1].iov_base, &v, 8);
		virtq_push(&s->q, &r, 8);
	}
	return NULL;
}

/* Driver side ring accessors with the driver's half of the ordering. */
static void driver_publish(struct shared *s, uint16_t head)
{
	uint16_t *ring = avail_word(&s->vm, 2 + (s->vm.avail_idx & (QSIZE - 1)));

	*ring = htole16(head);
	s->vm.avail_idx++;
	__atomic_store_n(avail_word(&s->vm, 1), htole16(s->vm.avail_idx),
			 __ATOMIC_RELEASE);
}

static uint16_t driver_used_idx(struct shared *s)
{
	return le16toh(__atomic_load_n(used_word(&s->vm, 1), __ATOMIC_ACQUIRE));
}

static void test_concurrent_driver_and_device(void **state)
{
	struct shared *s = calloc(1, sizeof(*s));
	uint64_t sent_val[SLOTS];
	unsigned free_slots[SLOTS], nfree = SLOTS, k;
	unsigned sent = 0, reaped = 0, bad = 0;
	uint16_t used_seen = 0;
	pthread_t t;

	(void)state;
	fake_vm_init(&s->vm, QSIZE);
	virtq_init(&s->q, &s->vm.mem, QSIZE);
	s->q.desc_gpa = RING_DESC;
	s->q.avail_gpa = RING_AVAIL;
	s->q.used_gpa = RING_USED;
	assert_int_equal(virtq_enable(&s->q, VIRTQ_FEAT_EVENT_IDX), 0);
	for (k = 0; k < SLOTS; k++) {
		set_desc(&s->vm, 2 * k, slot_gpa(k), 8, VIRTQ_DESC_F_NEXT,
			 2 * k + 1);
		set_desc(&s->vm, 2 * k + 1, slot_gpa(k) + 8, 8,
			 VIRTQ_DESC_F_WRITE, 0);
		free_slots[k] = k;
	}
	assert_int_equal(pthread_create(&t, NULL, device_thread, s), 0);

	while (reaped < ROUNDS && !s->device_errors) {
		while (nfree && sent < ROUNDS) {
			uint64_t v = 0x1000000ULL + sent;

			k = free_slots[--nfree];
			sent_val[k] = v;
			memcpy(gpa_host(&s->vm, slot_gpa(k)), &v, 8);
			driver_publish(s, (uint16_t)(2 * k));
			sent++;
		}
		while (used_seen != driver_used_idx(s)) {
			struct virtq_used_elem e = get_used(&s->vm, used_seen);
			uint64_t got;

			k = e.id / 2;
			memcpy(&got, gpa_host(&s->vm, slot_gpa(k) + 8), 8);
			if (e.id % 2 || k >= SLOTS || e.len != 8 ||
			    got != sent_val[k] * 3 + 1)
				bad++;
			free_slots[nfree++ % SLOTS] = k;
			used_seen++;
			reaped++;
		}
		sched_yield();
	}
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);

	assert_int_equal(s->device_errors, 0);
	assert_int_equal(bad, 0);
	assert_int_equal(reaped, ROUNDS);
	assert_false(s->q.broken);
	assert_int_equal(s->q.inflight, 0);
	fake_vm_free(&s->vm);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_driver_and_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
