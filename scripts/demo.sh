#!/usr/bin/env bash
# `make demo`: boot examples/hello.qvmconf. Where this machine has no
# /dev/kvm, boot it in the nested machine of scripts/nested-kvm.sh instead
# (QEMU TCG with an emulated SVM CPU and the real kvm-amd module), saying so.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
cd "$top" || exit 1
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec "$build/cvisor" @examples/hello.qvmconf
fi
echo "demo: this machine has no usable /dev/kvm; booting the demo in the nested machine (scripts/nested-kvm.sh, about 10 s)" >&2
scripts/deps.sh test >&2 || exit 69
exec scripts/nested-kvm.sh -t 300 "$build/cvisor" @examples/hello.qvmconf
