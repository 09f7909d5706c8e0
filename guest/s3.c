/* s3: ACPI suspend to RAM and back, as an OS does it. The FADT (found
 * through the RSDP as pmtimer.c does) gives PM1a's event and control
 * blocks and the FACS; the workload puts a real-mode waking stub at
 * STUB_ADDR and a marker at MAGIC_ADDR, writes the stub's address into
 * the FACS's Firmware_Waking_Vector, sets the RTC alarm secs= (default 1,
 * 0-30) seconds ahead with AIE, enables RTC_EN in PM1_EN, clears PM1_STS
 * and writes SLP_TYP 3 | SLP_EN to PM1a_CNT.
 *
 * secs=0 sets no alarm and leaves RTC_EN clear: the VM sleeps until
 * the operator wakes it (`wakeup`, `powerdown`), and the stub does not
 * ask for RTC_STS.
 *
 * The VM wakes at the alarm: the boot vCPU starts over in real mode at
 * the stub (CS:IP = 0700:0000), which checks PM1_STS's WAK_STS and
 * RTC_STS and that the marker survived, prints
 *   RESULT s3 woke=1 code=C
 * on COM1 (C: 0 all good, 1 no WAK_STS, 2 no RTC_STS, 3 memory lost) and
 * writes C to debug-exit (mode plain: the exit status). The ring-3 code
 * never runs again; reaching the end of it means the VM did not sleep:
 * "RESULT s3 woke=0", exit 4.
 *
 * vector=0 writes no waking vector (the hostile case: the VM must end as
 * a triple fault does, never run garbage or crash the host). */
#include "bootinfo.h"

#define STUB_ADDR   0x7000
#define MAGIC_ADDR  0x6000
#define MAGIC       0x53335353u     /* "SS3S" */
#define RTC_IDX     0x70
#define RTC_DATA    0x71
#define SLP_TYP_S3  3u
#define SLP_EN      (1u << 13)
#define SCI_EN      1u
#define RTC_EN      (1u << 10)

/* The waking stub, 16-bit real mode, CS = STUB_ADDR >> 4. PM1a_EVT's
 * port is patched in at STUB_PM1_PORT; the magic at STUB_MAGIC. */
#define STUB_PM1_PORT 0x06
#define STUB_MAGIC    0x20
#define STUB_RTC_JZ   0x17
#define STUB_MSG      0x4b
static const u8 stub[] = {
	0xfa,                         /* 00 cli */
	0x31, 0xc0,                   /* 01 xor ax, ax */
	0x8e, 0xd8,                   /* 03 mov ds, ax */
	0xba, 0x00, 0x00,             /* 05 mov dx, PM1a_EVT */
	0xed,                         /* 08 in ax, dx */
	0x89, 0xc3,                   /* 09 mov bx, ax */
	0xb1, '1',                    /* 0b mov cl, '1' */
	0xf6, 0xc7, 0x80,             /* 0d test bh, 0x80 (WAK_STS) */
	0x74, 0x16,                   /* 10 jz report */
	0xb1, '2',                    /* 12 mov cl, '2' */
	0xf6, 0xc7, 0x04,             /* 14 test bh, 0x04 (RTC_STS) */
	0x74, 0x0f,                   /* 17 jz report (STUB_RTC_JZ) */
	0xb1, '3',                    /* 19 mov cl, '3' */
	0x66, 0x81, 0x3e, MAGIC_ADDR & 0xff, MAGIC_ADDR >> 8,
	0, 0, 0, 0,                   /* 1b cmp dword [MAGIC_ADDR], MAGIC */
	0x75, 0x02,                   /* 24 jnz report */
	0xb1, '0',                    /* 26 mov cl, '0' */
	0x8c, 0xc8,                   /* 28 report: mov ax, cs */
	0x8e, 0xd8,                   /* 2a mov ds, ax */
	0xbe, STUB_MSG, 0x00,         /* 2c mov si, msg */
	0xba, 0xf8, 0x03,             /* 2f mov dx, 0x3f8 (COM1) */
	0xac,                         /* 32 loop: lodsb */
	0x84, 0xc0,                   /* 33 test al, al */
	0x74, 0x09,                   /* 35 jz done */
	0x3c, '#',                    /* 37 cmp al, '#' */
	0x75, 0x02,                   /* 39 jne emit */
	0x88, 0xc8,                   /* 3b mov al, cl */
	0xee,                         /* 3d emit: out dx, al */
	0xeb, 0xf2,                   /* 3e jmp loop */
	0x88, 0xc8,                   /* 40 done: mov al, cl */
	0x2c, '0',                    /* 42 sub al, '0' */
	0xba, DEBUG_EXIT, 0x00,       /* 44 mov dx, DEBUG_EXIT */
	0xee,                         /* 47 out dx, al */
	0xf4,                         /* 48 hlt */
	0xeb, 0xfd,                   /* 49 jmp hlt */
	'R', 'E', 'S', 'U', 'L', 'T', ' ', 's', '3', ' ', 'w', 'o', 'k',
	'e', '=', '1', ' ', 'c', 'o', 'd', 'e', '=', '#', '\n', 0,
};
_Static_assert(sizeof(stub) == STUB_MSG + 25, "the stub's layout");

/* The FADT through the RSDP in the BIOS area and the RSDT, or 0. */
static u64 find_fadt(void)
{
	for (u64 a = 0xe0000; a < 0x100000; a += 16) {
		if (memcmp(phys(a), "RSD PTR ", 8) || byte_sum(phys(a), 20))
			continue;
		u64 rsdt = mmio_read32(a + 16);
		if (!rsdt || rsdt >= 0x100000 || memcmp(phys(rsdt), "RSDT", 4))
			return 0;
		u32 n = (mmio_read32(rsdt + 4) - 36) / 4;
		for (u32 i = 0; i < n && i < 16; i++) {
			u64 t = mmio_read32(rsdt + 36 + 4 * i);
			if (t && t < 0x100000 && !memcmp(phys(t), "FACP", 4))
				return t;
		}
		return 0;
	}
	return 0;
}

static u8 cmos_rd(u8 idx)
{
	svc(SVC_OUTB, RTC_IDX, idx, 0);
	return (u8)svc(SVC_INB, RTC_DATA, 0, 0);
}

static void cmos_wr(u8 idx, u8 v)
{
	svc(SVC_OUTB, RTC_IDX, idx, 0);
	svc(SVC_OUTB, RTC_DATA, v, 0);
}

/* The alarm secs seconds from now, minutes and hours "don't care"
 * (0xC0-0xFF): it fires at the next matching second. */
static void set_alarm(u64 secs)
{
	u8 b = cmos_rd(0x0b);
	bool bin = b & 0x04;
	u8 s = cmos_rd(0x00);
	unsigned now = bin ? s : (s >> 4) * 10 + (s & 0xf);
	unsigned at = (now + (unsigned)secs) % 60;

	cmos_wr(0x01, bin ? (u8)at : (u8)((at / 10) << 4 | at % 10));
	cmos_wr(0x03, 0xff);
	cmos_wr(0x05, 0xff);
	cmos_rd(0x0c);                         /* clear pending flags */
	cmos_wr(0x0b, b | 0x20);               /* AIE */
}

int wl_s3(void)
{
	u64 fadt = find_fadt(), secs = param_u64("secs", 1);
	bool vector = param_u64("vector", 1);

	if (!fadt) {
		printf("s3: no FADT\n");
		return 2;
	}
	u16 evt = (u16)mmio_read32(fadt + 56), cnt = (u16)mmio_read32(fadt + 64);
	u64 facs = mmio_read32(fadt + 36);
	if (!evt || !cnt || !facs || memcmp(phys(facs), "FACS", 4) ||
	    secs > 30) {
		printf("s3: no PM1a blocks or FACS (evt 0x%x cnt 0x%x facs "
		       "0x%lx) or bad secs=\n", evt, cnt, facs);
		return 2;
	}
	memcpy(phys(STUB_ADDR), stub, sizeof(stub));
	mmio_write8(STUB_ADDR + STUB_PM1_PORT, (u8)evt);
	mmio_write8(STUB_ADDR + STUB_PM1_PORT + 1, (u8)(evt >> 8));
	mmio_write32(STUB_ADDR + STUB_MAGIC, MAGIC);
	mmio_write32(MAGIC_ADDR, MAGIC);
	if (!secs) {                          /* no RTC_STS to expect */
		mmio_write8(STUB_ADDR + STUB_RTC_JZ, 0x90);
		mmio_write8(STUB_ADDR + STUB_RTC_JZ + 1, 0x90);
	}
	mmio_write32(facs + 12, vector ? STUB_ADDR : 0);
	printf("s3: FACS 0x%lx vector 0x%x (read back 0x%x), PM1a 0x%x/0x%x, "
	       "alarm in %lu s\n", facs, vector ? STUB_ADDR : 0,
	       mmio_read32(facs + 12), evt, cnt, secs);
	if (secs) {
		set_alarm(secs);
		svc(SVC_OUT, evt + 2, 2, RTC_EN);       /* PM1_EN */
	}
	svc(SVC_OUT, evt, 2, 0xffff);                   /* PM1_STS: clear */
	svc(SVC_OUT, cnt, 2, SLP_TYP_S3 << 10 | SLP_EN | SCI_EN);
	/* Asleep and woken in the stub: never here. */
	for (u64 t0 = rdtsc(); rdtsc() - t0 < 20000000000ull; )
		cpu_relax();
	printf("RESULT s3 woke=0\n");
	return 4;
}
