/* Copying between a flat buffer and an iovec (the guest's scattered
 * buffers, already bounds-checked by the virtqueue walker). */
#ifndef CVISOR_CORE_IOV_H
#define CVISOR_CORE_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Copy up to len bytes of buf into iov[0..cnt) starting off bytes in;
 * returns the bytes copied (fewer when the iovec ends first). */
size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t off,
		    const void *buf, size_t len);
/* The other way: up to len bytes from iov, starting off bytes in. */
size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t off,
		  void *buf, size_t len);

#endif
