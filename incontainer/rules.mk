# The domain rewrite pieces that run inside a VM's container (docs/domain.md).
# Included by the top-level Makefile.  Both are built without sanitizers and
# without the hook's libraries: they run in the container, next to the
# image's own libc (l1vh-domxml.so) or with none at all (l1vh-wrap, static).
#
#   l1vh-wrap       static exec wrapper bound over the emulator / libvirt daemon
#   l1vh-domxml.so  preloaded into the libvirt daemon by l1vh-wrap (xml strategy)

IC_CFLAGS  = $(filter-out -fsanitize=% -fno-sanitize-recover=% -fPIE,$(CFLAGS)) -Iincontainer
IC_LDFLAGS = $(filter-out -fsanitize=% -pie,$(LDFLAGS))

IC_WRAP_SRC   := incontainer/wrap.c incontainer/runconf.c common/accel.c common/xmltype.c
IC_DOMXML_SRC := incontainer/domxml.c incontainer/runconf.c common/xmltype.c
IC_WRAP_OBJ   := $(IC_WRAP_SRC:%.c=$(BUILD)/incontainer/static/%.o)
IC_DOMXML_OBJ := $(IC_DOMXML_SRC:%.c=$(BUILD)/incontainer/pic/%.o)

PROGRAMS += $(BUILD)/l1vh-wrap $(BUILD)/l1vh-domxml.so
INSTALL_TARGETS += install-incontainer
UNINSTALL_TARGETS += uninstall-incontainer

$(BUILD)/incontainer/static/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(IC_CFLAGS) -fPIE -c -o $@ $<

$(BUILD)/incontainer/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (pic)"
	@$(CC) $(IC_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/l1vh-wrap: $(IC_WRAP_OBJ)
	@echo "  LD      $@"
	@$(CC) $(IC_LDFLAGS) -static-pie -o $@ $^

# -z defs: every symbol resolves against libc (dlsym included) at build time.
$(BUILD)/l1vh-domxml.so: $(IC_DOMXML_OBJ)
	@echo "  LD      $@"
	@$(CC) $(IC_LDFLAGS) -shared -Wl,-z,defs -o $@ $^

# The config reader is unit-tested (tests/unit/test_domain.c).
$(BUILD)/unit-tests: $(BUILD)/incontainer/runconf.o

# The hook finds the pieces next to itself (a build tree) or here.
$(BUILD)/hook/domain.o: override CFLAGS += -DL1VH_LIBEXECDIR='"$(LIBEXECDIR)"'

install-incontainer: all
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(BUILD)/l1vh-wrap $(DESTDIR)$(LIBEXECDIR)/l1vh-wrap
	install -m 0644 $(BUILD)/l1vh-domxml.so $(DESTDIR)$(LIBEXECDIR)/l1vh-domxml.so

uninstall-incontainer:
	rm -f $(DESTDIR)$(LIBEXECDIR)/l1vh-wrap $(DESTDIR)$(LIBEXECDIR)/l1vh-domxml.so


.PHONY: install-incontainer uninstall-incontainer
