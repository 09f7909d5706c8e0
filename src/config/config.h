/* The validated description of one VM: what the cli/config layer produces
 * from argv and .qvmconf files, and the only thing the builder reads.
 *
 * Every element remembers where it was written (struct cfg_pos) so that
 * later layers can still report `file:line:col: message`.
 */
#ifndef CVISOR_CONFIG_CONFIG_H
#define CVISOR_CONFIG_CONFIG_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#define CFG_MAX_RAM      16
#define CFG_MAX_ROM      8
#define CFG_MAX_RESERVE  32
#define CFG_MAX_CPUS     64
#define CFG_MAX_LOADS    16
#define CFG_MAX_VDEVS    64
#define CFG_MAX_PASS     16
#define CFG_MAX_LOCS     8   /* loc options per vdev/pass */
#define CFG_MAX_INTRS    8   /* intr options per vdev/pass */
#define CFG_MAX_HOSTDEVS 4
/* The widest guest-physical address space KVM offers on either
 * architecture: x86-64's largest MAXPHYADDR, arm64's 52-bit IPA. */
#define CFG_GPA_LIMIT    (1ULL << 52)
#define CFG_MAX_DEVOPTS  16  /* device-specific options per vdev */
#define CFG_NAME_MAX     64

struct cfg_pos {
	const char *file;      /* "<command line>" for argv; interned, lives as long as the config */
	unsigned line, col;    /* 1-based */
	unsigned seq;          /* order in the whole token stream (includes
				  expanded), 0 for implicit items: "later"
				  in conflict messages means larger seq */
};

enum cfg_space { LOC_NONE, LOC_MEM, LOC_IO, LOC_PCI };

struct cfg_loc {
	enum cfg_space space;
	uint64_t addr;         /* MEM: guest-physical; IO: port */
	uint64_t len;          /* 0 when not given: the device's own size applies */
	bool has_len;
	/* PCI: either a slot or a vendor/device id */
	bool pci_by_id;
	uint8_t bus, dev, fn;
	uint16_t vid, did;
	struct cfg_pos pos;
};

struct cfg_intr {
	char pic[CFG_NAME_MAX]; /* interrupt controller name ("ioapic", "apic", ...) */
	uint32_t line;          /* pin on that controller; 0 for "apic" */
	bool is_apic;           /* the bare word `apic` */
	struct cfg_pos pos;
};

enum hostdev_dir { HOSTDEV_BOTH, HOSTDEV_IN, HOSTDEV_OUT };

struct cfg_hostdev {
	enum hostdev_dir dir;  /* `<path` in, `>path` out, `path` both */
	const char *owner;     /* "vdev NAME" (or TYPE) it belongs to, for
				  messages such as a pty's name */
	char *path;            /* "-" is stdio; "pty" allocates a pty;
				  ">\"|cmd\"" pipes are stored with is_pipe */
	bool is_pipe;
	struct cfg_pos pos;
};

/* A device-specific option after `vdev TYPE`, checked against the type's
 * option table (see devices/registry.h). Values keep their source text;
 * num holds the parsed number for numeric options. */
struct cfg_devopt {
	const char *key;       /* points into the option table */
	char *value;           /* NULL for flags */
	uint64_t num;
	struct cfg_pos pos;
};

struct vdev_type;          /* devices/registry.h */

struct vdev_config {
	const struct vdev_type *type;
	char name[CFG_NAME_MAX];           /* `name`, or "" */
	struct cfg_loc locs[CFG_MAX_LOCS];
	unsigned nr_locs;
	struct cfg_intr intrs[CFG_MAX_INTRS];
	unsigned nr_intrs;
	struct cfg_hostdev hostdevs[CFG_MAX_HOSTDEVS];
	unsigned nr_hostdevs;
	struct cfg_devopt opts[CFG_MAX_DEVOPTS];
	unsigned nr_opts;
	/* QNX `log FILTERS DEST`: the levels this device's messages show */
	bool has_log;
	unsigned log_mask;         /* bit per core/log.h level */
	bool on_pci;           /* virtio: PCI unless both loc and intr given */
	unsigned index;        /* nth vdev of this type, from 0 */
	struct cfg_pos pos;    /* of the TYPE word */
};

/* `pass`: a host PCI device given to the guest through VFIO
 * (config/pass.c, src/vfio/). */
enum pass_kind { PASS_PCI_ADDR, PASS_PCI_ID, PASS_SYSFS };
#define CFG_PASS_PATH_MAX 256

struct pass_config {
	/* QNX's memory/port pass-through (refused: no isolation without
	 * VFIO); always empty, kept for the code that scans every loc */
	struct cfg_loc locs[CFG_MAX_LOCS];
	unsigned nr_locs;
	struct cfg_intr intrs[CFG_MAX_INTRS];
	unsigned nr_intrs;
	/* the host device */
	bool has_host;
	enum pass_kind kind;
	uint16_t seg;                      /* PASS_PCI_ADDR */
	uint8_t bus, dev, fn;
	uint16_t vid, did;                 /* PASS_PCI_ID: the index-th one */
	unsigned index;
	char *sysfs;                       /* PASS_SYSFS: /sys/... */
	/* the guest's slot (`guest-loc pci:0:D.F` or QNX's GUEST=HOST);
	 * else the first free one */
	bool has_guest_slot;
	uint8_t guest_dev, guest_fn;
	/* expansion ROM: the device's own (default), none, or a file */
	bool rombar_off;
	/* `mmap off` (cvisor extension): every BAR access traps, none is a
	 * KVM memory slot (to measure, or for a device that needs it) */
	bool mmap_off;
	char *romfile;
	struct cfg_pos pos, loc_pos, guest_pos, rom_pos;
};

struct ram_config {
	uint64_t start, size;
	bool implicit;         /* `ram SIZE`: placed after what precedes it */
	struct cfg_pos pos;
};

struct rom_config {
	uint64_t start, size;
	struct cfg_pos pos;
};

enum reserve_kind { RESERVE_LOC, RESERVE_INTR };

struct reserve_config {
	enum reserve_kind kind;
	struct cfg_loc loc;
	struct cfg_intr intr;
	struct cfg_pos pos;
};

enum sched_policy { SCHED_POL_NONE, SCHED_POL_RR, SCHED_POL_FIFO,
		    SCHED_POL_OTHER };

struct cpu_config {
	enum sched_policy policy;   /* `sched N[r|f|o]`; r when no letter */
	int priority;
	bool has_sched;
	cpu_set_t runmask;          /* `runmask n{,n}` */
	bool has_runmask;
	struct cfg_pos pos;
};

enum blob_type { BLOB_GUEST, BLOB_INITRD, BLOB_DATA, BLOB_ACPI, BLOB_FDT };

struct load_config {
	enum blob_type type;
	bool has_addr;
	uint64_t addr;
	char *path;
	struct cfg_pos pos;
};

/* The CPU architecture a config describes (`arch x86|arm64`, cvisor
 * extension), which picks the checking rules (arm64: `intr gic:N`, the
 * GIC's windows). Without the statement: config_default_arch, which is
 * what cvisor was built for unless `--arch` says otherwise. */
enum cfg_arch { CFG_ARCH_X86, CFG_ARCH_ARM64 };
#if defined(__aarch64__)
#define CFG_ARCH_HOST CFG_ARCH_ARM64
#else
#define CFG_ARCH_HOST CFG_ARCH_X86
#endif
extern enum cfg_arch config_default_arch;

/* What a guest reset request does (cvisor extension `reboot reset|exit`). */
enum reboot_action { REBOOT_RESET, REBOOT_EXIT };

/* `cpuid ITEM{,ITEM}` (cvisor extension): one bit of the vCPUs' CPUID set
 * or cleared, applied in order after cvisor's own adjustments. */
#define CFG_MAX_CPUID    64
enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct cpuid_edit {
	uint32_t leaf, subleaf;
	enum cpuid_reg reg;
	uint8_t bit;
	bool set;               /* +NAME sets it, -NAME clears it */
	struct cfg_pos pos;
};

struct vm_config {
	char system[CFG_NAME_MAX];
	struct ram_config ram[CFG_MAX_RAM];
	unsigned nr_ram;
	struct rom_config rom[CFG_MAX_ROM];
	unsigned nr_rom;
	struct reserve_config reserve[CFG_MAX_RESERVE];
	unsigned nr_reserve;
	struct cpu_config cpus[CFG_MAX_CPUS];
	unsigned nr_cpus;           /* 0 in the file means one default vCPU */
	struct load_config loads[CFG_MAX_LOADS];
	unsigned nr_loads;
	char *cmdline;
	struct cfg_pos cmdline_pos;
	struct vdev_config vdevs[CFG_MAX_VDEVS];
	unsigned nr_vdevs;
	struct pass_config passes[CFG_MAX_PASS];
	unsigned nr_pass;
	enum reboot_action reboot;
	/* A triple fault: exit with status 32 (default), or handle it as a
	 * reset request (`triplefault reset`, for Linux's reboot=t). */
	enum reboot_action triplefault;
	enum cfg_arch arch;
	struct cfg_pos arch_pos;
	char ioapic_name[CFG_NAME_MAX];    /* implicit in-kernel IOAPIC's name */
	/* QNX `logger FILTERS DEST`: the levels shown, and `slog` (the system
	 * log) or `stderr` */
	bool has_logger, logger_slog;
	unsigned logger_mask;
	struct cfg_pos logger_pos;
	/* `memory OPT{,OPT}` (cvisor extension): how RAM is backed */
	bool mem_hugepages, mem_prealloc;
	struct cfg_pos memory_pos;
	/* `api PATH` (cvisor extension): the control socket, src/ctl/ */
	char *api_path;
	struct cfg_pos api_pos;
	/* `cpuid` (cvisor extension): bit edits, and vendor=STRING (12
	 * characters, "" keeps the host's) */
	struct cpuid_edit cpuid[CFG_MAX_CPUID];
	unsigned nr_cpuid;
	char cpuid_vendor[13];
	struct cfg_pos cpuid_vendor_pos;
	/* `firmware seabios|PATH` (cvisor extension): a BIOS image mapped
	 * as ROM that ends at 4 GiB (addr = 4 GiB - firmware_size), the boot
	 * vCPU started at its reset vector; path NULL: none */
	struct load_config firmware;
	uint64_t firmware_size;
	/* internal: strings and included file names owned by the config */
	void *arena;
};

/* Error reporting: every failure carries the position it is about. */
struct cfg_error {
	struct cfg_pos pos;
	char msg[1024];        /* a pass's lookup says how to bind it */
	/* The failed config is freed before config_from_* returns, so the
	 * error keeps its own copy of the file name; pos.file points here. */
	char file[1024];
};

/* Parse tokens (argv-style: each element one token, `@file` includes) into
 * cfg, then validate. Returns 0, or -1 with err filled; on failure cfg owns
 * nothing (config_free on it is harmless). Positions of argv tokens are
 * "<command line>":1:N with N the element's index in argv, from 1. */
int config_from_args(struct vm_config *cfg, int argc, char **argv,
		     struct cfg_error *err);
/* The same into a new config from calloc, freed with config_destroy: the
 * struct is ~200 KiB of fixed slots, and pages the parser never writes
 * stay untouched (not resident) this way. NULL with err filled. */
struct vm_config *config_new_from_args(int argc, char **argv,
				       struct cfg_error *err);
void config_destroy(struct vm_config *cfg);
/* Parse a string as if it were a file called `name` (unit tests). */
int config_from_string(struct vm_config *cfg, const char *name,
		       const char *text, struct cfg_error *err);
void config_free(struct vm_config *cfg);

/* Print `file:line:col: message` to stderr. */
void cfg_error_print(const struct cfg_error *err);

/* True when some vdev is on PCI: the VM then has a PCI host bridge, the
 * PCI hole stays free of RAM and devices, and ACPI describes PCI0 and the
 * MCFG. The one test for "this VM has PCI" (builder, e820, ACPI). */
bool vm_config_has_pci(const struct vm_config *cfg);

/* The guest PCI slot of each function (config/pci_slots.c): the slots
 * the config names (`loc pci:0:D.F`, `guest-loc`, `reserve loc pci:`)
 * first, then for each vdev on PCI (in order) and each pass (in order)
 * without one the first slot from 1 that is wholly free, as function 0.
 * Validation refuses a config it cannot place; the builder attaches
 * every function where it says. */
struct cfg_pci_place {
	bool placed;           /* false: not a PCI function */
	uint8_t dev, fn;
};

struct cfg_pci_plan {
	struct cfg_pci_place vdev[CFG_MAX_VDEVS];
	struct cfg_pci_place pass[CFG_MAX_PASS];
};

/* 0, or -1 with err at the function that found no slot. */
int config_pci_plan(const struct vm_config *cfg, struct cfg_pci_plan *plan,
		    struct cfg_error *err);

/* Apply `logger` and the vdevs' `log` options to core/log (a run; the
 * command line's -v/-q/--log win). */
void config_apply_logging(const struct vm_config *cfg);

/* Helpers for devices reading their options. */
const struct cfg_devopt *vdev_opt(const struct vdev_config *vc,
				  const char *key);

#endif
