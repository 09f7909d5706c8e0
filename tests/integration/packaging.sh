# Packaging: make install with PREFIX and DESTDIR puts the binary, the man
# pages and the bash completion in place; the man pages are lint-clean
# mdoc and describe every option --help lists, every statement and every
# vdev type; the completion completes options, subcommands and types; the
# version is a version.
. "$(dirname "$0")/lib.sh"
[ -x "$CVISOR" ] || fail "$CVISOR not built"
d=$TMP/dest
# the build is the suite's (maybe a sanitizer one, built with SAN=1):
# install it as it is, remaking nothing
make -s --no-print-directory install BUILD="$BUILD" PREFIX=/opt/cv DESTDIR="$d" \
	-o "$BUILD/cvisor" -o "$BUILD/src/main.o" -o "$BUILD/libcvisor.a" \
	-o "$BUILD/version.stamp" >"$TMP/out" 2>&1 ||
	fail "make install: $(cat "$TMP/out")"
for f in bin/cvisor share/man/man1/cvisor.1 share/man/man5/qvmconf.5 \
	 share/bash-completion/completions/cvisor; do
	[ -s "$d/opt/cv/$f" ] || fail "make install did not install $f"
done
[ -x "$d/opt/cv/bin/cvisor" ] || fail "installed cvisor is not executable"
"$d/opt/cv/bin/cvisor" -V | grep -Eq '^cvisor [0-9]+\.[0-9]+\.[0-9]+' || fail "version: $("$d/opt/cv/bin/cvisor" -V)"

if command -v groff >/dev/null; then
	for m in man/cvisor.1 man/qvmconf.5; do
		groff -mdoc -ww -z -Tutf8 "$m" >"$TMP/lint" 2>&1
		[ ! -s "$TMP/lint" ] || fail "$m: $(cat "$TMP/lint")"
	done
fi
# every option of --help is in cvisor(1)
"$CVISOR" --help | awk '/^options:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' |
	sed 's/,$//' >"$TMP/opts"
[ -s "$TMP/opts" ] || fail "no options in --help"
while read -r o; do
	# mdoc writes --log as "Fl -log": look for the name without dashes
	name=${o#-}; name=${name#-}
	grep -Eq "Fl -?$name( |$)" man/cvisor.1 || fail "cvisor.1 does not describe $o"
done <"$TMP/opts"
# every supported vdev type and every statement is in qvmconf(5)
"$CVISOR" --help | awk '/^vdev types/ { on = 1; next } /^$/ { on = 0 } on' | tr ' ' '\n' | grep . >"$TMP/types"
[ "$(wc -l <"$TMP/types")" -ge 8 ] || fail "too few types in --help: $(cat "$TMP/types")"
while read -r t; do
	grep -q "^\.It Cm $t\$" man/qvmconf.5 || fail "qvmconf.5 does not describe vdev $t"
done <"$TMP/types"
for s in system ram rom reserve cpu load cmdline vdev logger reboot triplefault api; do
	grep -Eq "^\.It (Oo )?(Cm [a-z| ]+ Oc )?Cm $s\b" man/qvmconf.5 || fail "qvmconf.5 does not describe $s"
done

# the completion, with the installed binary
cat >"$TMP/comp.sh" <<EOF_C
. "$d/opt/cv/share/bash-completion/completions/cvisor"
complete_words() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\$# - 1)); _cvisor; echo "\${COMPREPLY[*]}"; }
complete_words "$d/opt/cv/bin/cvisor" --ver
complete_words "$d/opt/cv/bin/cvisor" ch
complete_words "$d/opt/cv/bin/cvisor" ram 64m vdev virtio-b
complete_words "$d/opt/cv/bin/cvisor" ram 64m vdev virtio-blk thr
EOF_C
bash "$TMP/comp.sh" >"$TMP/comp" 2>&1 || fail "completion: $(cat "$TMP/comp")"
sed -n 1p "$TMP/comp" | grep -qw -- --verbose || fail "completion of --ver: $(cat "$TMP/comp")"
sed -n 1p "$TMP/comp" | grep -qw -- --version || fail "completion of --ver: $(cat "$TMP/comp")"
[ "$(sed -n 2p "$TMP/comp")" = check ] || fail "completion of ch: $(cat "$TMP/comp")"
[ "$(sed -n 3p "$TMP/comp")" = virtio-blk ] || fail "completion of a vdev type: $(cat "$TMP/comp")"
sed -n 4p "$TMP/comp" | grep -qw threads || fail "completion of a type's option: $(cat "$TMP/comp")"
grep -q "Apache License" LICENSE || fail "no Apache-2.0 LICENSE"
[ -s CHANGELOG.md ] || fail "no CHANGELOG.md"
echo "installed under PREFIX/DESTDIR; man pages complete and lint-clean; completion works"
