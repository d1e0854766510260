# xquiesce: top-level build.
#
#   make            the agent, xquiescectl, xquiesce-host, and the module for
#                   the running kernel if its headers are installed
#   make deps       install what building and testing need (apt-get, root)
#   make test       install test dependencies (apt-get) and run every suite
#   make demo       a Xen host and guest in QEMU, one quiesced snapshot
#   make bench      the freeze-window benchmarks (not part of make test):
#                   in QEMU (bench/run) and end to end under Xen with a
#                   database's commits (bench/xen); BENCH_PARTS="qemu" or
#                   "xen" runs one: build/bench/, docs/benchmarks.md
#   make install    userspace programs, unit, configuration, man pages
#                   (install-agent, install-host, install-module-config)
#   make install-dkms
#                   the module's source for DKMS, /usr/src/xquiesce-VERSION
#   make deb        Debian packages xquiesce-dkms, xquiesce, xquiesce-host
#   make rpm        RPM packages for RHEL-family guests (Debian's rpmbuild)
#   make static     build/static/xquiesce-host, one static binary for dom0s
#
# The module builds against any kernel tree: make -C kmod KDIR=/path.

PREFIX ?= /usr
DESTDIR ?=
export PREFIX DESTDIR

# kmod/VERSION is the one version of the project: DKMS, Debian and RPM
# packages all carry it (tests/pkg checks that they agree).
VERSION := $(shell cat kmod/VERSION)
# The agent reads /etc/xquiesce whatever the prefix: it is compiled in.
SYSCONFDIR := /etc
MANDIR ?= $(PREFIX)/share/man
PKG_CONFIG ?= pkg-config
UDEVDIR ?= $(or $(shell $(PKG_CONFIG) --variable=udevdir udev 2>/dev/null),/lib/udev)
MODULESLOADDIR ?= $(or $(shell $(PKG_CONFIG) --variable=modulesloaddir systemd 2>/dev/null),/usr/lib/modules-load.d)
DKMSDIR ?= /usr/src/xquiesce-$(VERSION)
export MANDIR

all: userspace host
	@if [ -d /lib/modules/$$(uname -r)/build ]; then $(MAKE) -C kmod; \
	else echo "kmod: no headers for $$(uname -r), module not built (make -C kmod KDIR=...)"; fi

# What the userspace programs link, as pkg-config module=Debian package.
# A missing one stops the build with one line, before the sub-makes print a
# screen of pkg-config errors.
BUILD_DEPS := xenstore=libxen-dev libkmod=libkmod-dev libsystemd=libsystemd-dev \
	libmicrohttpd=libmicrohttpd-dev gnutls=libgnutls28-dev
build-deps:
	@missing=; \
	command -v $(CC) >/dev/null || missing="$$missing build-essential"; \
	command -v $(PKG_CONFIG) >/dev/null || missing="$$missing pkg-config"; \
	for dep in $(BUILD_DEPS); do \
		$(PKG_CONFIG) --exists $${dep%%=*} 2>/dev/null || missing="$$missing $${dep#*=}"; \
	done; \
	[ -z "$$missing" ] || { echo "make: missing build dependencies:$$missing (apt-get install them, or run 'make deps' as root)" >&2; exit 1; }

userspace: build-deps
	$(MAKE) -C daemon

host: build-deps
	$(MAKE) -C host

deps:
	tests/lib/install-deps.sh

test: deps
	tests/run $(SUITES)

demo: deps
	tests/xen/demo

BENCH_PARTS ?= qemu xen
bench:
	XQ_EXTRA_PACKAGES="jq gnuplot-nox libsqlite3-dev" tests/lib/install-deps.sh
	$(if $(filter qemu,$(BENCH_PARTS)),bench/run $(BENCH_KERNELS))
	$(if $(filter xen,$(BENCH_PARTS)),bench/xen $(BENCH_XEN_KERNELS))

install: install-agent install-host install-module-config

# Man pages carry @VERSION@ in their title line.
install_man = install -d $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(1))) && \
	sed 's/@VERSION@/$(VERSION)/' man/$(1) >$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(1)))/$(1) && \
	chmod 0644 $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(1)))/$(1)

AGENT_MAN := xquiesced.8 xquiescectl.8 xquiesced.conf.5 xquiesce-hooks.7
AGENT_CONF := $(DESTDIR)$(SYSCONFDIR)/xquiesce
# The example hooks keep their .example suffix, which the agent skips;
# installing a copy without it enables one.
install-agent: userspace
	$(MAKE) -C daemon install
	install -d -m 0755 $(AGENT_CONF)/hooks.d
	@if [ -e $(AGENT_CONF)/xquiesced.conf ]; then \
		echo "install: keeping $(AGENT_CONF)/xquiesced.conf"; \
	else \
		install -m 0644 conf/xquiesced.conf $(AGENT_CONF)/xquiesced.conf; \
	fi
	install -m 0755 hooks/*.example $(AGENT_CONF)/hooks.d/
	$(foreach page,$(AGENT_MAN),$(call install_man,$(page)) && ) true

install-host: host
	$(MAKE) -C host install
	$(call install_man,xquiesce-host.8)

install-module-config:
	install -D -m 0644 packaging/modules-load/xquiesce.conf \
		$(DESTDIR)$(MODULESLOADDIR)/xquiesce.conf
	install -D -m 0644 packaging/udev/60-xquiesce.rules \
		$(DESTDIR)$(UDEVDIR)/rules.d/60-xquiesce.rules
	$(call install_man,xquiesce.4)

# The DKMS tree has the repository's layout (see dkms.conf); the test-only
# fault injection (kmod/fault.c) and kbuild's generated *.mod.c are never shipped.
DKMS_SRC := $(filter-out kmod/fault.c kmod/%.mod.c,$(wildcard kmod/*.c kmod/*.h)) \
	kmod/Kbuild kmod/Makefile kmod/VERSION
install-dkms:
	install -d $(DESTDIR)$(DKMSDIR)/kmod/compat/tests $(DESTDIR)$(DKMSDIR)/include/uapi/linux
	install -m 0644 dkms.conf $(DESTDIR)$(DKMSDIR)/
	install -m 0644 $(DKMS_SRC) $(DESTDIR)$(DKMSDIR)/kmod/
	install -m 0644 kmod/compat/Kbuild.include $(DESTDIR)$(DKMSDIR)/kmod/compat/
	install -m 0644 kmod/compat/tests/*.c $(DESTDIR)$(DKMSDIR)/kmod/compat/tests/
	install -m 0644 include/uapi/linux/xquiesce.h $(DESTDIR)$(DKMSDIR)/include/uapi/linux/

# Packages are built from a copy of the tree (files git tracks or would
# track, so build products stay out), never in place.
source_files = $$(git ls-files --cached --others --exclude-standard || \
	echo "make: deb and rpm package a git checkout" >&2)

deb:
	rm -rf build/deb && mkdir -p build/deb/xquiesce-$(VERSION)
	tar -c --ignore-failed-read -f - $(source_files) | tar -x -C build/deb/xquiesce-$(VERSION)
	cd build/deb/xquiesce-$(VERSION) && \
		DEB_BUILD_OPTIONS="parallel=2 $(DEB_BUILD_OPTIONS)" dpkg-buildpackage -us -uc -b
	@ls build/deb/*.deb

# rpmbuild finds no RHEL build dependencies in Debian's empty rpm database,
# hence --nodeps; the spec itself states them for a RHEL build host.
rpm:
	rm -rf build/rpm && mkdir -p build/rpm/SOURCES
	tar -c --ignore-failed-read --transform 's,^,xquiesce-$(VERSION)/,' -zf \
		build/rpm/SOURCES/xquiesce-$(VERSION).tar.gz $(source_files)
	rpmbuild -bb --nodeps --define "_topdir $(CURDIR)/build/rpm" packaging/rpm/xquiesce.spec
	@ls build/rpm/RPMS/*/*.rpm

# glibc and libxenstore linked in: it runs on any x86-64 dom0 whose kernel
# is 3.2 or later, whatever its userland. A dynamic executable names its
# loader in an INTERP program header; a static one has none.
static: build-deps
	$(MAKE) -C host O=$(CURDIR)/build/static LDFLAGS=-static \
		LDLIBS="$$($(PKG_CONFIG) --static --libs xenstore)" $(CURDIR)/build/static/xquiesce-host
	@if readelf -lW build/static/xquiesce-host | grep -q INTERP; then \
		echo "static: build/static/xquiesce-host is not statically linked" >&2; exit 1; fi
	@echo "build/static/xquiesce-host: statically linked, $$(stat -c %s build/static/xquiesce-host) bytes"

clean:
	$(MAKE) -C daemon clean
	$(MAKE) -C host clean
	$(MAKE) -C kmod clean
	rm -rf build

.PHONY: all build-deps userspace host deps test demo bench install install-agent install-host \
	install-module-config install-dkms deb rpm static clean
