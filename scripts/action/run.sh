#!/usr/bin/env bash
# scripts/action/run.sh — the shell of every step of the GitHub Action in
# action.yml (the repository root). action.yml only calls this file, with the
# action's inputs as environment variables, so that scripts/tests/action-run
# executes the same code a runner does. README.md in this folder documents
# the action for its users.
#
# usage: scripts/action/run.sh deps | build | run | --help | --version
#
#   deps   installs what building needs on a Debian/Ubuntu runner (root or
#          sudo): pkg-config and libcmocka-dev, and cmake, make and gcc when
#          no such command is on PATH; apt-get runs only when something is
#          missing. CMake must be 3.25 or newer.
#   build  builds spw-conform and spw-peer from this checkout (the action's
#          own version) in $RUNNER_TEMP/spwire/build, installs them into
#          $RUNNER_TEMP/spwire/prefix (cmake --install), writes the step
#          output prefix and puts PREFIX/bin on the job's PATH ($GITHUB_PATH).
#   run    runs spw-conform's catalogue against the implementation under test
#          and exits with spw-conform's status: 0 every gated case passed,
#          1 a conformance failure or an expectations mismatch, 2 harness
#          error (bad inputs, an IUT that does not start), 3 no case matched.
#          Writes the step outputs exit-status, junit and json (absolute
#          paths) to $GITHUB_OUTPUT, also when the run failed.
#
# Environment of `run` (action.yml maps the inputs of the same names):
#   SPW_ACTION_PREFIX  where `build` installed (its output prefix)
#   INPUT_PROTO, INPUT_EXEC, INPUT_CONNECT, INPUT_LISTEN, INPUT_EXPECT,
#   INPUT_JUNIT, INPUT_JSON, INPUT_CASES (case-id globs separated by white
#   space or commas, each an --include), INPUT_ARGS (more spw-conform
#   options, split as a shell would split words, without expansions)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/lib/common.sh"

die() { echo "spwire action: $*" >&2; exit 2; }

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; }

# group NAME / endgroup: fold the log on GitHub, plain headers elsewhere.
group() { if [ "${GITHUB_ACTIONS:-}" = true ]; then echo "::group::$*"; else spw_log "$*"; fi; }
endgroup() { if [ "${GITHUB_ACTIONS:-}" = true ]; then echo "::endgroup::"; fi; }

# set_output NAME VALUE: a step output, in the multi-line form so that no
# value can break the file's syntax.
set_output() {
    [ -n "${GITHUB_OUTPUT:-}" ] || return 0
    local delim="spwire_$RANDOM$RANDOM$RANDOM"
    printf '%s<<%s\n%s\n%s\n' "$1" "$delim" "$2" "$delim" >>"$GITHUB_OUTPUT"
}

cmake_min=3.25
cmake_ok() {
    command -v cmake >/dev/null || return 1
    local v
    v=$(cmake --version | sed -n '1s/^cmake version \([0-9][0-9.]*\).*/\1/p')
    [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$cmake_min" "$v" | sort -V | head -n1)" = "$cmake_min" ]
}

do_deps() {
    group "spwire: build dependencies"
    if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
        die "this action installs its build dependencies with apt-get (a Debian or Ubuntu runner);" \
            "elsewhere provide cmake >= $cmake_min, a C compiler, make, pkg-config and cmocka"
    fi
    # The runners' images carry their own cmake, gcc and make outside dpkg's
    # view: they are used as they are, and only what is missing is installed.
    local pk=(pkg-config libcmocka-dev)
    cmake_ok || pk+=(cmake)
    command -v cc >/dev/null || pk+=(gcc)
    command -v make >/dev/null || pk+=(make)
    spw_ensure_packages "${pk[@]}" || die "could not install: ${pk[*]}"
    cmake_ok || die "CMake $cmake_min or newer is needed; $(command -v cmake) is" \
        "'$(cmake --version | head -n1)' (Ubuntu 22.04's package is too old: use ubuntu-24.04 or Debian 12)"
    endgroup
}

do_build() {
    local dir=${RUNNER_TEMP:?RUNNER_TEMP is not set (a runner sets it)}/spwire
    local prefix=$dir/prefix
    group "spwire: build spw-conform and spw-peer into $prefix"
    # Release, no reference peers (they need NNG and nanomsg), no fuzz drivers:
    # only what judging an implementation needs.
    cmake -S "$root" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
        -DSPW_INTEROP=OFF -DSPW_FUZZ_REPLAY=OFF -DSPW_VALGRIND=OFF -DSPW_WERROR=OFF
    cmake --build "$dir/build" -j "$(nproc)"
    cmake --install "$dir/build"
    local p
    for p in spw-conform spw-peer; do
        [ -x "$prefix/bin/$p" ] || die "the install left no $prefix/bin/$p"
    done
    endgroup
    set_output prefix "$prefix"
    if [ -n "${GITHUB_PATH:-}" ]; then echo "$prefix/bin" >>"$GITHUB_PATH"; fi
}

# abs PATH: PATH made absolute against the step's working directory.
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

do_run() {
    local prefix=${SPW_ACTION_PREFIX:?SPW_ACTION_PREFIX: the build step\'s prefix is not set}
    local conform=$prefix/bin/spw-conform
    [ -x "$conform" ] || die "no spw-conform in $prefix/bin (did the build step run?)"
    # The IUT's command may name spw-peer or spw-conform without a path.
    export PATH="$prefix/bin:$PATH"
    local junit json
    junit=$(abs "${INPUT_JUNIT:-spw-conform.junit.xml}")
    json=$(abs "${INPUT_JSON:-spw-conform.json}")
    mkdir -p "$(dirname "$junit")" "$(dirname "$json")"
    local args=(--proto "${INPUT_PROTO:-}" --junit "$junit" --json "$json")
    [ -z "${INPUT_EXEC:-}" ] || args+=(--exec "$INPUT_EXEC")
    [ -z "${INPUT_CONNECT:-}" ] || args+=(--connect "$INPUT_CONNECT")
    [ -z "${INPUT_LISTEN:-}" ] || args+=(--listen "$INPUT_LISTEN")
    [ -z "${INPUT_EXPECT:-}" ] || args+=(--expect "$INPUT_EXPECT")
    local g globs=() cases=${INPUT_CASES:-}
    read -ra globs <<<"${cases//,/ }"   # read: no pathname expansion
    for g in "${globs[@]}"; do
        [[ $g == -* ]] && die "cases: '$g' is not a case-id glob"
        args+=(--include "$g")
    done
    if [ -n "${INPUT_ARGS:-}" ]; then
        # xargs splits on blanks and honours quotes and backslashes, and
        # expands nothing: the input is data, never shell code.
        local extra=() words
        words=$(mktemp)
        printf '%s' "$INPUT_ARGS" | xargs -r printf '%s\0' >"$words" ||
            { rm -f "$words"; die "args: cannot split '$INPUT_ARGS' (unbalanced quotes?)"; }
        mapfile -d '' extra <"$words"
        rm -f "$words"
        args+=("${extra[@]}")
    fi
    echo "spwire action: spw-conform ${args[*]}"
    local rc=0
    "$conform" "${args[@]}" || rc=$?
    set_output exit-status "$rc"
    set_output junit "$junit"
    set_output json "$json"
    local what
    case $rc in
        0) what="pass: every gated case passed" ;;
        1) what="FAIL: a conformance failure or an expectations mismatch" ;;
        2) what="harness error: the run could not judge (see the messages above)" ;;
        3) what="no case matched the selection" ;;
        *) what="unexpected status" ;;
    esac
    echo "spwire action: spw-conform exit status $rc ($what); reports: $junit, $json"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
        printf '**spw-conform** (%s): exit status %s, %s\n' "${INPUT_PROTO:-}" "$rc" "$what" >>"$GITHUB_STEP_SUMMARY"
    fi
    exit "$rc"
}

case "${1:-}" in
    deps) do_deps ;;
    build) do_build ;;
    run) do_run ;;
    -h | --help) usage ;;
    --version) spw_print_version ;;
    *) usage >&2; exit 2 ;;
esac
