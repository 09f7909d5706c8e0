/* PLACEHOLDER: replaced by the device helper. */
#include <stddef.h>
#include "devices/registry.h"

struct device *port80_create(void)
{
	return NULL;
}
