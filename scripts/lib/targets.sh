# shellcheck shell=bash
# The one reader of fuzz/targets.tsv, the fuzz-target manifest (its header
# says what each column means). Sourced, never run: by scripts/lib/fuzz.sh
# (so by every fuzzing script and fuzz/run-*.sh) and by
# .clusterfuzzlite/build.sh, which has nothing else of scripts/lib/.

SPW_FUZZ_COLUMNS=(kind source build seeds mutator afl_t cflite peer what)

# spw_fuzz_manifest_load FILE: read FILE into SPW_FUZZ_NAMES (the targets in
# file order) and one associative array per column, SPW_FUZZ_<COLUMN>
# (SPW_FUZZ_KIND[frame] = own, ...). A malformed row is an error (status 2,
# saying which row), never a target silently left out.
spw_fuzz_manifest_load() {
    local file=$1 line name rest c n=0
    declare -ga SPW_FUZZ_NAMES=()
    for c in "${SPW_FUZZ_COLUMNS[@]}"; do declare -gA "SPW_FUZZ_${c^^}=()"; done
    [ -f "$file" ] || { echo "no fuzz-target manifest $file" >&2; return 2; }
    while IFS= read -r line; do
        n=$((n + 1))
        case "$line" in ''|'#'*) continue ;; esac
        read -r name rest <<<"$line"
        local -a f=()
        # The first columns are single words; "what" keeps its spaces.
        read -r -a f <<<"$rest"
        if [ ${#f[@]} -lt ${#SPW_FUZZ_COLUMNS[@]} ]; then
            echo "$file:$n: fewer than ${#SPW_FUZZ_COLUMNS[@]} columns after the name" >&2
            return 2
        fi
        local i=0 what=$rest
        for c in "${SPW_FUZZ_COLUMNS[@]}"; do
            [ "$c" = what ] && break
            local -n col="SPW_FUZZ_${c^^}"
            col[$name]=${f[$i]}
            unset -n col
            what=${what#*"${f[$i]}"}
            i=$((i + 1))
        done
        SPW_FUZZ_WHAT[$name]=${what#"${what%%[![:space:]]*}"}
        case "${SPW_FUZZ_KIND[$name]}" in own|ref|baseline) ;; *)
            echo "$file:$n: $name: kind '${SPW_FUZZ_KIND[$name]}' is not own, ref or baseline" >&2
            return 2 ;;
        esac
        SPW_FUZZ_NAMES+=("$name")
    done <"$file"
}

# spw_fuzz_targets [COLUMN=VALUE...]: the targets whose columns all match
# (VALUE may be a glob: build='src:*'), one per line, in manifest order.
spw_fuzz_targets() {
    local t cond c v ok
    for t in "${SPW_FUZZ_NAMES[@]}"; do
        ok=1
        for cond in "$@"; do
            c=${cond%%=*} v=${cond#*=}
            local -n col="SPW_FUZZ_${c^^}"
            # shellcheck disable=SC2053
            [[ ${col[$t]} == $v ]] || ok=0
            unset -n col
        done
        [ $ok = 0 ] || echo "$t"
    done
}
