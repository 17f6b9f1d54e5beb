# l1vh: a plain Makefile.  `make` builds everything, `make test` runs every
# test (installing what they need first), `make SAN=1 test` does it under
# ASan+UBSan.  CFLAGS/LDFLAGS are yours; what the build needs is appended.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/l1vh
SYSCONFDIR ?= /etc
# The hooks dir CRI-O and podman read without extra configuration.
HOOKSDIR   ?= /usr/share/containers/oci/hooks.d
DESTDIR    ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=
PKG_CONFIG ?= pkg-config

ifeq ($(SAN),1)
BUILD ?= build-san
override CFLAGS += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=address,undefined
else
BUILD ?= build
override CFLAGS += -D_FORTIFY_SOURCE=2
endif

override CFLAGS += -std=gnu11 -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wnull-dereference -Werror \
	-fstack-protector-strong -fPIE -MMD -MP -Icommon
override LDFLAGS += -pie -Wl,-z,relro,-z,now

# Each library is linked only where it is used: yajl by everything that
# reads JSON; libmount, libcap and libseccomp by the hook's privileged steps.
YAJL_CFLAGS := $(shell $(PKG_CONFIG) --cflags yajl 2>/dev/null)
YAJL_LIBS   := $(shell $(PKG_CONFIG) --libs yajl 2>/dev/null)
HOOK_PKGS   := mount libcap libseccomp
HOOK_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(HOOK_PKGS) 2>/dev/null)
HOOK_LIBS   := $(shell $(PKG_CONFIG) --libs $(HOOK_PKGS) 2>/dev/null)

COMMON_SRC := $(wildcard common/*.c)
HOOK_SRC   := $(filter-out hook/main.c,$(wildcard hook/*.c))
UNIT_SRC   := $(wildcard tests/unit/*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
HOOK_OBJ   := $(HOOK_SRC:%.c=$(BUILD)/%.o)
UNIT_OBJ   := $(UNIT_SRC:%.c=$(BUILD)/%.o)

PROGRAMS := $(BUILD)/l1vh-hook
TEST_PROGRAMS := $(BUILD)/unit-tests

# Pieces that live in other directories (in-container helpers, shim, man
# pages) add themselves here: programs to PROGRAMS, and targets of their own
# to INSTALL_TARGETS / UNINSTALL_TARGETS (each honouring DESTDIR and PREFIX).
# The rules.mk fragments below define targets of their own: plain `make` is
# still `make all`.
.DEFAULT_GOAL := all
INSTALL_TARGETS :=
UNINSTALL_TARGETS :=
-include $(wildcard */rules.mk)
# The parsers under libFuzzer: make fuzz, fuzz-ci, fuzz-replay.
include tests/fuzz/rules.mk

all: deps-build $(PROGRAMS)


$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(EXTRA_INC) $(YAJL_CFLAGS) $(HOOK_CFLAGS) -c -o $@ $<

# Unit tests reach the hook's internals too.
$(BUILD)/tests/unit/%.o: EXTRA_INC := -Ihook

$(BUILD)/l1vh-hook: $(BUILD)/hook/main.o $(HOOK_OBJ) $(COMMON_OBJ)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(YAJL_LIBS) $(HOOK_LIBS)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(HOOK_OBJ) $(COMMON_OBJ)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(YAJL_LIBS) $(HOOK_LIBS)

# Install what the build and the tests need, once (idempotent, as root).
deps-build:
	@scripts/install-deps.sh build
deps-test:
	@scripts/install-deps.sh test

# `make test` runs every suite, then the parsers and the decision once
# more under ASan+UBSan; `make SAN=1 test` runs every suite that way.
ifeq ($(SAN),1)
test: deps-test all $(TEST_PROGRAMS)
	BUILD=$(BUILD) tests/run.sh
else
test: deps-test all $(TEST_PROGRAMS)
	@$(MAKE) --no-print-directory SAN=1 all build-san/unit-tests
	BUILD=$(BUILD) SAN_BUILD=build-san tests/run.sh
endif

test-unit: all $(TEST_PROGRAMS)
	$(BUILD)/unit-tests

demo: deps-test all
	BUILD=$(BUILD) scripts/demo.sh

# What l1vh costs a start, and the shim a call: measured, never asserted.
bench: deps-test all
	BUILD=$(BUILD) scripts/bench.sh

install: install-hook $(INSTALL_TARGETS)

install-hook: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(HOOKSDIR)
	install -m 0755 $(BUILD)/l1vh-hook $(DESTDIR)$(BINDIR)/l1vh-hook
	for f in l1vh.json l1vh-poststop.json; do \
	  sed 's|/usr/local/bin/l1vh-hook|$(BINDIR)/l1vh-hook|g' hooks.d/$$f > $(DESTDIR)$(HOOKSDIR)/$$f && \
	  chmod 0644 $(DESTDIR)$(HOOKSDIR)/$$f || exit 1; \
	done

uninstall: $(UNINSTALL_TARGETS)
	rm -f $(DESTDIR)$(BINDIR)/l1vh-hook $(DESTDIR)$(HOOKSDIR)/l1vh.json \
	  $(DESTDIR)$(HOOKSDIR)/l1vh-poststop.json
	@# The directories only l1vh uses go too, once empty.
	-@rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(PREFIX)/share/l1vh $(DESTDIR)$(SYSCONFDIR)/l1vh 2>/dev/null || true

clean:
	rm -rf build build-san $(FUZZ_BUILD)

.PHONY: all install-hook test test-unit demo bench install uninstall clean deps-build deps-test

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
