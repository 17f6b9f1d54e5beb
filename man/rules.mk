# Manual pages: l1vh-hook(8), l1vh-shim(8), l1vh.json(5).  Included by the
# top-level Makefile.

MANDIR ?= $(PREFIX)/share/man
MAN8 := l1vh-hook.8 l1vh-shim.8
MAN5 := l1vh.json.5

INSTALL_TARGETS += install-man
UNINSTALL_TARGETS += uninstall-man

install-man:
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	for f in $(MAN8); do install -m 0644 man/$$f $(DESTDIR)$(MANDIR)/man8/$$f || exit 1; done
	for f in $(MAN5); do install -m 0644 man/$$f $(DESTDIR)$(MANDIR)/man5/$$f || exit 1; done

uninstall-man:
	for f in $(MAN8); do rm -f $(DESTDIR)$(MANDIR)/man8/$$f; done
	for f in $(MAN5); do rm -f $(DESTDIR)$(MANDIR)/man5/$$f; done

.PHONY: install-man uninstall-man
