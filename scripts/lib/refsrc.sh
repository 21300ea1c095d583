# shellcheck shell=bash
# Reference implementations built from source (scripts/deps/src-libs) for the
# fuzz targets aimed at them: which of a library's own sources a coverage
# report measures (which library a target runs is its build column in
# fuzz/targets.tsv, src:<lib>). Sourced by scripts/lib/fuzz.sh after spw_die
# and the manifest; expects $SPW_ROOT.
#
# A new library built from source plugs in here, by rows of this table:
# scripts/coverage --target T and the coverage column of scripts/fuzz read
# nothing else.

# Where scripts/deps/src-libs keeps sources and libraries for the fuzz builds.
SPW_REF_SRC_PREFIX="$SPW_ROOT/build/deps/src"

# One row per coverage group:  LIB  GROUP  SOURCE...
#   LIB     scripts/deps/src-libs --lib; the version is src-libs' pin
#   GROUP   a name in the reports, which list the groups in table order and
#           then all of them together (issue 12 sets its target on the first
#           group of nng, NNG's TCP transport and message code)
#   SOURCE  relative to the unpacked source tree: a file, or a directory
#           standing for the *.c under it except tests (*_test.c). Only what
#           the replay driver links is measured; the rest is listed as not
#           linked (NNG's raw-mode protocols x*.c and pair1_poly.c, which
#           fuzz_nng never opens).
# Chosen for nng (and alike for nanomsg): the wire path a peer drives (TCP transport, message code),
# the protocols it feeds, then the core the pipes live in (pipe, socket,
# listener) and the byte stream under the transport (posix_tcpconn.c).
# NNG's tcp.c also holds its dialer, which a harness that only listens cannot
# reach: it is kept in, so the figure is of the whole transport.
# A target without a source build has no coverage of its library: "n/a".
SPW_REF_SRC_TABLE='
nng  tcp+message  src/sp/transport/tcp src/core/message.c
nng  protocols    src/sp/protocol
nng  core         src/core/pipe.c src/core/socket.c src/core/listener.c src/platform/posix/posix_tcpconn.c
nanomsg  tcp+message  src/transports/tcp src/transports/utils/streamhdr.c src/utils/msg.c src/utils/chunk.c src/utils/chunkref.c
nanomsg  protocols    src/protocols
nanomsg  core         src/core src/aio
'

# spw_ref_src_lib TARGET: the src-libs library of TARGET (its manifest build
# column, src:<lib>); status 1 when the target has no source build.
spw_ref_src_lib() {
    local b=${SPW_FUZZ_BUILD[$1]:-}
    [ "${b#src:}" != "$b" ] || return 1
    echo "${b#src:}"
}

# spw_ref_src_where TARGET KEY: version, source (the unpacked tree) or
# install (one <flavour>/ per built flavour), from scripts/deps/src-libs.
spw_ref_src_where() {
    local lib
    lib=$(spw_ref_src_lib "$1") || spw_die "target '$1' is not built from source"
    "$SPW_ROOT/scripts/deps/src-libs" --lib "$lib" --where "$SPW_REF_SRC_PREFIX" \
        | sed -n "s/^$2=//p"
}

# spw_ref_src_groups TARGET: the coverage groups of its library, in order.
spw_ref_src_groups() {
    local lib
    lib=$(spw_ref_src_lib "$1") || spw_die "target '$1' is not built from source"
    awk -v l="$lib" '$1 == l { print $2 }' <<<"$SPW_REF_SRC_TABLE"
}

# spw_ref_src_files TARGET GROUP SRCDIR: the source files of one group, as
# absolute paths, sorted; dies when a listed path does not exist (a table
# row that no longer matches the pinned version).
spw_ref_src_files() {
    local t=$1 g=$2 dir=$3 p lib
    local paths=()
    lib=$(spw_ref_src_lib "$t") || spw_die "target '$t' is not built from source"
    read -r -a paths <<<"$(awk -v l="$lib" -v g="$g" '$1 == l && $2 == g {
        for (i = 3; i <= NF; i++) printf "%s ", $i }' <<<"$SPW_REF_SRC_TABLE")"
    [ ${#paths[@]} -gt 0 ] || spw_die "no sources for group '$g' of target '$t'"
    for p in "${paths[@]}"; do
        if [ -d "$dir/$p" ]; then
            find "$dir/$p" -name '*.c' ! -name '*_test.c' -type f
        elif [ -f "$dir/$p" ]; then
            echo "$dir/$p"
        else
            spw_die "$dir/$p: no such source (scripts/lib/refsrc.sh table for '$lib')"
        fi
    done | sort
}
