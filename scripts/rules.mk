# The operator's pieces (docs/operate.md): the default node config and
# node-setup.sh.  Included by the top-level Makefile.
#
# The default config (gate off) is written only when the node has none, and
# `make uninstall` removes it only when it is still byte for byte the
# default: an operator's config is never overwritten or deleted.

L1VH_CONFDIR := $(SYSCONFDIR)/l1vh

INSTALL_TARGETS += install-node
UNINSTALL_TARGETS += uninstall-node

install-node:
	install -d $(DESTDIR)$(L1VH_CONFDIR) $(DESTDIR)$(LIBEXECDIR)
	@if [ -e $(DESTDIR)$(L1VH_CONFDIR)/config.json ]; then \
	  echo "kept $(DESTDIR)$(L1VH_CONFDIR)/config.json (it exists)"; \
	else \
	  echo "install -m 0644 config/config.json $(DESTDIR)$(L1VH_CONFDIR)/config.json"; \
	  install -m 0644 config/config.json $(DESTDIR)$(L1VH_CONFDIR)/config.json; \
	fi
	install -m 0755 scripts/node-setup.sh $(DESTDIR)$(LIBEXECDIR)/node-setup.sh

uninstall-node:
	rm -f $(DESTDIR)$(LIBEXECDIR)/node-setup.sh
	@if cmp -s config/config.json $(DESTDIR)$(L1VH_CONFDIR)/config.json; then \
	  echo "rm -f $(DESTDIR)$(L1VH_CONFDIR)/config.json"; \
	  rm -f $(DESTDIR)$(L1VH_CONFDIR)/config.json; \
	elif [ -e $(DESTDIR)$(L1VH_CONFDIR)/config.json ]; then \
	  echo "kept $(DESTDIR)$(L1VH_CONFDIR)/config.json (changed from the default)"; \
	fi
	-@rmdir $(DESTDIR)$(L1VH_CONFDIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null || true

.PHONY: install-node uninstall-node
