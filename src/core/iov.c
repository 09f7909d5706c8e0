#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/iov.h"
#include "core/util.h"

/* One walk for both directions: skip off bytes, then copy. */
static size_t iov_copy(const struct iovec *iov, unsigned cnt, size_t off,
		       uint8_t *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < cnt && done < len; i++) {
		uint8_t *base = iov[i].iov_base;
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = MIN(iov[i].iov_len - off, len - done);
		if (to_iov)
			memcpy(base + off, buf + done, n);
		else
			memcpy(buf + done, base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t off,
		    const void *buf, size_t len)
{
	return iov_copy(iov, cnt, off, (uint8_t *)buf, len, true);
}

size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t off,
		  void *buf, size_t len)
{
	return iov_copy(iov, cnt, off, buf, len, false);
}
