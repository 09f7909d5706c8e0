/* ACPI S3 is an x86 platform's (the acpi-pm device): an arm64 VM never
 * suspends, so no vCPU of it ever wakes. <linux/kvm.h> keeps this file
 * on the arm64 side of the build (Makefile's KVM_SIDE). */
#include <errno.h>
#include <linux/kvm.h>

#include "arch/arch.h"

int arch_vcpu_s3_wake(struct vcpu *v)
{
	(void)v;
	return -ENOTSUP;
}
