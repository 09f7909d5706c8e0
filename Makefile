# cvisor build. `make` builds the VMM (build/cvisor) and the test guest
# (build/guest/testguest.elf); `make check` builds and runs every test.
# Sources are found by wildcard so adding a file needs no Makefile edit.

# ARCH: what cvisor is built for, x86 (native) or arm64 (a static cross
# build with Debian's gcc-aarch64-linux-gnu, into build/arm64 by default).
ARCH    ?= x86
ifeq ($(ARCH),arm64)
CC      := aarch64-linux-gnu-gcc
AR      := aarch64-linux-gnu-ar
BUILD   ?= build/arm64
LDFLAGS += -static
# libfdt-dev installs for one architecture at a time (it is not
# Multi-Arch: same): the arm64 libfdt.a is unpacked from its package into
# the build directory; the headers are the native package's.
A64_FDT := $(BUILD)/libfdt-arm64
LDFLAGS += -L$(A64_FDT)/usr/lib/aarch64-linux-gnu
endif
CC      ?= gcc
BUILD   ?= build
SAN     ?=
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter -D_GNU_SOURCE \
           -fno-strict-aliasing -Isrc -MMD -MP
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
# No .eh_frame for cvisor's own code: nothing unwinds it (no C++, no
# pthread_cancel or pthread_exit, no backtrace(): sandbox/where.c scans
# the stack instead), while the kernel's fault-around kept all 77 KiB
# of it resident beside .rodata (issue 12's peak RSS). Debuggers and
# perf unwind with .debug_frame, which -g still emits.
CFLAGS  += -fno-asynchronous-unwind-tables -fno-unwind-tables
endif
LDLIBS  += -lpthread -lutil -luring -lseccomp
# libslirp (virtio-net `hostdev user`) is dlopen'ed when first used
# (backends/slirp_lib.c); its header needs no glib flags
# json-c: the control socket's protocol (src/ctl/)
LDLIBS  += -ljson-c
# libfdt: the arm64 VM's device tree (src/arch/arm64/fdt.c)
LDLIBS  += -lfdt
# Those four linked in statically (the .a come in the same -dev packages):
# no loading and relocating of four objects at every start, and only the
# parts cvisor calls are mapped (issue 12: startup -0.2 ms, RSS -130 KiB).
# arm64 builds are static already.
ifneq ($(ARCH),arm64)
LDLIBS  := $(foreach l,$(LDLIBS),$(if $(filter $(l),-luring -lseccomp \
           -ljson-c -lfdt),-l:lib$(l:-l%=%).a,$(l)))
endif

# The KVM side of each architecture (the files of src/arch/ARCH that
# include <linux/kvm.h>) is built only for that one (arch/arch.h); its data
# side (images, tables, device trees) everywhere. power_button.c is data
# (the DSDT's GED line) with its one KVM query kept to x86 inside.
KVM_SIDE_x86   := $(filter-out src/arch/x86/power_button.c,\
                  $(shell grep -l 'linux/kvm\.h' src/arch/x86/*.c))
KVM_SIDE_arm64 := $(shell grep -l 'linux/kvm\.h' src/arch/arm64/*.c 2>/dev/null)
NOT_HERE  := $(foreach a,$(filter-out $(ARCH),x86 arm64),$(KVM_SIDE_$(a)))
SRCS      := $(filter-out $(NOT_HERE),$(shell find src -name '*.c' | sort))
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/seccomp_prebuilt.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps test-deps cvisor guest example-disks unit bench check check-build demo clean fuzz install
all: deps
	@$(MAKE) --no-print-directory cvisor guest example-disks

# The sparse disk images the examples name (examples/blk*.qvmconf and
# hostile.qvmconf), so that each runs right after `make`.
example-disks: $(BUILD)/disk.img $(BUILD)/hostile.img
$(BUILD)/disk.img:
	@mkdir -p $(@D)
	truncate -s 64M $@
$(BUILD)/hostile.img:
	@mkdir -p $(@D)
	truncate -s 128M $@

deps:
	@scripts/deps.sh build
test-deps:
	@scripts/deps.sh test

cvisor: $(BUILD)/cvisor
# The x86 test guest, and the AArch64 one (guest/arch/arm64) where the
# cross compiler is installed (scripts/deps.sh test).
HAVE_A64_CC := $(shell command -v aarch64-linux-gnu-gcc 2>/dev/null)
guest:
ifneq ($(ARCH),arm64)
	@$(MAKE) --no-print-directory -C guest BUILD=$(abspath $(BUILD))/guest
endif
ifneq ($(HAVE_A64_CC),)
	@$(MAKE) --no-print-directory -C guest/arch/arm64 \
		BUILD=$(abspath $(BUILD))/guest
endif

# cvisor cross-built for arm64 beside the native one ($(BUILD)/arm64/cvisor),
# which tests/integration/arm64_rig.sh runs in the emulated arm64 machine.
.PHONY: arm64
arm64:
ifneq ($(HAVE_A64_CC),)
	@$(MAKE) --no-print-directory ARCH=arm64 BUILD=$(BUILD)/arm64 cvisor
endif

$(BUILD)/libcvisor.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# The version (scripts/version.sh: git describe when there is git), into
# main.o only; the stamp changes only when the version does.
VERSION := $(shell scripts/version.sh)
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(BUILD)/src/main.o: $(BUILD)/version.stamp
$(BUILD)/src/main.o: CFLAGS += -DCVISOR_VERSION='"$(VERSION)"'
.PHONY: FORCE
FORCE:

$(BUILD)/cvisor: $(BUILD)/src/main.o $(BUILD)/libcvisor.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ifeq ($(ARCH),arm64)
$(BUILD)/cvisor: $(A64_FDT)/usr/lib/aarch64-linux-gnu/libfdt.a
$(A64_FDT)/usr/lib/aarch64-linux-gnu/libfdt.a:
	@rm -rf $(A64_FDT) && mkdir -p $(A64_FDT)
	cd $(A64_FDT) && apt-get download -q libfdt-dev:arm64 >/dev/null && \
		dpkg-deb -x libfdt-dev_*_arm64.deb .
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# The seccomp filters of the usual start (`--seccomp on`, no jail ids),
# compiled to BPF now by the code cvisor would run at every start
# (src/sandbox/seccomp_build.c, through tools/seccomp_gen.c): 1.3 ms of
# libseccomp less per start (issue 12). A cross build cannot run the
# generator: its table is empty, and its filters are built at start.
$(BUILD)/tools/seccomp_gen: tools/seccomp_gen.c $(BUILD)/src/sandbox/seccomp_build.o \
		$(BUILD)/src/sandbox/seccomp_lists.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
EMPTY_PREBUILT := \#include "sandbox/seccomp_prebuilt.h"\nconst struct sandbox_prebuilt sandbox_prebuilt[SANDBOX_NR_KINDS];\n
ifeq ($(ARCH),arm64)
$(BUILD)/gen/seccomp_prebuilt.c:
	@mkdir -p $(@D)
	printf '$(EMPTY_PREBUILT)' >$@
else
# A generator that cannot run here (no memfd_create, no seccomp) leaves
# the table empty, as a cross build's, with a warning: test_seccomp_prebuilt
# then fails where a table was expected. No leak check for it in SAN
# builds: LeakSanitizer's ptrace at exit is the fragile part (lib.sh).
$(BUILD)/gen/seccomp_prebuilt.c: $(BUILD)/tools/seccomp_gen
	@mkdir -p $(@D)
	ASAN_OPTIONS=detect_leaks=0 $< >$@.tmp && mv $@.tmp $@ || \
	{ echo "warning: $< failed: seccomp filters will be compiled at start" >&2; \
	  printf '$(EMPTY_PREBUILT)' >$@; }
endif
$(BUILD)/gen/seccomp_prebuilt.o: $(BUILD)/gen/seccomp_prebuilt.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcvisor.a $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< $(BUILD)/libcvisor.a $(LDLIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# The fake /dev/kvm for integration tests on machines without KVM.
$(BUILD)/tests/fakekvm.so: tests/fakekvm/fakekvm.c
	@mkdir -p $(@D)
	$(CC) -O1 -g -std=gnu11 -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl

unit: $(UNIT_BINS) $(BUILD)/tests/fakekvm.so
bench: all $(BENCH_BINS)
	@scripts/deps.sh bench
	bench/startup.sh
	bench/mmio-latency.sh
	bench/blk.sh

# The whole suite: unit tests, then integration tests (KVM ones skip
# clearly where /dev/kvm is missing), on the normal build and again on an
# ASan+UBSan one (scripts/check.sh).
# The builds use every CPU unless make was given its own -j (CI runs a
# plain `make check`); MAKEFLAGS shows -j only in recipes.
check: test-deps
	@jobs=; case " $(MAKEFLAGS) " in *" -j"*) ;; \
		*) jobs=-j$$(nproc 2>/dev/null || echo 1) ;; esac; \
	$(MAKE) --no-print-directory $$jobs check-build && \
	JOBS=$$jobs scripts/check.sh $(BUILD)

# What the suite runs, for one BUILD (scripts/check.sh builds BUILD-san).
check-build: cvisor guest unit example-disks $(BENCH_BINS)
ifneq ($(SAN),1)
check-build: arm64
endif

demo: all
	@scripts/demo.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the man pages
# cvisor(1) and qvmconf(5) (mdoc, in man/), the bash completion.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
install: cvisor
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BUILD)/cvisor $(DESTDIR)$(BINDIR)/cvisor
	install -m 644 man/cvisor.1 $(DESTDIR)$(MANDIR)/man1/cvisor.1
	install -m 644 man/qvmconf.5 $(DESTDIR)$(MANDIR)/man5/qvmconf.5
	install -m 644 completion/cvisor.bash $(DESTDIR)$(BASHCOMPDIR)/cvisor

clean:
	rm -rf $(BUILD)

include tests/fuzz/fuzz.mk

-include $(shell find $(BUILD)/src $(BUILD)/tests $(BUILD)/gen $(BUILD)/tools -name '*.d' -type f 2>/dev/null)
