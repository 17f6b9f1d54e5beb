# l1vh-shim: the runc-compatible exec shim (docs/shim.md).  Included by the
# top-level Makefile.  Links yajl (the shim reads and writes JSON) and, for
# its sandboxed editing child, libcap and libseccomp; every privileged step
# stays in the hook.

SHIM_SRC     := $(wildcard shim/*.c)
SHIM_OBJ     := $(SHIM_SRC:%.c=$(BUILD)/%.o)
# Everything but main(): also linked into the unit tests.
SHIM_LIB_OBJ := $(filter-out $(BUILD)/shim/main.o,$(SHIM_OBJ))
SHIM_DATADIR ?= $(PREFIX)/share/l1vh

PROGRAMS += $(BUILD)/l1vh-shim
INSTALL_TARGETS += install-shim
UNINSTALL_TARGETS += uninstall-shim

$(BUILD)/l1vh-shim: $(SHIM_OBJ) $(COMMON_OBJ)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(YAJL_LIBS) $(shell $(PKG_CONFIG) --libs libcap libseccomp)

$(BUILD)/unit-tests: $(SHIM_LIB_OBJ)

# The node drop-ins are installed as examples with the shim's installed
# path filled in; enabling them is the operator's step (docs/shim.md).
SHIM_CONFIGS := containerd-v2.toml containerd-v3.toml crio-l1vh.conf runtimeclass.yaml kubevirt-cr.yaml

install-shim: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHIM_DATADIR)
	install -m 0755 $(BUILD)/l1vh-shim $(DESTDIR)$(BINDIR)/l1vh-shim
	for f in $(SHIM_CONFIGS); do \
	  sed 's|/usr/local/bin/l1vh-shim|$(BINDIR)/l1vh-shim|g' config/$$f > $(DESTDIR)$(SHIM_DATADIR)/$$f && \
	  chmod 0644 $(DESTDIR)$(SHIM_DATADIR)/$$f || exit 1; \
	done

uninstall-shim:
	rm -f $(DESTDIR)$(BINDIR)/l1vh-shim
	for f in $(SHIM_CONFIGS); do rm -f $(DESTDIR)$(SHIM_DATADIR)/$$f; done

.PHONY: install-shim uninstall-shim
