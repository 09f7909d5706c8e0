/* ARM PrimeCell PL011 UART model: private interface for unit tests. */
#ifndef CVISOR_DEVICES_PL011_H
#define CVISOR_DEVICES_PL011_H

#include <stddef.h>
#include <stdint.h>

struct device;

/* The chardev receive hook: host bytes into the RX FIFO; returns how many
 * fit (0 while the receiver is disabled). */
size_t pl011_receive(struct device *dev, const uint8_t *buf, size_t len);

#endif
