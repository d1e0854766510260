#!/bin/bash
# module-build.sh: build xquiesce.ko for one kernel of the test matrix in a
# private copy of the sources, so that kernels never share build products
# with each other or with kmod/, and print the path of the module.
#
#   module-build.sh LABEL WORKDIR [MAKE-VARIABLE=VALUE...]
#
# LABEL as for kernel-headers.sh (6.1, 6.12, 7.x, ...). WORKDIR receives
# src/ (the copy), kmod-build.log, kernel-headers.log and xquiesce.ko.
# Extra arguments go to make, e.g. XQ_FAULT_INJECTION=1 for a test build.
# Prints WORKDIR/xquiesce.ko; on failure the logs say why.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

[ $# -ge 2 ] || { echo "usage: module-build.sh LABEL WORKDIR [VAR=VALUE...]" >&2; exit 2; }
label=$1 work=$2
shift 2
mkdir -p "$work"
if ! kdir=$("$here/kernel-headers.sh" "$label" 2>"$work/kernel-headers.log"); then
	echo "module-build: no kernel tree for $label (see $work/kernel-headers.log)" >&2
	exit 1
fi
rm -rf "$work/src"
mkdir -p "$work/src"
# Sources only: kmod/ may hold another kernel's objects.
tar -C "$top" -cf - --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
	--exclude='*.mod.c' --exclude='.*.cmd' --exclude=Module.symvers \
	--exclude=modules.order --exclude=.compat --exclude='.tmp*' kmod include |
	tar -C "$work/src" -xf -
if ! make -C "$work/src/kmod" KDIR="$kdir" "$@" >"$work/kmod-build.log" 2>&1; then
	echo "module-build: xquiesce.ko does not build for $label (see $work/kmod-build.log)" >&2
	exit 1
fi
cp "$work/src/kmod/xquiesce.ko" "$work/xquiesce.ko"
echo "$work/xquiesce.ko"
