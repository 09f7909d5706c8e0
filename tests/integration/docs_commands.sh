# Friction item 10: every command in README.md and docs/*.md is run, so the
# docs stay true. Code blocks are marked by their fence: ```sh blocks are
# run here, one command per line (\ continues), each must exit 0;
# ```sh tested-by=PATH blocks are run by that test (PATH must exist);
# ```sh skip="REASON" blocks are explicit exceptions; ```text, ```c,
# ```qvmconf... are not commands. A block with no mark is an error, so a
# new command cannot slip in untested. The commands run in a copy of the
# tree's layout where cvisor (and build/cvisor) is the build's, against the
# fake /dev/kvm, and the docs' placeholders exist: guest.qvmconf and
# guest.elf (the test guest's hello), bzImage, initrd.img.
. "$(dirname "$0")/lib.sh"
need_fake
command -v python3 >/dev/null || skip "needs python3 to read the Markdown"
top=$(pwd)
# files whose blocks their owners have not marked yet: listed, not failed
unmarked_ok="docs/control.md docs/virtio-net.md docs/benchmarks.md"

W=$TMP/w
mkdir -p "$W/build" "$TMP/bin"
for e in "$top"/* ; do
	n=$(basename "$e")
	case $n in build*|examples) continue ;; esac
	ln -s "$e" "$W/$n"
done
cp -r "$top/examples" "$W/examples"
for e in "$top/$BUILD"/*; do ln -s "$e" "$W/build/$(basename "$e")"; done
rm -f "$W/build/cvisor"
real=$(cd "$top" && realpath "$CVISOR")
fake=$(cd "$top" && realpath "$FAKEKVM")
cat >"$TMP/bin/cvisor" <<EOF_W
#!/bin/sh
CVISOR_SECCOMP=\${CVISOR_SECCOMP:-off} FAKEKVM_SCRIPT=\${FAKEKVM_SCRIPT:-poweroff} \
LD_PRELOAD=$fake ASAN_OPTIONS=verify_asan_link_order=0 exec $real "\$@" </dev/null
EOF_W
chmod +x "$TMP/bin/cvisor"
cp "$TMP/bin/cvisor" "$W/build/cvisor"
sed 's|load ../build/guest/testguest.elf|load build/guest/testguest.elf|' \
	"$top/examples/hello.qvmconf" >"$W/guest.qvmconf"
ln -s build/guest/testguest.elf "$W/guest.elf"
cp "$top/$GUEST" "$W/bzImage"
head -c 4096 /dev/zero >"$W/initrd.img"

python3 - "$TMP/cmds" "$unmarked_ok" README.md docs/*.md <<'EOF_PY' || fail "$(cat "$TMP/cmds.err" 2>/dev/null)"
import os, re, shlex, sys
out, ok_unmarked, files = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
errors, cmds, notes = [], [], []
for f in files:
    lines = open(f).read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(.*)$", lines[i])
        if not m:
            i += 1
            continue
        info, start = m.group(1).strip(), i + 1
        j = start
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        body = lines[start:j]
        i = j + 1
        if not info:
            if f in ok_unmarked:
                notes.append("%s:%d: unmarked block (its owner marks it)" % (f, start))
            else:
                errors.append("%s:%d: code block without a mark (```sh, ```text...)" % (f, start))
            continue
        words = shlex.split(info)
        if words[0] != "sh":
            continue
        opts = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        if "tested-by" in opts:
            if not os.path.exists(opts["tested-by"]):
                errors.append("%s:%d: tested-by %s does not exist" % (f, start, opts["tested-by"]))
            continue
        if "skip" in opts:
            if not opts["skip"].strip():
                errors.append("%s:%d: skip without a reason" % (f, start))
            continue
        cmd, first = "", None
        for k, l in enumerate(body):
            if first is None:
                first = start + k + 1
            cmd += l
            if cmd.endswith("\\"):
                cmd = cmd[:-1] + " "
                continue
            if cmd.strip():
                cmds.append("%s:%d\t%s" % (f, first, cmd.strip()))
            cmd, first = "", None
open(out, "w").write("\n".join(cmds) + "\n")
for n in notes:
    print(n)
if errors:
    open(out + ".err", "w").write("\n".join(errors))
    sys.exit(1)
EOF_PY
n=0
while IFS=$'\t' read -r where cmd; do
	[ -n "$cmd" ] || continue
	n=$((n + 1))
	# `command timeout`: on expiry the command's whole process group
	# (lib.sh's alias would stop only the shell)
	(cd "$W" && PATH=$TMP/bin:$PATH command timeout 120 bash -c "$cmd") >"$TMP/out" 2>&1 ||
		fail "$where: '$cmd' failed (status $?): $(tail -20 "$TMP/out")"
done <"$TMP/cmds"
[ $n -ge 8 ] || fail "only $n commands found in the docs"
echo "$n documented commands ran; the others are marked tested-by or skip"
