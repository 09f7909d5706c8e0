# A guest reset loads the boot image again from the descriptor kept since
# the first build (vm/vm_kept.c; issue 12: no copy of its bytes stays
# resident): a file written in place meanwhile loads as it is now, with a
# warning; a file replaced by a new one (rename) still loads as it was.
# The raw guest prints R on COM1, waits for a byte on it, then resets
# through the i8042; the other image exits with 5. Before, the reset
# reloaded the copy read at start: the first case printed R again and
# waited (here: timed out).
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
# mov dx,0x3f8; mov al,'R'; out dx,al; 1: mov dx,0x3fd; in al,dx;
# test al,1; jz 1b; mov al,0xfe; out 0x64,al; hlt
wait_reset='\x66\xba\xf8\x03\xb0\x52\xee\x66\xba\xfd\x03\xec\xa8\x01\x74\xf7\xb0\xfe\xe6\x64\xf4'
exit5='\xb0\x05\xe6\xf4\xf4'          # mov al,5; out 0xf4,al; hlt
mkfifo "$TMP/in"
exec 3<>"$TMP/in"

# start_vm: cvisor on $TMP/img in the background ($pid), console in
# $TMP/console; wait_console N: until the console has N bytes (60 s).
start_vm() {
	: >"$TMP/console"
	timeout 60 "$CVISOR" ram 1m,63m reserve loc io:0x40,4 \
		load "0x100000,$TMP/img" vdev ser8250 hostdev ">$TMP/console" \
		hostdev "<$TMP/in" vdev pckeyboard vdev debug-exit mode plain \
		</dev/null >"$TMP/out" 2>"$TMP/err" &
	pid=$!
}
wait_console() {
	for _ in $(seq 600); do
		[ "$(wc -c <"$TMP/console")" -ge "$1" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "console '$(cat "$TMP/console")', expected $1 bytes; $(tail -3 "$TMP/err")"
}

# written in place: the reset loads the new bytes
printf "$wait_reset" >"$TMP/img"
start_vm
wait_console 1
printf "$exit5" >"$TMP/img"             # same inode, new contents
printf x >&3
wait "$pid"
STATUS=$?
expect_status 5
[ "$(cat "$TMP/console")" = R ] || fail "console '$(cat "$TMP/console")', expected R"
grep -q "changed on disk since the VM was first built" "$TMP/err" ||
	fail "no warning: $(cat "$TMP/err")"

# replaced by another file: the reset loads the one it had
printf "$wait_reset" >"$TMP/img"
start_vm
wait_console 1
printf "$exit5" >"$TMP/img.new"
mv "$TMP/img.new" "$TMP/img"
printf x >&3
wait_console 2                           # the same image ran again
kill -TERM "$pid"
wait "$pid"
[ "$(cat "$TMP/console")" = RR ] || fail "console '$(cat "$TMP/console")', expected RR"
if grep -q "changed on disk" "$TMP/err"; then fail "warned for a replaced file"; fi
echo "in place: new image after the reset; replaced: the original again"
