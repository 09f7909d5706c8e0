# libFuzzer targets: tests/fuzz/fuzz_TARGET.c, one per attack surface, with
# a seed corpus in tests/fuzz/corpus/TARGET/ and a dictionary in
# tests/fuzz/TARGET.dict. Included from the top Makefile.
#
#   make fuzz                  every target for FUZZ_S (20) seconds
#   make fuzz FUZZ_S=600 FUZZ_TARGETS=config
#
# The library is compiled again with clang and
# -fsanitize=fuzzer-no-link,address,undefined into FUZZ_BUILD (default
# $(BUILD)-fuzz, so build-fuzz next to the default build/), never mixed
# with the gcc objects. tests/fuzz/run.sh runs the targets (see there).

FUZZ_CC      ?= clang
FUZZ_BUILD   ?= $(BUILD)-fuzz
FUZZ_S       ?= 20
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
# No -Werror for the library: clang's warnings differ from gcc's, and the
# gcc build is the one that enforces them. The harnesses get -Werror.
FUZZ_CFLAGS  := -O1 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
                -D_GNU_SOURCE -fno-strict-aliasing -Isrc -MMD -MP $(FUZZ_SAN)
FUZZ_OBJS    := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o) \
                $(FUZZ_BUILD)/gen/seccomp_prebuilt.o
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_S) $(FUZZ_TARGETS)

$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -w -fsanitize=fuzzer-no-link -c -o $@ $<

# The build-time seccomp table (Makefile: tools/seccomp_gen), as the
# library has it.
$(FUZZ_BUILD)/gen/seccomp_prebuilt.o: $(BUILD)/gen/seccomp_prebuilt.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -w -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libcvisor.a: $(FUZZ_OBJS)
	@rm -f $@
	@echo "  AR      $@"
	@$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h \
		$(FUZZ_BUILD)/libcvisor.a
	@mkdir -p $(@D)
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -Itests/unit -Itests/fuzz \
		-fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libcvisor.a $(LDLIBS)

-include $(shell find $(FUZZ_BUILD) -name '*.d' -type f 2>/dev/null)
