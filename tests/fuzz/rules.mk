# l1vh fuzzing (libFuzzer, clang): tests/fuzz/README.md.  Included by the
# top-level Makefile.
#
#   make fuzz [FUZZ_SECONDS=60]   each target for FUZZ_SECONDS, corpus kept in build-fuzz/
#   make fuzz-ci                  each target for FUZZ_CI_SECONDS (3), after a replay
#   make fuzz-replay              the seeds and tests/fuzz/regressions/ once, no fuzzing
#   make fuzz-build               the binaries only
#
# A target that crashes leaves its input in build-fuzz/artifacts/<target>/;
# once fixed, the input goes to tests/fuzz/regressions/<target>/, which
# every replay runs again.

ifndef L1VH_FUZZ_RULES
L1VH_FUZZ_RULES := 1

FUZZ_CC         ?= clang
FUZZ_BUILD      ?= build-fuzz
FUZZ_SECONDS    ?= 60
FUZZ_CI_SECONDS ?= 3
FUZZ_FIXTURES   ?= $(or $(L1VH_FIXTURES),../shared/fixtures)
FUZZ_TARGETS    := state spec config hooksd quantity xmltype accel shim_edit

FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all -MMD -MP \
	-Icommon -Ishim -Itests/fuzz $(YAJL_CFLAGS)
# confine.c is libcap and libseccomp, which the parsers do not use.
FUZZ_LIB_SRC := $(filter-out common/confine.c,$(wildcard common/*.c)) shim/edit.c
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(YAJL_LIBS)

# The objects are shared by every target: keep them.
.SECONDARY: $(FUZZ_LIB_OBJ)

fuzz-build: deps-test $(FUZZ_BINS)

# Seeds: tests/fuzz/seeds/<target>, plus the fixtures and the repository's
# own files of each kind.
fuzz-replay: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_FIXTURES=$(FUZZ_FIXTURES) tests/fuzz/run.sh replay $(FUZZ_TARGETS)

fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_FIXTURES=$(FUZZ_FIXTURES) tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-ci: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_FIXTURES=$(FUZZ_FIXTURES) tests/fuzz/run.sh fuzz $(FUZZ_CI_SECONDS) $(FUZZ_TARGETS)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

.PHONY: fuzz fuzz-ci fuzz-replay fuzz-build fuzz-clean

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)

endif
