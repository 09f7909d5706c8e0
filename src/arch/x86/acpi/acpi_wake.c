/* The FACS waking vector (acpi_wake.h). Offsets from ACPI 6.5: RSDP
 * 5.2.5.3, the table header 5.2.6, FADT 5.2.9, FACS 5.2.10. */
#include <errno.h>
#include <string.h>

#include "arch/x86/acpi/acpi_wake.h"

#define HDR_LEN          36
#define MAX_TABLES       64      /* entries of the XSDT/RSDT looked at */
#define MAX_TABLE_LEN    (1u << 20)
#define RSDP_RSDT        16
#define RSDP_REVISION    15
#define RSDP_XSDT        24
#define RSDP_V2_LEN      36
#define FADT_FACS        36      /* FIRMWARE_CTRL, 32 bits */
#define FADT_X_FACS      132     /* X_FIRMWARE_CTRL, 64 bits */
#define FACS_MIN_LEN     64
#define FACS_VECTOR      12
#define FACS_X_VECTOR    24
#define FACS_VERSION     32
#define REAL_MODE_END    0x100000ull

static int rd(const struct guest_mem *m, uint64_t gpa, void *buf, size_t n)
{
	return guest_mem_read(m, gpa, buf, n);
}

/* The header of the table at a: signature sig and a sane length. */
static int table(const struct guest_mem *m, uint64_t a, const char *sig,
		 uint32_t *len)
{
	char s[4];

	if (!a || rd(m, a, s, 4) || rd(m, a + 4, len, 4))
		return -EFAULT;
	if (memcmp(s, sig, 4) || *len < HDR_LEN || *len > MAX_TABLE_LEN)
		return -EINVAL;
	return 0;
}

/* The FADT among the w-byte entries of the XSDT/RSDT at sdt. */
static int find_fadt(const struct guest_mem *m, uint64_t sdt, unsigned w,
		     uint64_t *fadt, uint32_t *flen)
{
	uint32_t len;
	int err = table(m, sdt, w == 8 ? "XSDT" : "RSDT", &len);

	if (err)
		return err;
	for (uint32_t i = 0; i < (len - HDR_LEN) / w && i < MAX_TABLES; i++) {
		uint64_t e = 0;

		if (rd(m, sdt + HDR_LEN + (uint64_t)i * w, &e, w))
			return -EFAULT;
		if (!table(m, e, "FACP", flen)) {
			*fadt = e;
			return 0;
		}
	}
	return -EINVAL;
}

int x86_acpi_find_facs(const struct guest_mem *m, uint64_t rsdp,
		       uint64_t *facs)
{
	char sig[8];
	uint8_t rev = 0;
	uint32_t rsdt = 0, flen, f32 = 0;
	uint64_t xsdt = 0, fadt = 0, f64 = 0;
	int err;

	if (rd(m, rsdp, sig, 8) || rd(m, rsdp + RSDP_REVISION, &rev, 1) ||
	    rd(m, rsdp + RSDP_RSDT, &rsdt, 4))
		return -EFAULT;
	if (memcmp(sig, "RSD PTR ", 8))
		return -EINVAL;
	if (rev >= 2 && rd(m, rsdp + RSDP_XSDT, &xsdt, 8))
		return -EFAULT;
	err = xsdt ? find_fadt(m, xsdt, 8, &fadt, &flen) : -EINVAL;
	if (err)
		err = find_fadt(m, rsdt, 4, &fadt, &flen);
	if (err)
		return err;
	if (rd(m, fadt + FADT_FACS, &f32, 4))
		return -EFAULT;
	if (flen >= FADT_X_FACS + 8 && rd(m, fadt + FADT_X_FACS, &f64, 8))
		return -EFAULT;
	*facs = f64 ? f64 : f32;
	return *facs ? 0 : -EINVAL;
}

int x86_acpi_wake_decode(const struct guest_mem *m, uint64_t facs,
			 struct x86_acpi_wake *w)
{
	uint32_t len, vec;
	uint64_t xvec = 0;
	uint8_t ver;
	char sig[4];

	memset(w, 0, sizeof(*w));
	w->facs = facs;
	if (rd(m, facs, sig, 4) || rd(m, facs + 4, &len, 4) ||
	    rd(m, facs + FACS_VECTOR, &vec, 4) ||
	    rd(m, facs + FACS_VERSION, &ver, 1))
		return -EFAULT;
	if (memcmp(sig, "FACS", 4) || len < FACS_MIN_LEN)
		return -EINVAL;
	if (ver >= 1 && rd(m, facs + FACS_X_VECTOR, &xvec, 8))
		return -EFAULT;
	if (xvec) {
		if (xvec > UINT32_MAX)
			return -EINVAL;
		w->prot32 = true;
		w->ip = (uint32_t)xvec;
		return 0;
	}
	if (!vec || vec >= REAL_MODE_END)
		return -EINVAL;
	w->cs = (uint16_t)(vec >> 4);
	w->ip = vec & 0xf;
	return 0;
}
