# A newc cpio writer, sourced by the scripts that build initramfs images:
# no cpio package needed.
#   cpio_entry NAME MODE FILE|"" [RDEVMAJOR RDEVMINOR]   (stdout)
# MODE includes the file type (0100644, 0040755, 0020600…); end the
# archive with `cpio_entry TRAILER!!! 0 ""`.
ino=1
pad4() { head -c $(( (4 - $1 % 4) % 4 )) /dev/zero; }
cpio_entry() {
	local name=$1 mode=$2 file=$3 size=0 nlen=$(( ${#1} + 1 ))
	[ -n "$file" ] && size=$(stat -L -c %s "$file")
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		$ino "$mode" 0 0 1 0 "$size" 0 0 "${4:-0}" "${5:-0}" $nlen 0
	printf '%s\0' "$name"
	pad4 $(( 110 + nlen ))
	if [ -n "$file" ]; then cat "$file"; pad4 "$size"; fi
	ino=$((ino + 1))
}
