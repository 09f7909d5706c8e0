/* bare_kvm: the smallest KVM program that can run the test guest, used by
 * the benchmarks as the lower limit for cvisor. It does only what the guest
 * needs: one RAM slot, the in-kernel irqchip, a PVH entry, a write-only 16550
 * at 0x3f8 (LSR always ready), debug-exit at 0xf4 and an MMIO sink.
 *
 *   bare_kvm [-m MiB] [-c CMDLINE] guest.elf
 *
 * It deliberately shares no code with cvisor: it is the yardstick.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define START_INFO 0x6000
#define MEMMAP     0x6100
#define CMDLINE    0x7000

static void die(const char *what)
{
	perror(what);
	exit(64);
}

static uint8_t *ram;
static uint64_t ram_size;

/* CVISOR_PHASES=FILE: the same phase stamps as cvisor's (src/vm/
 * vm_phases.h), "bare PHASE MS" from BENCH_T0_NS, appended at exit. */
static struct { const char *name; uint64_t ns; } phases[16];
static unsigned nr_phases;

static void phase(const char *name)
{
	struct timespec ts;

	if (nr_phases < 16) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		phases[nr_phases].name = name;
		phases[nr_phases++].ns = (uint64_t)ts.tv_sec * 1000000000ull +
					 (uint64_t)ts.tv_nsec;
	}
}

static void phases_write(void)
{
	const char *path = getenv("CVISOR_PHASES");
	const char *t0 = getenv("BENCH_T0_NS");
	uint64_t base = t0 ? strtoull(t0, NULL, 10) : phases[0].ns;
	FILE *f;

	if (!path || !*path || !(f = fopen(path, "a")))
		return;
	phase("teardown");
	for (unsigned i = 0; i < nr_phases; i++)
		fprintf(f, "bare %s %.3f\n", phases[i].name,
			(double)(phases[i].ns - base) / 1e6);
	fclose(f);
}

/* Load PT_LOADs, return the PVH entry (XEN_ELFNOTE_PHYS32_ENTRY). */
static uint32_t load_elf(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	uint32_t entry = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	uint8_t *f = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f == MAP_FAILED)
		die("mmap");
	Elf32_Ehdr *eh = (Elf32_Ehdr *)f;
	if ((size_t)st.st_size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, 4) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS32 ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) >
	    (uint64_t)st.st_size) {
		fprintf(stderr, "%s: not an ELF32 image\n", path);
		exit(65);
	}
	for (int i = 0; i < eh->e_phnum; i++) {
		Elf32_Phdr *ph = (Elf32_Phdr *)(f + eh->e_phoff) + i;
		if ((uint64_t)ph->p_offset + ph->p_filesz > (uint64_t)st.st_size)
			exit(65);
		if (ph->p_type == PT_LOAD) {
			if ((uint64_t)ph->p_paddr + ph->p_memsz > ram_size)
				exit(65);
			memcpy(ram + ph->p_paddr, f + ph->p_offset, ph->p_filesz);
		} else if (ph->p_type == PT_NOTE) {
			uint8_t *n = f + ph->p_offset, *end = n + ph->p_filesz;
			while (n + 12 <= end) {
				uint32_t *h = (uint32_t *)n;
				uint8_t *desc = n + 12 + ((h[0] + 3) & ~3u);
				if (h[2] == 18 && h[0] == 4 && !memcmp(n + 12, "Xen", 4))
					memcpy(&entry, desc, 4);
				n = desc + ((h[1] + 3) & ~3u);
			}
		}
	}
	munmap(f, st.st_size);
	close(fd);
	if (!entry) {
		fprintf(stderr, "%s: no PVH entry note\n", path);
		exit(65);
	}
	return entry;
}

static void write_start_info(const char *cmdline)
{
	uint32_t *si = (uint32_t *)(ram + START_INFO);
	uint64_t *mm = (uint64_t *)(ram + MEMMAP);

	snprintf((char *)ram + CMDLINE, 4096, "%s", cmdline);
	si[0] = 0x336ec578;            /* magic */
	si[1] = 1;                     /* version */
	*(uint64_t *)(si + 6) = CMDLINE;   /* cmdline_paddr */
	*(uint64_t *)(si + 10) = MEMMAP;   /* memmap_paddr */
	si[12] = 2;                        /* memmap_entries */
	mm[0] = 0; mm[1] = 0xa0000; mm[2] = 1;
	mm[3] = 0x100000; mm[4] = ram_size - 0x100000; mm[5] = 1;
}

static void setup_cpu(int kvm, int vcpu, uint32_t entry)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = entry, .rbx = START_INFO, .rflags = 2 };
	struct kvm_segment seg = { .limit = 0xffffffff, .selector = 0x10,
				   .type = 0xb, .present = 1, .db = 1, .s = 1,
				   .g = 1 };
	struct { struct kvm_cpuid2 c; struct kvm_cpuid_entry2 e[256]; } id =
		{ .c.nent = 256 };

	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &id) < 0 ||
	    ioctl(vcpu, KVM_SET_CPUID2, &id) < 0)
		die("cpuid");
	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	s.cs = seg;
	seg.type = 3;
	seg.selector = 0x18;
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	s.cr0 = 0x11;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0 || ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_REGS");
}

static int run(int vcpu, struct kvm_run *run)
{
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_IO) {
			uint8_t *d = (uint8_t *)run + run->io.data_offset;
			if (run->io.direction == KVM_EXIT_IO_OUT) {
				if (run->io.port == 0x3f8)
					fwrite(d, 1, run->io.count, stdout);
				else if (run->io.port == 0xf4)
					return ((d[0] << 1) | 1) & 0xff;
			} else {
				memset(d, run->io.port == 0x3fd ? 0x60 : 0xff,
				       run->io.size * run->io.count);
			}
		} else if (run->exit_reason == KVM_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, run->mmio.len);
		} else {
			fprintf(stderr, "exit reason %u\n", run->exit_reason);
			return 32;
		}
	}
}

int main(int argc, char **argv)
{
	const char *cmdline = "hello";
	int opt;

	phase("main");
	ram_size = 64 << 20;
	while ((opt = getopt(argc, argv, "m:c:")) != -1) {
		if (opt == 'm')
			ram_size = strtoull(optarg, NULL, 0) << 20;
		else
			cmdline = optarg;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: bare_kvm [-m MiB] [-c CMDLINE] guest.elf\n");
		return 64;
	}
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	phase("kvm-vm");
	/* The irqchip before memory, unlike cvisor (vm/builder.c): on
	 * kvm_pvm the first memory slot then costs 5-7 ms, but with memory
	 * first this program's exit (the kernel destroying the VM) takes
	 * 9.8 ms instead of 0.6 (15.2 ms in all against 12.4). cvisor hands
	 * that destruction to its reaper (vm/vm_reaper.c); a program that
	 * just exits pays it, so this order is its fastest. */
	if (vm < 0 || ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0 ||
	    ioctl(vm, KVM_CREATE_IRQCHIP) < 0)
		die("vm");
	phase("irqchip");
	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct kvm_userspace_memory_region mr = {
		.memory_size = ram_size, .userspace_addr = (uintptr_t)ram };
	if (ram == MAP_FAILED || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
		die("memory");
	phase("memory");
	uint32_t entry = load_elf(argv[optind]);
	write_start_info(cmdline);
	phase("loader");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *r = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED,
				 vcpu, 0);
	if (vcpu < 0 || r == MAP_FAILED)
		die("vcpu");
	setup_cpu(kvm, vcpu, entry);
	phase("vcpus");
	int status = run(vcpu, r);
	phase("guest-exit");
	fflush(stdout);
	phases_write();
	return status;
}
