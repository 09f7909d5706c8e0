/* Hostile legacy devices: the CMOS RTC (indices past 127 and with the NMI
 * bit, impossible times, every value in the control registers), the i8042
 * (command and data garbage, commands whose data never comes, output
 * buffer overflow) and the ACPI power registers (every sleep request but
 * S5, every other value). The machine runs with `reboot exit`, so a reset
 * the attacks must not cause ends the run with status 34 instead of
 * looping. The reset requests themselves are hostile.c's `reset=`.
 */
#include "hostile.h"

#define RTC_IDX  0x70
#define RTC_DATA 0x71
#define KBD_DATA 0x60
#define KBD_CMD  0x64

static u8 cmos_rd(u8 idx)
{
	houtb(RTC_IDX, idx);
	return hinb(RTC_DATA);
}

static void cmos_wr(u8 idx, u8 v)
{
	houtb(RTC_IDX, idx);
	houtb(RTC_DATA, v);
}

static bool bcd_ok(u8 v, u8 max)
{
	return (v & 0xf) < 10 && (v >> 4) < 10 && (v >> 4) * 10 + (v & 0xf) <= max;
}

/* Sets 2024-06-15 12:15:30 (BCD, 24 h), reads it back while stopped and
 * again once running: the date must hold, every field valid BCD. */
static int cmos_check(void)
{
	static const u8 idx[] = { 0, 2, 4, 6, 7, 8, 9, 0x32 };
	static const u8 val[] = { 0x30, 0x15, 0x12, 0x07, 0x15, 0x06, 0x24, 0x20 };
	cmos_wr(0x0a, 0x26);
	cmos_wr(0x0b, 0x82);   /* SET, 24 h, BCD */
	for (u32 i = 0; i < 8; i++)
		cmos_wr(idx[i], val[i]);
	for (u32 i = 0; i < 8; i++)
		if (cmos_rd(idx[i]) != val[i])
			return hfail("cmos: register 0x%x reads 0x%x, set 0x%x while "
				     "stopped", idx[i], cmos_rd(idx[i]), val[i]);
	cmos_wr(0x0b, 0x02);
	(void)cmos_rd(0x0c);
	u8 sec = cmos_rd(0), min = cmos_rd(2), hour = cmos_rd(4);
	u8 day = cmos_rd(7), mon = cmos_rd(8), year = cmos_rd(9);
	if (!bcd_ok(sec, 59) || min != 0x15 || hour != 0x12 || day != 0x15 ||
	    mon != 0x06 || year != 0x24)
		return hfail("cmos: running clock reads %x-%x-%x %x:%x:%x", year,
			     mon, day, hour, min, sec);
	if (cmos_rd(0x0d) != 0x80)
		return hfail("cmos: register D 0x%x", cmos_rd(0x0d));
	/* CMOS RAM keeps what is written. */
	for (u32 i = 0x40; i < 0x80; i++)
		cmos_wr((u8)i, (u8)(i ^ 0xa5));
	for (u32 i = 0x40; i < 0x80; i++)
		if (cmos_rd((u8)i) != (u8)(i ^ 0xa5))
			return hfail("cmos: RAM byte 0x%x lost", i);
	return 0;
}

/* Every index 0-255 read, with and without the NMI bit; writes through
 * indices with bit 7 set land on index & 0x7f. */
int hostile_cmos_index(void)
{
	for (u32 i = 0; i < 256; i++) {
		houtb(RTC_IDX, (u8)i);
		(void)hinb(RTC_DATA);
		(void)hinb(RTC_IDX);
	}
	cmos_wr(0xc0, 0x77);   /* NMI bit | 0x40 */
	if (cmos_rd(0x40) != 0x77)
		return hfail("cmos: index 0xc0 did not reach RAM byte 0x40");
	for (u32 i = 0x8e; i < 0x100; i++)
		cmos_wr((u8)i, 0xee);
	return cmos_check();
}

/* Times that cannot exist, in BCD, binary and 12-hour mode, with the
 * clock restarted on them (the device must turn them into an offset and
 * back without trouble), and the divider stopped and reset. */
int hostile_cmos_bad_time(void)
{
	static const u8 modes[] = { 0x82, 0x86, 0x80, 0x84 };
	static const u8 junk[][8] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x99, 0x99, 0x25, 0x00, 0x00, 0x13, 0x99, 0x99 },
		{ 0x60, 0x60, 0x92, 0x08, 0x32, 0x00, 0x00, 0x00 },
		{ 0x00, 0x00, 0x80, 0x00, 0x31, 0x02, 0x23, 0x00 },
	};
	static const u8 idx[] = { 0, 2, 4, 6, 7, 8, 9, 0x32 };
	for (u32 m = 0; m < 4; m++) {
		for (u32 j = 0; j < 4; j++) {
			cmos_wr(0x0b, modes[m]);
			for (u32 i = 0; i < 8; i++)
				cmos_wr(idx[i], junk[j][i]);
			cmos_wr(0x0b, modes[m] & 0x7f);   /* run from it */
			for (u32 i = 0; i < 10; i++)
				(void)cmos_rd((u8)i);
			(void)cmos_rd(0x32);
			(void)cmos_rd(0x0c);
		}
	}
	static const u8 dv[] = { 0x70, 0x00, 0x60, 0x2f, 0x7f, 0x26 };
	for (u32 i = 0; i < 6; i++) {
		cmos_wr(0x0a, dv[i]);
		(void)cmos_rd(0);
		(void)cmos_rd(0x0a);
	}
	return cmos_check();
}

/* Every value in A and B (B with periodic, alarm and update interrupts:
 * IRQ 8 is masked at the IOAPIC, the device still runs its timer), and
 * writes to the read-only C and D. */
int hostile_cmos_registers(void)
{
	for (u32 v = 0; v < 256; v++) {
		cmos_wr(0x0a, (u8)v);
		cmos_wr(0x0b, (u8)v);
		(void)cmos_rd(0x0c);
	}
	cmos_wr(0x0c, 0xff);
	cmos_wr(0x0d, 0x00);
	cmos_wr(0x0b, 0x02);
	(void)cmos_rd(0x0c);
	return cmos_check();
}

/* Alarms that can never match (invalid BCD, 0x7f, binary 200) and
 * don't-care alarms (0xC0-0xFF) with every interrupt enabled at the
 * fastest periodic rate, flags read and left pending in turn. The RTC
 * timer runs on the event loop, which also serves virtio: a virtio
 * request afterwards shows that loop is alive. */
int hostile_cmos_alarm(void)
{
	static const u8 alarms[][3] = {
		{ 0x99, 0x99, 0x99 }, { 0x7f, 0x7f, 0x3f }, { 0xc8, 0xc8, 200 },
		{ 0xff, 0xff, 0xff }, { 0x60, 0xc0, 0x24 }, { 0x00, 0x00, 0xc0 },
	};
	static const u8 modes[] = { 0x72, 0x76, 0x70, 0x32 };
	for (u32 m = 0; m < 4; m++)
		for (u32 a = 0; a < 6; a++) {
			cmos_wr(0x0a, (u8)(0x20 | (a + 1)));   /* rates 1-6 */
			cmos_wr(0x01, alarms[a][0]);
			cmos_wr(0x03, alarms[a][1]);
			cmos_wr(0x05, alarms[a][2]);
			cmos_wr(0x0b, modes[m]);
			for (u32 i = 0; i < 20; i++)
				(void)cmos_rd(i & 1 ? 0x0c : 0x00);
		}
	cmos_wr(0x0b, 0x02);
	(void)cmos_rd(0x0c);
	struct hdev *h = hv_get(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	if (!h)
		return hfail("no virtio-blk on pci");
	return cmos_check() || hv_check(h);
}

/* ---- i8042 ---- */

static u32 kbd_drain(u8 *out, u32 max)
{
	u32 n = 0;
	for (u32 i = 0; i < 32 && (hinb(KBD_CMD) & 1); i++) {
		u8 b = hinb(KBD_DATA);
		if (out && n < max)
			out[n] = b;
		n++;
	}
	return n;
}

static int kbd_reply(const char *what, u8 want)
{
	u8 got[8] = { 0 };
	u32 n = kbd_drain(got, 8);
	if (n != 1 || got[0] != want)
		return hfail("i8042: %s: %u bytes (0x%x), expected 0x%x", what, n,
			     got[0], want);
	return 0;
}

/* Self-test, command byte round trip, keyboard echo, output port. */
static int kbd_check(void)
{
	kbd_drain(NULL, 0);
	houtb(KBD_CMD, 0xaa);
	if (kbd_reply("self-test", 0x55))
		return 1;
	houtb(KBD_CMD, 0x60);
	houtb(KBD_DATA, 0x65);
	houtb(KBD_CMD, 0x20);
	if (kbd_reply("command byte", 0x65))
		return 1;
	houtb(KBD_DATA, 0xee);
	if (kbd_reply("keyboard echo", 0xee))
		return 1;
	houtb(KBD_CMD, 0xd0);
	u8 out = 0;
	if (kbd_drain(&out, 1) != 1 || !(out & 1))
		return hfail("i8042: output port 0x%x", out);
	return 0;
}

/* Every controller command followed by a data byte with bit 0 set (so a
 * 0xD1 output-port write never pulls reset), except the pulse commands
 * that pulse the reset line (0xF0-0xFE even); then every data byte as a
 * keyboard command. */
int hostile_kbd_garbage(void)
{
	for (u32 c = 0; c < 256; c++) {
		if (c >= 0xf0 && !(c & 1))
			continue;
		houtb(KBD_CMD, (u8)c);
		houtb(KBD_DATA, 0xa5);
		kbd_drain(NULL, 0);
	}
	for (u32 v = 0; v < 256; v++) {
		houtb(KBD_DATA, (u8)v);
		(void)hinb(KBD_CMD);
	}
	kbd_drain(NULL, 0);
	return kbd_check();
}

/* Commands that expect data, followed by another command instead: the
 * data that comes after must not be taken as theirs. The dangerous one:
 * 0xD1 (write output port), then 0x20, then 0x00 on the data port; taken
 * as output port, 0x00 would reset the machine (status 34 here). */
int hostile_kbd_missing_data(void)
{
	static const u8 cmds[] = { 0x60, 0xd1, 0xd2, 0xd3, 0xd4 };
	for (u32 i = 0; i < 5; i++) {
		kbd_drain(NULL, 0);
		houtb(KBD_CMD, cmds[i]);
		houtb(KBD_CMD, 0x20);
		u8 ccb = 0;
		if (kbd_drain(&ccb, 1) != 1)
			return hfail("i8042: 0x20 after 0x%x gave no reply", cmds[i]);
		houtb(KBD_DATA, 0x00);
		kbd_drain(NULL, 0);
	}
	/* A keyboard command whose argument never comes. */
	houtb(KBD_DATA, 0xed);
	houtb(KBD_CMD, 0xaa);
	kbd_drain(NULL, 0);
	return kbd_check();
}

/* Twenty echo commands without reading: the 8-byte buffer keeps what
 * fits, in order. */
int hostile_kbd_obuf_overflow(void)
{
	u8 got[32];
	kbd_drain(NULL, 0);
	for (u32 i = 0; i < 20; i++)
		houtb(KBD_DATA, 0xee);
	u32 n = kbd_drain(got, 32);
	if (n == 0 || n > 16)
		return hfail("i8042: %u bytes after 20 echoes", n);
	for (u32 i = 0; i < n; i++)
		if (got[i] != 0xee)
			return hfail("i8042: byte %u is 0x%x", i, got[i]);
	hnote("i8042: %u of 20 replies kept", n);
	return kbd_check();
}

/* ---- ACPI power registers (0x600 sleep control, 0x601 sleep status,
 * 0x602 reset; the fixed hardware: 0x604 PM1 event, 0x608 PM1 control,
 * 0x60c PM timer, 0x610 GPE0) ---- */

/* SLP_EN (0x20) with SLP_TYP 5 (S5) or 4 (S4, handled as S5): power off;
 * with SLP_TYP 3: suspend to RAM (S3, the s3 workload's: no wake source
 * here, the VM would sleep for good). */
static bool sleeps(u32 v)
{
	u32 typ = (v >> 2) & 7;

	return (v & 0x20) && (typ == 5 || typ == 4 || typ == 3);
}

int hostile_acpi_pm(void)
{
	for (u32 v = 0; v < 256; v++) {
		if (sleeps(v))
			continue;
		houtb(0x600, (u8)v);
		houtb(0x601, (u8)v);
		if (v != 0x01)   /* RESET_VALUE */
			houtb(0x602, (u8)v);
		for (u16 p = 0x604; p < 0x614; p++)
			if (p != 0x609 || !sleeps(v))  /* PM1_CNT's high byte */
				houtb(p, (u8)v);
	}
	/* enables off, status bits cleared: the SCI goes down again */
	for (u16 p = 0x604; p < 0x614; p += 4) {
		houtb(p + 2, 0);
		houtb(p + 3, 0);
		houtb(p, 0xff);
		houtb(p + 1, 0xff);
	}
	for (u16 p = 0x600; p < 0x603; p++)
		if (hinb(p) != 0)
			return hfail("acpi pm port 0x%x reads 0x%x", p, hinb(p));
	write_str("hostile: still running after every sleep request but S3 "
		  "and S5\n");
	return 0;
}
