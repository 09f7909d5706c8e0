# bash completion for cvisor: options, subcommands, @files, statements,
# vdev types and their options (asked from cvisor itself, so they match
# the binary installed).
_cvisor_words()
{
	# the words of `cvisor --help` / `cvisor help vdev TYPE` sections
	"$1" --help 2>/dev/null | awk '
		/^options:/ { sect = "opt"; next }
		/^vdev types/ { sect = "vdev"; next }
		/^exit status/ { sect = ""; next }
		sect == "opt" && $1 ~ /^-/ { for (i = 1; i <= NF; i++) if ($i ~ /^--?[a-zA-Z]/) { sub(",", "", $i); print "opt", $i } }
		sect == "vdev" && NF { for (i = 1; i <= NF; i++) print "vdev", $i }'
}

_cvisor()
{
	local cur prev cvisor=${COMP_WORDS[0]} words type i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	words=$(_cvisor_words "$cvisor")

	case $prev in
	--log|--api|--dump-dtb) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--arch) COMPREPLY=($(compgen -W "x86 arm64" -- "$cur")); return ;;
	--dump-acpi|--chroot) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--seccomp) COMPREPLY=($(compgen -W "on log off" -- "$cur")); return ;;
	vdev)
		COMPREPLY=($(compgen -W "$(awk '$1 == "vdev" { print $2 }' <<<"$words")" -- "$cur"))
		return ;;
	load|hostdev) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac
	case $cur in
	@*) COMPREPLY=($(compgen -f -P @ -- "${cur#@}")); return ;;
	-*) COMPREPLY=($(compgen -W "$(awk '$1 == "opt" { print $2 }' <<<"$words")" -- "$cur")); return ;;
	esac
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "check help ctl" -- "$cur"))
	fi
	# inside `vdev TYPE`: that type's own options too
	type=""
	for ((i = COMP_CWORD - 1; i > 0; i--)); do
		if [ "${COMP_WORDS[i-1]}" = vdev ]; then
			type=${COMP_WORDS[i]}
			break
		fi
	done
	local stmts="system ram rom reserve cpu load cmdline vdev logger reboot triplefault api memory firmware guest initrd data"
	local vopts=""
	[ -n "$type" ] && vopts=$("$cvisor" help vdev "$type" 2>/dev/null |
		awk '/^options:/ { on = 1; next } on && NF { print $1 }')
	COMPREPLY+=($(compgen -W "$stmts $vopts" -- "$cur"))
}
complete -o default -F _cvisor cvisor
