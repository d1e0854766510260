# xquiesce: top-level build.
#
#   make            build the module (for the running kernel, if its headers
#                   are installed) and the userspace programs
#   make test       install test dependencies (apt-get) and run every suite
#   make demo       a Xen host and guest in QEMU, one quiesced snapshot
#   make install    userspace programs, unit, configuration, man pages
#
# The module builds against any kernel tree: make -C kmod KDIR=/path.

PREFIX ?= /usr
DESTDIR ?=
export PREFIX DESTDIR

all: userspace
	@if [ -d /lib/modules/$$(uname -r)/build ]; then $(MAKE) -C kmod; \
	else echo "kmod: no headers for $$(uname -r), module not built (make -C kmod KDIR=...)"; fi

userspace:
	$(MAKE) -C daemon

deps:
	tests/lib/install-deps.sh

test: deps
	tests/run $(SUITES)

demo: deps
	tests/xen/demo

install:
	$(MAKE) -C daemon install

clean:
	$(MAKE) -C daemon clean
	$(MAKE) -C kmod clean
	rm -rf build

.PHONY: all userspace deps test demo install clean
