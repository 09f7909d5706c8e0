/* Ring 3 of the test guest: reads the boot information, parses the command
 * line and runs one workload. Runs at native speed on the target KVM, so
 * loops and parsing belong here rather than in ring 0. */
#include "bootinfo.h"

void user_main(void);

#define MAX_ARGS 16
static char cmdline[256];
static char *args[MAX_ARGS];
static int nargs;

void write_str(const char *s)
{
	svc(SVC_WRITE, (long)s, (long)strlen(s), 0);
}

int printf(const char *f, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, f);
	int n = vfmt(buf, sizeof(buf), f, ap);
	va_end(ap);
	svc(SVC_WRITE, (long)buf, n, 0);
	return n;
}

void exit(int status)
{
	svc(SVC_EXIT, status, 0, 0);
	for (;;)
		;
}

const struct hvm_start_info *pvh_info(void)
{
	const struct hvm_start_info *si = phys(boot_info);
	if (boot_proto != BOOT_PVH || si->magic != HVM_START_MAGIC)
		return NULL;
	return si;
}

static const struct mb_info *mb_info(void)
{
	if (boot_proto != BOOT_MULTIBOOT || boot_magic != MB_BOOT_MAGIC)
		return NULL;
	return phys(boot_info);
}

/* Usable RAM in bytes from the boot memory map (or mem_upper). */
static u64 memory_size(void)
{
	u64 total = 0;
	const struct hvm_start_info *si = pvh_info();
	const struct mb_info *mb = mb_info();
	if (si && si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_entry *e = phys(si->memmap_paddr);
		for (u32 i = 0; i < si->memmap_entries; i++)
			if (e[i].type == 1)
				total += e[i].size;
	} else if (mb && (mb->flags & MB_INFO_MMAP)) {
		u64 p = mb->mmap_addr, end = p + mb->mmap_length;
		while (p < end) {
			const struct mb_mmap_entry *e = phys(p);
			if (e->type == 1)
				total += e->len;
			p += e->size + 4;
		}
	} else if (mb && (mb->flags & MB_INFO_MEM)) {
		total = ((u64)mb->mem_upper + 1024) << 10;
	}
	return total;
}

/* End of the usable RAM block that holds the image (at 1 MiB), capped at
 * 3 GiB: only the low 4 GiB are mapped, and the top GiB is the device hole. */
static u64 ram_top(void)
{
	u64 top = 0;
	const struct hvm_start_info *si = pvh_info();
	const struct mb_info *mb = mb_info();
	if (si && si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_entry *e = phys(si->memmap_paddr);
		for (u32 i = 0; i < si->memmap_entries; i++)
			if (e[i].type == 1 && e[i].addr <= 0x100000 &&
			    e[i].addr + e[i].size > 0x100000)
				top = e[i].addr + e[i].size;
	} else if (mb && (mb->flags & MB_INFO_MMAP)) {
		u64 p = mb->mmap_addr, end = p + mb->mmap_length;
		while (p < end) {
			const struct mb_mmap_entry *e = phys(p);
			if (e->type == 1 && e->addr <= 0x100000 &&
			    e->addr + e->len > 0x100000)
				top = e->addr + e->len;
			p += e->size + 4;
		}
	} else if (mb && (mb->flags & MB_INFO_MEM)) {
		top = ((u64)mb->mem_upper + 1024) << 10;
	}
	return top > 0xC0000000ull ? 0xC0000000ull : top;
}

/* A bump allocator over the RAM above the image, for virtqueues and I/O
 * buffers (physical = virtual, so their addresses go to devices as is).
 * Starts at the 2 MiB boundary after the image: the boot structures the
 * loaders leave (start_info, multiboot info, command line) are below
 * 1 MiB or right after the image. Memory is zeroed on allocation. */
extern char image_end[];
static u64 heap_next, heap_end;

static void heap_init(void)
{
	heap_next = ((u64)image_end + 0x1fffff) & ~0x1fffffull;
	heap_end = ram_top();
}

u64 heap_free_bytes(void)
{
	return heap_end > heap_next ? heap_end - heap_next : 0;
}

void *heap_alloc(u64 size, u64 align)
{
	u64 p = (heap_next + align - 1) & ~(align - 1);
	if (p + size > heap_end || p + size < p)
		return NULL;
	heap_next = p + size;
	/* Word stores: ring 3 is native, but no reason to be slow. */
	u64 *w = phys(p);
	for (u64 i = 0; i < size / 8; i++)
		w[i] = 0;
	memset((u8 *)phys(p) + (size & ~7ull), 0, size & 7);
	return phys(p);
}

static void parse_cmdline(void)
{
	const char *src = NULL;
	const struct hvm_start_info *si = pvh_info();
	const struct mb_info *mb = mb_info();
	if (si && si->cmdline_paddr)
		src = phys(si->cmdline_paddr);
	else if (mb && (mb->flags & MB_INFO_CMDLINE) && mb->cmdline)
		src = phys(mb->cmdline);
	if (src) {
		size_t n = 0;
		while (src[n] && n < sizeof(cmdline) - 1)
			n++;
		memcpy(cmdline, src, n);
		cmdline[n] = 0;
	}
	char *p = cmdline;
	while (*p && nargs < MAX_ARGS) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			*p++ = 0;
		if (!*p)
			break;
		args[nargs++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
	}
	/* Multiboot loaders (GRUB, QEMU, cvisor) put the kernel's path first:
	 * argv[0], not a workload. */
	if (boot_proto == BOOT_MULTIBOOT && nargs) {
		for (int i = 1; i < nargs; i++)
			args[i - 1] = args[i];
		nargs--;
	}
}

const char *param(const char *key)
{
	size_t kl = strlen(key);
	for (int i = 1; i < nargs; i++)
		if (!strncmp(args[i], key, kl) && args[i][kl] == '=')
			return args[i] + kl + 1;
	return NULL;
}

/* TSC frequency: tsc_khz= param, CPUID 0x15/0x16, the KVM/VMware timing
 * leaf 0x40000010, then PIT channel 2 in ring 0; 0 if none works. */
u64 tsc_khz(const char **source)
{
	static u64 cached;
	static const char *cached_src;
	u32 r[4];
	const char *src = "param";
	u64 khz = param_u64("tsc_khz", 0);

	if (cached) {
		khz = cached;
		src = cached_src;
		goto out;
	}
	cpuid(0, 0, r);
	u32 max = r[0];
	if (!khz && max >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2]) {
			khz = (u64)r[2] * r[1] / r[0] / 1000;
			src = "cpuid15";
		}
	}
	if (!khz && max >= 0x16) {
		cpuid(0x16, 0, r);
		if (r[0] & 0xffff) {
			khz = (u64)(r[0] & 0xffff) * 1000;
			src = "cpuid16";
		}
	}
	if (!khz) {
		cpuid(1, 0, r);
		if (r[2] & (1u << 31)) {   /* hypervisor present */
			cpuid(0x40000000, 0, r);
			if (r[0] >= 0x40000010) {
				cpuid(0x40000010, 0, r);
				if (r[0]) {
					khz = r[0];
					src = "cpuid40000010";
				}
			}
		}
	}
	if (!khz) {
		u64 t = (u64)svc(SVC_PIT_TSC, 0, 0, 0);
		if (t >= 100000) {   /* < 10 MHz is not a real answer */
			khz = t / 10;
			src = "pit";
		}
	}
	if (!khz) {
		khz = 1000000;
		src = "guess";
	}
	cached = khz;
	cached_src = src;
out:
	if (source)
		*source = src;
	return khz;
}

/* Software-enable the local APIC (SVR bit 8, spurious vector 0xff) and
 * accept every priority. Plain MMIO, fine from ring 3. */
void lapic_enable(void)
{
	mmio_write32(LAPIC_BASE + 0x80, 0);   /* TPR */
	mmio_write32(LAPIC_BASE + 0xf0, 0x100 | VEC_SPURIOUS);
}

static int wl_hello(void)
{
	write_str("cvisor test guest: hello from ring 3\n");
	printf("RESULT hello ok=1\n");
	return 0;
}

static int wl_exit(void)
{
	u64 status = param_u64("status", 0);
	printf("RESULT exit status=%lu\n", status);
	return (int)status;
}

static int wl_triple_fault(void)
{
	write_str("triple-fault: loading an empty IDT and trapping\n");
	svc(SVC_TRIPLE_FAULT, 0, 0, 0);
	/* Only reached if the CPU survived, which is a failure. */
	printf("RESULT triple-fault survived=1\n");
	return 1;
}

/* Touch an unmapped address (only the low 4 GiB are mapped) so the
 * exception path is exercised: ring 0 prints the vector and exits with
 * EXIT_EXCEPTION. */
static int wl_fault(void)
{
	u64 addr = param_u64("addr", 1ull << 40);
	write_str("fault: reading an unmapped address\n");
	(void)*(volatile u32 *)phys(addr);
	printf("RESULT fault survived=1\n");
	return 1;
}

/* Echo bytes from the 16550 until '.', count= bytes, or timeout_ms=. */
static int wl_echo(void)
{
	u64 count = param_u64("count", 0);
	u64 deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 10000));
	u64 bytes = 0;
	bool done = false;
	while (!done && rdtsc() < deadline) {
		long c = svc(SVC_GETC, 1000, 0, 0);
		if (c < 0)
			continue;
		char ch = (char)c;
		svc(SVC_WRITE, (long)&ch, 1, 0);
		bytes++;
		done = ch == '.' || (count && bytes >= count);
	}
	printf("\nRESULT echo bytes=%lu\n", bytes);
	return done ? 0 : 1;
}

/* COM1 receive interrupt through IOAPIC pin irq= (default 4): the same
 * LAPIC/IOAPIC/IF/EOI path the pl011 workload uses, but testable under
 * QEMU. Needs input on COM1; waits timeout_ms= for one interrupt. */
static int wl_uart_irq(void)
{
	u32 pin = (u32)param_u64("irq", 4);
	if (pin > ioapic_pins()) {
		printf("uart-irq: irq %u beyond IOAPIC pins 0..%u\n", pin,
		       ioapic_pins());
		return 2;
	}
	lapic_enable();
	/* Edge: the 16550 line stays up until RBR is read, and the handler
	 * reads it before the EOI anyway. */
	ioapic_route(pin, VEC_UART, false);
	svc(SVC_OUTB, COM1 + 4, 0x0b, 0);   /* MCR: DTR, RTS, OUT2 (IRQ gate) */
	svc(SVC_OUTB, COM1 + 1, 0x01, 0);   /* IER: received data */
	svc(SVC_IRQ, 1, 0, 0);
	u64 end = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 10000));
	while (!uart_irq_count && rdtsc() < end)
		cpu_relax();
	svc(SVC_IRQ, 0, 0, 0);
	svc(SVC_OUTB, COM1 + 1, 0x00, 0);
	ioapic_mask(pin);
	printf("RESULT uart-irq irqs=%u bytes=%u\n", uart_irq_count,
	       uart_irq_bytes);
	return uart_irq_count ? 0 : 1;
}

static const struct {
	const char *name;
	int (*run)(void);
} workloads[] = {
	{ "hello", wl_hello },
	{ "smp", wl_smp },
	{ "pl011", wl_pl011 },
	{ "mmio-latency", wl_mmio_latency },
	{ "triple-fault", wl_triple_fault },
	{ "exit", wl_exit },
	{ "echo", wl_echo },
	{ "fault", wl_fault },
	{ "uart-irq", wl_uart_irq },
	{ "blk-verify", wl_blk_verify },
	{ "scsi-verify", wl_scsi_verify },
	{ "scsi-hostile", wl_scsi_hostile },
	{ "scsi-bench", wl_scsi_bench },
	{ "blk-bench", wl_blk_bench },
	{ "blk-crash", wl_blk_crash },
	{ "blk-fault", wl_blk_fault },
	{ "console-echo", wl_console_echo },
	{ "console-flood", wl_console_flood },
	{ "rng", wl_rng },
	{ "hostile", wl_hostile },
	{ "net-dhcp", wl_net_dhcp },
	{ "net-ping", wl_net_ping },
	{ "net-udp-echo", wl_net_udp_echo },
	{ "net-peer", wl_net_peer },
	{ "net-tcp", wl_net_tcp },
	{ "net-tx-bench", wl_net_tx_bench },
	{ "net-rx-bench", wl_net_rx_bench },
	{ "net-dns", wl_net_dns },
	{ "fw-cfg", wl_fw_cfg },
	{ "pc-testdev", wl_pc_testdev },
	{ "edu", wl_edu },
	{ "e1000e-msix", wl_e1000e_msix },
	{ "cpuid", wl_cpuid },
	{ "pmtimer", wl_pmtimer },
	{ "s3", wl_s3 },
};

static int run_workload(const char *name)
{
	for (size_t i = 0; i < sizeof(workloads) / sizeof(*workloads); i++) {
		if (!strcmp(name, workloads[i].name))
			return workloads[i].run();
	}
	printf("testguest: unknown workload '%s'\n", name);
	return 1;
}

void user_main(void)
{
	parse_cmdline();
	heap_init();
	const char *how = boot_proto == BOOT_PVH ? "pvh" :
			  boot_proto == BOOT_MULTIBOOT ? "multiboot" : "unknown";
	if ((boot_proto == BOOT_PVH && !pvh_info()) ||
	    (boot_proto == BOOT_MULTIBOOT && !mb_info()))
		how = boot_proto == BOOT_PVH ? "pvh (bad start_info magic)"
					     : "multiboot (bad magic)";
	printf("testguest: booted via %s mem=%luMiB\n", how, memory_size() >> 20);

	/* "a+b": the workloads in turn (with the same parameters) until one
	 * fails, so one VM run can show several: examples/net.qvmconf's
	 * DHCP lease, then its UDP echo. */
	char *name = nargs ? args[0] : "hello";
	int status = 0;
	while (name && !status) {
		char *next = name;
		while (*next && *next != '+')
			next++;
		next = *next ? (*next = 0, next + 1) : NULL;
		status = run_workload(name);
		name = next;
	}
	exit(status);
}
