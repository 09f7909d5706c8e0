/* vm/suspend.c's wake, without KVM: it takes effect only once every
 * vCPU has parked. A wake that came while one was still in KVM_RUN (the
 * event loop's kick not yet sent, or an event pending at SLP_EN) used to
 * mark every vCPU at once: the one still running went on from before the
 * suspend and kept its stale flag, to be reset later in the middle of
 * the resumed OS. */
#include <stdlib.h>

#include "unit.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

static struct vm *fake_vm(unsigned n)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->pause_ready = true;
	vm->nr_vcpus = n;
	vm->vcpus = calloc(n, sizeof(*vm->vcpus));
	for (unsigned i = 0; i < n; i++)
		vm->vcpus[i] = calloc(1, sizeof(struct vcpu));
	return vm;
}

static void free_vm(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		free(vm->vcpus[i]);
	free(vm->vcpus);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	free(vm);
}

/* what vcpu.c's park does for the vCPU that parks last */
static void last_parks(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->nr_parked = vm->nr_vcpus;
	vm_s3_parked(vm);
	pthread_mutex_unlock(&vm->pause_lock);
}

static void test_wake_waits_for_every_vcpu(void **state)
{
	struct vm *vm = fake_vm(2);

	(void)state;
	vm->suspended = true;
	vm->nr_parked = 1;                /* the AP is still in KVM_RUN */
	vm_s3_wake(vm);
	assert_true(vm->suspended);       /* it must park first */
	assert_false(vm->vcpus[0]->s3_wake);
	assert_false(vm->vcpus[1]->s3_wake);
	vm_s3_wake(vm);                   /* a second event: one wake */
	last_parks(vm);
	assert_false(vm->suspended);
	assert_true(vm->vcpus[0]->s3_wake);
	assert_true(vm->vcpus[1]->s3_wake);
	free_vm(vm);
}

static void test_wake_with_all_parked(void **state)
{
	struct vm *vm = fake_vm(2);

	(void)state;
	vm->suspended = true;
	vm->nr_parked = 2;
	vm_s3_wake(vm);
	assert_false(vm->suspended);
	assert_true(vm->vcpus[0]->s3_wake && vm->vcpus[1]->s3_wake);
	/* awake: parking again (a pause) wakes nothing */
	vm->vcpus[0]->s3_wake = vm->vcpus[1]->s3_wake = false;
	last_parks(vm);
	assert_false(vm->vcpus[0]->s3_wake || vm->vcpus[1]->s3_wake);
	/* not suspended: a wake event changes nothing */
	vm_s3_wake(vm);
	assert_false(vm->vcpus[0]->s3_wake || vm->vcpus[1]->s3_wake);
	free_vm(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wake_waits_for_every_vcpu),
		cmocka_unit_test(test_wake_with_all_parked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
