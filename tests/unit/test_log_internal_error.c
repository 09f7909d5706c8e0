/* A KVM internal error explained: the mode in words and the hint for the
 * instruction (arch/x86/internal_error.c). */
#include <linux/kvm.h>
#include <string.h>

#include "unit.h"
#include "arch/x86/internal_error.h"

static void test_modes(void **state)
{
	assert_string_equal(x86_mode_words(0x10, 0, 0, 0), "real mode");
	assert_string_equal(x86_mode_words(0x11, 0, 0, 1),
			    "32-bit protected mode");
	assert_string_equal(x86_mode_words(0x11, 0, 0, 0),
			    "16-bit protected mode");
	assert_string_equal(x86_mode_words(0x80000011, 0x500, 1, 0),
			    "64-bit long mode");
	assert_string_equal(x86_mode_words(0x80000011, 0x500, 0, 1),
			    "32-bit compatibility mode");
}

static void test_hints(void **state)
{
	/* lock cmpxchg16b (%rdi) */
	static const uint8_t c16[] = { 0xf0, 0x48, 0x0f, 0xc7, 0x0f };
	/* cmpxchg8b (%edi) in 32-bit code */
	static const uint8_t c8[] = { 0x0f, 0xc7, 0x0f };
	/* mov %eax,(%rdi): nothing special */
	static const uint8_t mov[] = { 0x89, 0x07 };
	const char *h;

	h = x86_internal_error_hint(KVM_INTERNAL_ERROR_EMULATION, c16,
				    sizeof(c16), 1);
	assert_non_null(h);
	assert_non_null(strstr(h, "cmpxchg16b"));
	h = x86_internal_error_hint(KVM_INTERNAL_ERROR_EMULATION, c8,
				    sizeof(c8), 0);
	assert_non_null(strstr(h, "cmpxchg8b"));
	h = x86_internal_error_hint(KVM_INTERNAL_ERROR_EMULATION, mov,
				    sizeof(mov), 1);
	assert_non_null(strstr(h, "could not emulate"));
	h = x86_internal_error_hint(KVM_INTERNAL_ERROR_DELIVERY_EV, NULL, 0, 0);
	assert_non_null(strstr(h, "could not deliver"));
	/* no bytes at all: still a hint, no read past the end */
	assert_non_null(x86_internal_error_hint(KVM_INTERNAL_ERROR_EMULATION,
						NULL, 0, 1));
	assert_null(x86_internal_error_hint(99, c16, sizeof(c16), 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_hints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
