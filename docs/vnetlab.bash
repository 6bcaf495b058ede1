# bash completion for vnetlab: verbs, options, files, lab names, endpoints, NSGs and rules.
# Installed by `make install` as $(PREFIX)/share/bash-completion/completions/vnetlab;
# without installing: `. docs/vnetlab.bash`.

_vnetlab_words()
{
	vnetlab complete "$@" 2>/dev/null
}

_vnetlab()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local verbs="up down ls show exec probe explain nsg netpol routes verify check score reset run validate capture flows graph complete"
	local verb=${COMP_WORDS[1]} words="" i
	local -a args=()

	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$verbs --help --version" -- "$cur"))
		return
	fi
	# positional words before the cursor, options and their values left out
	for ((i = 2; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--name | -n | --checks | -o | --output | --proto | --protocol | --timeout | --interval | --source-port | \
		--format | -g | --resource-group | --nsg-name | --cluster) ((i++)) ;;
		-*) ;;
		*) args+=("${COMP_WORDS[i]}") ;;
		esac
	done
	if [ "$verb" = graph ]; then
		case $prev in
		-o)
			COMPREPLY=($(compgen -f -- "$cur"))
			return ;;
		--format)
			COMPREPLY=($(compgen -W "dot mermaid svg" -- "$cur"))
			return ;;
		esac
	fi
	case $prev in
	--checks)
		COMPREPLY=($(compgen -f -X '!*.y*ml' -- "$cur") $(compgen -d -- "$cur"))
		return ;;
	-o | --output)
		COMPREPLY=($(compgen -W "table json jsonc tsv yaml none" -- "$cur"))
		return ;;
	--proto | --protocol)
		COMPREPLY=($(compgen -W "tcp udp icmp" -- "$cur"))
		return ;;
	--name | -n | --nsg-name | --timeout | --interval | --source-port | --priority | --cluster)
		return ;;
	-g | --resource-group)
		COMPREPLY=($(compgen -W "$(_vnetlab_words labs)" -- "$cur") $(compgen -f -X '!*.y*ml' -- "$cur"))
		return ;;
	--access)
		COMPREPLY=($(compgen -W "Allow Deny" -- "$cur"))
		return ;;
	--direction)
		COMPREPLY=($(compgen -W "Inbound Outbound" -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		case $verb in
		up) words="--name --dry-run --quiet" ;;
		down) words="--name --all" ;;
		ls) words="-o --all-users" ;;
		check) words="--checks --name -o" ;;
		score) words="--checks --all -o --watch --interval" ;;
		run) words="--name --keep --checks" ;;
		probe) words="--proto --timeout -o" ;;
		explain) words="--proto --source-port -o" ;;
		flows) words="-o --output --follow" ;;
		netpol) words="--cluster -o --output" ;;
		graph) words="--format -o --output -w" ;;
		nsg) words="--include-default -o --output -g --resource-group --nsg-name -n --name --priority --access
			--direction --protocol --source-address-prefixes --source-port-ranges
			--destination-address-prefixes --destination-port-ranges --description" ;;
		*) words="-o" ;;
		esac
		COMPREPLY=($(compgen -W "$words --help" -- "$cur"))
		return
	fi
	local labs files
	labs=$(_vnetlab_words labs)
	files=$(compgen -f -X '!*.y*ml' -- "$cur"; compgen -d -S / -- "$cur")
	case $verb in
	up | run | validate)
		[ ${#args[@]} -eq 0 ] && COMPREPLY=($files) ;;
	down | show | graph | check)
		[ ${#args[@]} -eq 0 ] && COMPREPLY=($(compgen -W "$labs" -- "$cur") $files) ;;
	reset | flows)
		[ ${#args[@]} -eq 0 ] && COMPREPLY=($(compgen -W "$labs" -- "$cur")) ;;
	score)
		COMPREPLY=($(compgen -W "$labs" -- "$cur")) ;;
	exec | probe | explain | routes)
		if [ ${#args[@]} -eq 0 ]; then
			COMPREPLY=($(compgen -W "$labs" -- "$cur") $files)
		elif [ ${#args[@]} -le 2 ] && [ "$verb" != routes -o ${#args[@]} -eq 1 ]; then
			[ "$verb" = exec ] && [ ${#args[@]} -eq 2 ] && return
			COMPREPLY=($(compgen -W "$(_vnetlab_words endpoints "${args[0]}")" -- "$cur"))
		fi ;;
	netpol)
		case ${#args[@]} in
		0) COMPREPLY=($(compgen -W "list apply delete" -- "$cur")) ;;
		1) if [ "${args[0]}" = list ]; then COMPREPLY=($(compgen -W "$labs" -- "$cur") $files);
		   else COMPREPLY=($(compgen -W "$labs" -- "$cur")); fi ;;
		2) [ "${args[0]}" = apply ] && COMPREPLY=($files) ;;
		esac ;;
	nsg)
		if [ ${#args[@]} -eq 0 ]; then
			COMPREPLY=($(compgen -W "show list import rule" -- "$cur"))
		elif [ "${args[0]}" = import ]; then
			[ ${#args[@]} -eq 1 ] && COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -S / -- "$cur"))
		elif [ "${args[0]}" = list ]; then
			[ ${#args[@]} -eq 1 ] && COMPREPLY=($(compgen -W "$labs" -- "$cur") $files)
		elif [ "${args[0]}" = show ]; then
			case ${#args[@]} in
			1) COMPREPLY=($(compgen -W "$labs" -- "$cur") $files) ;;
			2) COMPREPLY=($(compgen -W "$(_vnetlab_words nsgs "${args[1]}")" -- "$cur")) ;;
			esac
		else
			case ${#args[@]} in
			1) COMPREPLY=($(compgen -W "list show create update delete add set" -- "$cur")) ;;
			2) COMPREPLY=($(compgen -W "$labs" -- "$cur") $files) ;;
			3) COMPREPLY=($(compgen -W "$(_vnetlab_words nsgs "${args[2]}")" -- "$cur")) ;;
			4) COMPREPLY=($(compgen -W "$(_vnetlab_words rules "${args[2]}" "${args[3]}")" -- "$cur")) ;;
			esac
		fi ;;
	esac
}
complete -o filenames -F _vnetlab vnetlab
