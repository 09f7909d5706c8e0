/* The seccomp allowlists, one per thread kind, as data. Every entry says
 * why the thread needs it; anything else is refused (see seccomp.c for
 * what "refused" does). Checked against the code of each thread and the
 * libc/sanitizer calls under it: a new system call in a thread's path
 * needs a line here, and `--seccomp log` finds the ones that are missing
 * (docs/sandbox.md).
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <linux/vfio.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "core/util.h"
#include "sandbox/sandbox_priv.h"
#include "vcpu/vcpu.h"

#define ALLOW(name) { SCMP_SYS(name), 0, { 0 } }
#define ALLOW_EQ(name, i, v) \
	{ SCMP_SYS(name), 1, { .arg = (i), .op = SCMP_CMP_EQ, .datum_a = (v) } }
#define ALLOW_MASKED(name, i, mask, v) \
	{ SCMP_SYS(name), 1, { .arg = (i), .op = SCMP_CMP_MASKED_EQ, \
			       .datum_a = (mask), .datum_b = (v) } }
/* The kernel takes the request as an unsigned int: compare 32 bits. */
#define ALLOW_IOCTL(req) ALLOW_MASKED(ioctl, 1, 0xffffffffULL, (req))
#define LIST(arr) { #arr, arr, ARRAY_SIZE(arr) }

/* Every thread: what libc, the allocator, logging and the signal handlers
 * do under any code. */
static const struct sc_rule base[] = {
	ALLOW(futex),           /* mutexes, condition variables, joins */
	ALLOW(exit),            /* a thread returning from its function */
	ALLOW(exit_group),      /* exit() on any thread; last resort on SIGSYS */
	ALLOW(rt_sigreturn),    /* return from the kick and SIGSYS handlers */
	ALLOW(rt_sigprocmask),  /* pthread_sigmask (vCPU kick), libc internals */
	ALLOW(restart_syscall), /* the kernel restarting an interrupted sleep */
	/* malloc arenas and the sanitizers' shadow: never executable memory */
	ALLOW_MASKED(mmap, 2, PROT_EXEC, 0),
	ALLOW_MASKED(mprotect, 2, PROT_EXEC, 0),
	ALLOW(munmap),          /* free() of large blocks, thread stacks */
	ALLOW(madvise),         /* free() trimming; a thread's stack at exit */
	ALLOW(brk),             /* malloc on the main arena */
	ALLOW(write),           /* the log on stderr; eventfd signals */
	ALLOW(clock_gettime),   /* log timestamps, when the vDSO is not used */
	ALLOW(gettimeofday),    /* same, older libc paths */
	ALLOW(time),            /* log.c's time() without the vDSO */
	ALLOW(getpid),          /* raise()/abort() */
	ALLOW(gettid),          /* raise()/abort() */
	/* abort() and main.c's fatal-signal handler re-raise these (tgkill
	 * on ourselves) after resetting the handler (rt_sigaction) */
	ALLOW_EQ(tgkill, 2, SIGABRT), ALLOW_EQ(tgkill, 2, SIGSEGV),
	ALLOW_EQ(tgkill, 2, SIGBUS), ALLOW_EQ(tgkill, 2, SIGILL),
	ALLOW_EQ(tgkill, 2, SIGFPE),
	ALLOW_EQ(rt_sigaction, 0, SIGABRT), ALLOW_EQ(rt_sigaction, 0, SIGSEGV),
	ALLOW_EQ(rt_sigaction, 0, SIGBUS), ALLOW_EQ(rt_sigaction, 0, SIGILL),
	ALLOW_EQ(rt_sigaction, 0, SIGFPE),
	ALLOW(sched_yield),     /* bus lookups spin-yield while a writer runs */
	ALLOW(sigaltstack),     /* ASan unsets a thread's signal stack at exit */
	ALLOW(nanosleep),       /* short waits: block drain, console close */
	ALLOW(clock_nanosleep), /* the same through newer libc */
	/* restoring the terminal from the SIGSYS and fatal-signal handlers
	 * (tcsetattr TCSANOW) */
	ALLOW_IOCTL(TCSETS),
};

/* The KVM calls a running guest causes, on whichever thread handles the
 * exit or the event: interrupts, and the fds devices wire up when the
 * guest enables them (virtio DRIVER_OK, MSI-X). */
static const struct sc_rule kvm_runtime[] = {
	ALLOW_IOCTL(KVM_IRQ_LINE),        /* ISA/IOAPIC lines (x86_irq_set) */
	ALLOW_IOCTL(KVM_SIGNAL_MSI),      /* an MSI without an irqfd */
	ALLOW_IOCTL(KVM_IRQFD),           /* MSI-X / line irqfds on enable */
	ALLOW_IOCTL(KVM_IOEVENTFD),       /* queue notify fds on DRIVER_OK */
	/* a BAR with coalesced registers moved (the LSI's DSA) */
	ALLOW_IOCTL(KVM_REGISTER_COALESCED_MMIO),
	ALLOW_IOCTL(KVM_UNREGISTER_COALESCED_MMIO),
	ALLOW_IOCTL(KVM_SET_GSI_ROUTING), /* MSI-X table writes */
	ALLOW(eventfd2),        /* the irqfds and ioeventfds above */
	ALLOW(close),           /* ... closed on disable and device reset */
	ALLOW(epoll_ctl),       /* ... and watched by the event loop */
	ALLOW(read),            /* eventfd, timerfd and console reads */
	ALLOW(timerfd_settime), /* RTC periodic and alarm interrupts */
	ALLOW(timerfd_gettime), /* RTC register reads */
	ALLOW(getrandom),       /* virtio-rng requests */
	ALLOW(io_uring_enter),  /* block requests submitted and reaped */
	ALLOW(poll),            /* console output waiting for room */
	ALLOW(ppoll),           /* the same through newer libc */
};

static const struct sc_rule vcpu_only[] = {
	ALLOW_IOCTL(KVM_RUN),             /* the whole point of the thread */
	ALLOW_IOCTL(KVM_GET_REGS),        /* register dump on a fatal exit */
	ALLOW_IOCTL(KVM_GET_SREGS),       /* the same */
	ALLOW_IOCTL(KVM_TRANSLATE),       /* an internal error's insn bytes */
#if defined(__aarch64__)
	ALLOW_IOCTL(KVM_GET_ONE_REG),     /* arm64's register dump */
	/* an external abort for an access KVM cannot decode
	 * (arch/arm64/abort.c) */
	ALLOW_IOCTL(KVM_SET_VCPU_EVENTS),
#else
	/* leaving ACPI S3 (arch/x86/s3_wake.c): each vCPU sets its own
	 * wake-up state on its thread */
	ALLOW_IOCTL(KVM_SET_SREGS), ALLOW_IOCTL(KVM_SET_REGS),
	ALLOW_IOCTL(KVM_SET_VCPU_EVENTS), ALLOW_IOCTL(KVM_SET_MP_STATE),
#endif
	/* `pass` (src/vfio/): the guest's config and trapped BAR accesses
	 * forwarded to the device fd, MSI/INTx switched as it enables
	 * them, BAR memory slots moved where it puts them */
	ALLOW(pread64), ALLOW(pwrite64),
	ALLOW_IOCTL(VFIO_DEVICE_SET_IRQS),
	ALLOW_IOCTL(KVM_SET_USER_MEMORY_REGION),
};

static const struct sc_rule events_only[] = {
	/* the control socket (src/ctl/): clients are accepted with accept4
	 * and served with recvfrom/sendto (below); pause kicks the vCPUs and
	 * saves the guest clock, resume restores it, powerdown asks whether
	 * the guest listens to the power button */
	ALLOW_EQ(tgkill, 2, VCPU_KICK_SIGNAL),
	ALLOW_IOCTL(KVM_GET_CLOCK), ALLOW_IOCTL(KVM_SET_CLOCK),
	ALLOW_IOCTL(KVM_GET_IRQCHIP),
	ALLOW(epoll_wait),      /* the loop itself */
	ALLOW(epoll_pwait),     /* the same through newer libc and ASan */
	ALLOW(readv),           /* console input */
	ALLOW(writev),          /* console output */
	/* virtio-net `hostdev user` (backends/net_slirp.c): libslirp turns
	 * the guest's connections into host sockets, IPv4 and IPv6 only */
	ALLOW_EQ(socket, 0, AF_INET), ALLOW_EQ(socket, 0, AF_INET6),
	ALLOW(connect), ALLOW(bind), ALLOW(listen), ALLOW(accept),
	ALLOW(accept4), ALLOW(shutdown), ALLOW(getsockname),
	ALLOW(getpeername), ALLOW(getsockopt), ALLOW(setsockopt),
	ALLOW(sendto), ALLOW(sendmsg), ALLOW(recvfrom), ALLOW(recvmsg),
	ALLOW(fcntl),           /* O_NONBLOCK on those sockets */
	ALLOW_IOCTL(FIONREAD),  /* UDP datagram sizes */
	ALLOW_IOCTL(FIONBIO),
	/* virtio-net `peer PATH` (backends/net_peer.c): the link's UNIX
	 * sockets, by type (SOCK_SEQPACKET, flags aside: no other UNIX
	 * socket), the rendezvous lock, and the check and removal of a
	 * socket file a dead process left */
	ALLOW_MASKED(socket, 1, 0xf, SOCK_SEQPACKET),
	ALLOW(flock), ALLOW(unlink), ALLOW(newfstatat),
	ALLOW(recvmmsg), ALLOW(sendmmsg),       /* its frames, batched */
	/* virtio-net `hostdev tap:NAME` (backends/net_tap.c): the receive
	 * offloads the driver accepted, and the queues a multiqueue driver
	 * uses (frames themselves are read/readv/writev) */
	ALLOW_IOCTL(TUNSETOFFLOAD), ALLOW_IOCTL(TUNSETQUEUE),
};

static const struct sc_rule block_only[] = {
	ALLOW(preadv2),         /* reads (block_io.c: blk_step_exec) */
	ALLOW(pwritev2),        /* writes, RWF_DSYNC for FUA */
	ALLOW(preadv),          /* libc's fallback for the two above */
	ALLOW(pwritev),
	ALLOW(fdatasync),       /* flush */
	ALLOW(fallocate),       /* discard, write zeroes */
	ALLOW(read),            /* (nothing today; pread fallback paths) */
};

/* The main thread. It creates the threads of a VM rebuilt after a reset,
 * and a new thread runs under its creator's filter and its own together:
 * so this list includes every other kind's (see sc_lists_for()). Its own
 * needs: waiting for signals and the stop, joining, tearing down and
 * building a VM. It handles no guest request itself. */
static const struct sc_rule control_only[] = {
	ALLOW(poll),            /* wait_for_stop: stop eventfd and signalfd */
	ALLOW(ppoll),
	ALLOW(read),            /* the signalfd and the stop eventfd */
	/* VM construction on a reset (builder.c, vcpu.c, arch/x86): */
	/* the rebuilt threads' names (/proc/self/task/N/comm); anything a
	 * reset does not keep open (core/persist.h) */
	ALLOW(openat),
	ALLOW(open),            /* the same through older libc */
	ALLOW(fstat),           /* boot images' sizes, stdio buffering */
	ALLOW(newfstatat),
	ALLOW(lseek),
	ALLOW(pread64),
	ALLOW(fcntl),           /* chardev descriptors (F_DUPFD_CLOEXEC) */
	ALLOW(dup),
	ALLOW(eventfd2),
	ALLOW(epoll_create1),   /* the new VM's event loop */
	ALLOW(timerfd_create),  /* its RTC */
	ALLOW(memfd_create),    /* `memory hugepages` RAM of a rebuilt VM */
	ALLOW(ftruncate),       /* ... sized */
	ALLOW(io_uring_setup),  /* a block engine set up again */
	ALLOW(io_uring_register),
	ALLOW(mremap),          /* realloc() of large tables */
	/* every ioctl of VM construction (open_kvm, setup_memory, x86_vm_init,
	 * cpuid, registers) and the block-device size probes */
	ALLOW_IOCTL(KVM_GET_API_VERSION), ALLOW_IOCTL(KVM_CHECK_EXTENSION),
	ALLOW_IOCTL(KVM_CREATE_VM), ALLOW_IOCTL(KVM_GET_VCPU_MMAP_SIZE),
	ALLOW_IOCTL(KVM_SET_USER_MEMORY_REGION),
	ALLOW_IOCTL(KVM_CREATE_VCPU),
#if defined(__aarch64__)
	/* arch/arm64: vCPU init and registers, the vGIC */
	ALLOW_IOCTL(KVM_ARM_PREFERRED_TARGET), ALLOW_IOCTL(KVM_ARM_VCPU_INIT),
	ALLOW_IOCTL(KVM_SET_ONE_REG), ALLOW_IOCTL(KVM_GET_ONE_REG),
	ALLOW_IOCTL(KVM_CREATE_DEVICE), ALLOW_IOCTL(KVM_SET_DEVICE_ATTR),
	ALLOW_IOCTL(KVM_HAS_DEVICE_ATTR), ALLOW_IOCTL(KVM_GET_DEVICE_ATTR),
	/* KVM_CAP_ARM_NISV_TO_USER (arch/arm64/abort.c) */
	ALLOW_IOCTL(KVM_ENABLE_CAP),
#else
	ALLOW_IOCTL(KVM_SET_IDENTITY_MAP_ADDR), ALLOW_IOCTL(KVM_SET_TSS_ADDR),
	ALLOW_IOCTL(KVM_CREATE_IRQCHIP), ALLOW_IOCTL(KVM_CREATE_PIT2),
	ALLOW_IOCTL(KVM_GET_SUPPORTED_CPUID),
	ALLOW_IOCTL(KVM_GET_TSC_KHZ), ALLOW_IOCTL(KVM_SET_CPUID2),
	ALLOW_IOCTL(KVM_GET_LAPIC), ALLOW_IOCTL(KVM_SET_LAPIC),
	ALLOW_IOCTL(KVM_SET_FPU), ALLOW_IOCTL(KVM_SET_SREGS),
	ALLOW_IOCTL(KVM_SET_REGS),
#endif
	ALLOW_IOCTL(BLKGETSIZE64), ALLOW_IOCTL(BLKSSZGET),
	ALLOW_IOCTL(BLKPBSZGET),
	ALLOW_IOCTL(TCGETS),    /* isatty() on hostdevs */
	/* threads of the rebuilt VM: pthread_create and what the new thread
	 * does before its own filter is in */
	ALLOW(clone), ALLOW(clone3), ALLOW(set_robust_list), ALLOW(rseq),
	ALLOW(prctl),           /* PR_SET_NO_NEW_PRIVS before a filter */
	/* a new thread loading its own filter on top of this one (which
	 * only ever narrows what it may do) */
	ALLOW_EQ(seccomp, 0, SECCOMP_SET_MODE_FILTER),
	ALLOW(sched_setaffinity),  /* `cpu runmask` */
	ALLOW(sched_setscheduler), /* `cpu sched` */
	ALLOW(sched_getparam),
	ALLOW_EQ(tgkill, 2, VCPU_KICK_SIGNAL), /* vcpu_kick at stop */
	/* the control socket's path, removed at exit (ctl_server_close) */
	ALLOW(unlink), ALLOW(unlinkat),
	/* hostdev commands (child.c) stopped at teardown */
	ALLOW(wait4), ALLOW(kill), ALLOW(pidfd_open),
	ALLOW(close_range),
	/* the teardown reaper (vm/vm_reaper.c), cloned at exit with this
	 * filter: close_range above, then it waits for our death */
	ALLOW(getppid),
	/* `pass` devices of a rebuilt VM (src/vfio/): sysfs, the container,
	 * group and device, DMA maps, the kvm-vfio device, resets */
	ALLOW(readlink), ALLOW(readlinkat), ALLOW(getdents64),
	ALLOW_IOCTL(VFIO_GET_API_VERSION), ALLOW_IOCTL(VFIO_CHECK_EXTENSION),
	ALLOW_IOCTL(VFIO_GROUP_GET_STATUS),
	ALLOW_IOCTL(VFIO_GROUP_SET_CONTAINER), ALLOW_IOCTL(VFIO_SET_IOMMU),
	ALLOW_IOCTL(VFIO_IOMMU_MAP_DMA), ALLOW_IOCTL(VFIO_GROUP_GET_DEVICE_FD),
	ALLOW_IOCTL(VFIO_DEVICE_GET_INFO),
	ALLOW_IOCTL(VFIO_DEVICE_GET_REGION_INFO),
	ALLOW_IOCTL(VFIO_DEVICE_RESET),
	ALLOW_IOCTL(KVM_CREATE_DEVICE), ALLOW_IOCTL(KVM_SET_DEVICE_ATTR),
};

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds only (make SAN=1), where a report must stay whole:
 * ASan/UBSan symbolize a report on the thread that found the bug, reading
 * /proc/self/maps and the binary's debug information (read-only opens);
 * LeakSanitizer, at exit, clones a tracer from the thread calling exit()
 * that stops every thread with ptrace and lists /proc/self/task. Release
 * builds have none of these. */
static const struct sc_rule san_reports[] = {
	ALLOW_MASKED(openat, 2, O_ACCMODE | O_CREAT, O_RDONLY),
	ALLOW(read), ALLOW(close), ALLOW(fstat), ALLOW(newfstatat),
	ALLOW(lseek), ALLOW(pread64), ALLOW(readlink), ALLOW(readlinkat),
	ALLOW(getdents), ALLOW(getdents64), ALLOW(sched_getaffinity),
	ALLOW(clone), ALLOW(ptrace), ALLOW(wait4), ALLOW(getppid),
	ALLOW(prctl), ALLOW(rt_sigaction),
};
#define SAN_LIST &l_san,
static const struct sc_list l_san = LIST(san_reports);
#else
#define SAN_LIST
#endif

static const struct sc_list l_base = LIST(base);
static const struct sc_list l_kvm = LIST(kvm_runtime);
static const struct sc_list l_vcpu = LIST(vcpu_only);
static const struct sc_list l_events = LIST(events_only);
static const struct sc_list l_block = LIST(block_only);
static const struct sc_list l_control = LIST(control_only);

static const struct sc_list *const kind_lists[SANDBOX_NR_KINDS][8] = {
	[SANDBOX_CONTROL] = { &l_base, &l_kvm, &l_vcpu, &l_events, &l_block,
			      &l_control, SAN_LIST NULL },
	[SANDBOX_VCPU] = { &l_base, &l_kvm, &l_vcpu, SAN_LIST NULL },
	[SANDBOX_EVENTS] = { &l_base, &l_kvm, &l_events, SAN_LIST NULL },
	[SANDBOX_BLOCK] = { &l_base, &l_block, SAN_LIST NULL },
};

const struct sc_list *const *sc_lists_for(enum sandbox_kind kind)
{
	return kind < SANDBOX_NR_KINDS ? kind_lists[kind] : NULL;
}
