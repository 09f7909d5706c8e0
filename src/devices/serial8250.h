/* 16550A UART model: private interface for unit tests. */
#ifndef CVISOR_DEVICES_SERIAL8250_H
#define CVISOR_DEVICES_SERIAL8250_H

#include <stddef.h>
#include <stdint.h>

struct device;

/* The chardev receive hook: bytes from the host side into the RX FIFO.
 * Returns how many fit. */
size_t ser8250_receive(struct device *dev, const uint8_t *buf, size_t len);

/* The register shift of a 16550 at a mem loc (`regshift`, default 0);
 * 0 for port I/O. The device tree's reg-shift (arch/arm64/fdt.c). */
struct vdev_config;
unsigned ser8250_reg_shift(const struct vdev_config *vc);

#endif
