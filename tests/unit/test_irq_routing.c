/* vm/irq_routing.c's MSI routes against a "VM" whose KVM refuses every
 * routing table (the fd is /dev/null: each KVM_SET_GSI_ROUTING fails):
 * a refused update leaves the stored route as it was, or the entry KVM
 * would not take would fail every later commit, every device's. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "arch/arch.h"
#include "vm/vm.h"

static void test_refused_update_restored(void **state)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct irq_routing *rt = &vm->routing;
	int gsi = (int)arch_first_msi_gsi;

	(void)state;
	assert_non_null(vm);
	vm->vm_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(vm->vm_fd >= 0);
	irq_routing_init(rt);
	/* a route that KVM took before */
	rt->used[0] = true;
	rt->addr[0] = 0xfee00000;
	rt->data[0] = 0x41;
	rt->devid[0] = 8;
	assert_true(vm_msi_route(vm, gsi, 0x1000, 0x99, 9) < 0);
	assert_true(rt->used[0]);
	assert_int_equal(rt->addr[0], 0xfee00000);
	assert_int_equal(rt->data[0], 0x41);
	assert_int_equal(rt->devid[0], 8);
	/* a new one refused takes no slot */
	assert_true(vm_msi_route(vm, -1, 0xfee00000, 0x42, 8) < 0);
	assert_false(rt->used[1]);
	/* a route that does not exist is refused before KVM */
	assert_int_equal(vm_msi_route(vm, gsi + 5, 0xfee00000, 0, 0),
			 -EINVAL);
	irq_routing_destroy(rt);
	close(vm->vm_fd);
	free(vm);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_update_restored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
