/* The ARM PrimeCell PL031 real-time clock (`vdev pl031`, Linux's
 * rtc-pl031, device tree `arm,pl031`): a 32-bit seconds counter with a
 * match (alarm) interrupt. */
#ifndef CVISOR_DEVICES_PL031_H
#define CVISOR_DEVICES_PL031_H

#include <stdint.h>

#include "devices/device.h"

#define PL031_DR    0x000    /* data: the counter (read only) */
#define PL031_MR    0x004    /* match */
#define PL031_LR    0x008    /* load: sets the counter */
#define PL031_CR    0x00c    /* control: bit 0 start (sticky) */
#define PL031_IMSC  0x010    /* interrupt mask set/clear */
#define PL031_RIS   0x014    /* raw interrupt status */
#define PL031_MIS   0x018    /* masked interrupt status */
#define PL031_ICR   0x01c    /* interrupt clear (write only) */
#define PL031_SIZE  0x1000

/* Tests: the host clock the counter follows (seconds since the epoch),
 * instead of CLOCK_REALTIME. */
void pl031_set_clock(struct device *dev, int64_t (*now)(void));

#endif
