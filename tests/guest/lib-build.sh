# shellcheck shell=bash
#
# Helpers shared by tests/guest/build-guest and tests/host/build-host.
#
# Both scripts turn Debian packages (a kernel image and busybox-static) into
# a kernel + reproducible busybox initramfs in the cache directory, and both
# rebuild only when their inputs change.  This file is sourced, not run; the
# caller sets DV_PROG (its name, for messages), may set DV_QUIET=1 (no
# progress messages) and uses `set -euo pipefail`.
#
# Conventions:
#   - stdout of the build scripts is reserved for the NAME=path result lines;
#     every progress or error message goes to stderr;
#   - functions prefixed dv_ are the public helpers.

# ---------------------------------------------------------------------------
# Messages

dv_info() {
    [[ -n ${DV_QUIET:-} ]] || printf '%s: %s\n' "${DV_PROG:-build}" "$*" >&2
}

dv_warn() {
    printf '%s: warning: %s\n' "${DV_PROG:-build}" "$*" >&2
}

dv_die() {
    printf '%s: error: %s\n' "${DV_PROG:-build}" "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------
# Cache directory

# dv_cache_dir: prints the root of the DuVisor cache (absolute path).
dv_cache_dir() {
    local dir=${DUVISOR_CACHE:-/var/tmp/duvisor-cache}
    mkdir -p "$dir" || dv_die "cannot create cache directory $dir"
    (cd "$dir" && pwd -P)
}

# dv_lock FILE: takes an exclusive lock (held until the script exits) so that
# concurrent builds of the same output wait for each other.
dv_lock() {
    local file=$1 fd
    exec {fd}>"$file" || dv_die "cannot open lock file $file"
    if ! flock -n "$fd"; then
        dv_info "waiting for another build holding $file"
        flock "$fd" || dv_die "cannot lock $file"
    fi
}

# ---------------------------------------------------------------------------
# Debian package metadata and downloads

DV_APT_REFRESHED=

# dv_apt_refresh: runs `apt-get update` once per script run (needed on a
# fresh machine whose package lists are empty).  Returns 1 if it cannot.
dv_apt_refresh() {
    [[ -z $DV_APT_REFRESHED ]] || return 1
    DV_APT_REFRESHED=1
    if [[ $(id -u) -ne 0 ]]; then
        dv_warn "package lists look incomplete and we are not root: run 'apt-get update'"
        return 1
    fi
    dv_info "running apt-get update (package lists are missing or stale)"
    apt-get update -qq >&2 || { dv_warn "apt-get update failed"; return 1; }
}

# Candidate versions and Depends fields of the packages queried so far.
declare -gA DV_PKG_VERSION=() DV_PKG_DEPENDS=()

# _dv_pkg_read PKG...: one `apt-cache show` call (about 0.5 s) filling
# DV_PKG_VERSION / DV_PKG_DEPENDS for the candidate version of each PKG.
_dv_pkg_read() {
    local line pkg=
    while IFS= read -r line; do
        case $line in
        'Package: '*) pkg=${line#Package: } ;;
        'Version: '*) DV_PKG_VERSION[$pkg]=${line#Version: } ;;
        'Depends: '*) DV_PKG_DEPENDS[$pkg]=${line#Depends: } ;;
        esac
    done < <(apt-cache show --no-all-versions "$@" 2>/dev/null || true)
}

# dv_pkg_query PKG...: queries apt for PKGs (refreshing the package lists
# once if one is unknown); fails if one stays unknown.
dv_pkg_query() {
    local pkg missing=()
    _dv_pkg_read "$@"
    for pkg in "$@"; do
        [[ -n ${DV_PKG_VERSION[$pkg]:-} ]] || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -gt 0 ]] && dv_apt_refresh; then
        _dv_pkg_read "${missing[@]}"
    fi
    for pkg in "$@"; do
        [[ -n ${DV_PKG_VERSION[$pkg]:-} ]] || { dv_warn "package $pkg is unknown to apt"; return 1; }
    done
}

# dv_kernel_package META: prints "PACKAGE VERSION" of the versioned kernel
# image package that the meta package META (e.g. linux-image-cloud-amd64)
# depends on, e.g. "linux-image-6.1.0-56-cloud-amd64 6.1.192-2".
dv_kernel_package() {
    local meta=$1 dep pkg ver
    [[ -n ${DV_PKG_VERSION[$meta]:-} ]] || dv_pkg_query "$meta" || return 1
    dep=$(tr ',' '\n' <<<"${DV_PKG_DEPENDS[$meta]:-}" | grep -m1 -E '^ *linux-image-[0-9]' || true)
    [[ $dep =~ ^\ *(linux-image-[^ ]+)(\ \(=\ ([^ \)]+)\))? ]] ||
        { dv_warn "no kernel image package in the Depends of $meta: ${DV_PKG_DEPENDS[$meta]:-}"; return 1; }
    pkg=${BASH_REMATCH[1]}
    ver=${BASH_REMATCH[3]}
    if [[ -z $ver ]]; then
        dv_pkg_query "$pkg" || return 1
        ver=${DV_PKG_VERSION[$pkg]}
    fi
    printf '%s %s\n' "$pkg" "$ver"
}

# dv_fetch_deb PKG VERSION DIR: makes sure DIR/PKG/<version>/ holds the .deb
# of PKG=VERSION (downloading it with apt-get download if needed), drops
# other cached versions of PKG and prints the path of the .deb.
dv_fetch_deb() {
    local pkg=$1 ver=$2 dir=$3 vdir debs
    vdir=$dir/$pkg/${ver//:/_}
    shopt -s nullglob
    debs=("$vdir"/*.deb)
    if [[ ${#debs[@]} -ne 1 ]]; then
        dv_info "downloading $pkg=$ver"
        rm -rf "$vdir" && mkdir -p "$vdir"
        # apt's sandbox user (_apt) may not be able to write here: as root,
        # download unsandboxed instead of printing a warning.
        local -a opts=(-q)
        [[ $(id -u) -ne 0 ]] || opts+=(-o APT::Sandbox::User=root)
        if ! (cd "$vdir" && apt-get "${opts[@]}" download "$pkg=$ver" >&2); then
            shopt -u nullglob
            dv_warn "apt-get download $pkg=$ver failed"
            return 1
        fi
        debs=("$vdir"/*.deb)
        [[ ${#debs[@]} -eq 1 ]] || { shopt -u nullglob; dv_warn "no .deb for $pkg in $vdir"; return 1; }
    fi
    # Keep only the version in use.
    local old
    for old in "$dir/$pkg"/*; do
        [[ $old == "$vdir" ]] || rm -rf "$old"
    done
    shopt -u nullglob
    printf '%s\n' "${debs[0]}"
}

# ---------------------------------------------------------------------------
# Kernel helpers

# dv_kernel_release ROOT: prints the single kernel release found under
# ROOT/lib/modules (the `uname -r` of the extracted kernel package).
dv_kernel_release() {
    local root=$1 d found=()
    for d in "$root"/lib/modules/*/; do
        [[ -d $d ]] && found+=("$(basename "$d")")
    done
    [[ ${#found[@]} -eq 1 ]] || dv_die "expected one kernel in $root/lib/modules, found: ${found[*]:-none}"
    printf '%s\n' "${found[0]}"
}

# Little-endian integer readers for the bzImage header.
dv_read_u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' \n'; }
dv_read_u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' \n'; }

# dv_extract_vmlinux BZIMAGE OUT: writes the uncompressed ELF kernel embedded
# in an x86 bzImage to OUT.
#
# The x86 boot protocol (>= 2.08) stores in the setup header the offset
# (0x248, relative to the start of the protected-mode code, which begins
# after (setup_sects + 1) * 512 bytes; setup_sects is at 0x1f1) and length
# (0x24c) of the compressed payload.  The kernel build appends the
# uncompressed size as 4 little-endian bytes to the payload; we strip them
# and check them against the result.
dv_extract_vmlinux() {
    local bz=$1 out=$2 magic setup_sects off len start expect got
    [[ $(od -An -c -j $((0x202)) -N4 "$bz" | tr -d ' \n') == HdrS ]] ||
        dv_die "$bz is not a bzImage (no HdrS signature)"
    setup_sects=$(dv_read_u8 "$bz" $((0x1f1)))
    [[ $setup_sects -ne 0 ]] || setup_sects=4
    off=$(dv_read_u32 "$bz" $((0x248)))
    len=$(dv_read_u32 "$bz" $((0x24c)))
    start=$(((setup_sects + 1) * 512 + off))
    magic=$(od -An -tx1 -j "$start" -N6 "$bz" | tr -d ' \n')
    expect=$(dv_read_u32 "$bz" $((start + len - 4)))

    local -a decomp
    case $magic in
    02214c18*) decomp=(lz4 -dc) ;;         # LZ4 legacy frame (cloud kernel)
    fd377a585a00) decomp=(xz -dc --single-stream) ;;  # XZ (generic kernel)
    1f8b*) decomp=(gzip -dc) ;;
    28b52ffd*) decomp=(zstd -dc) ;;
    *) dv_die "$bz: unknown compressed payload (magic $magic)" ;;
    esac

    dd if="$bz" iflag=skip_bytes,count_bytes skip="$start" count=$((len - 4)) status=none |
        "${decomp[@]}" >"$out.tmp" ||
        dv_die "decompressing the payload of $bz failed"
    got=$(stat -c %s "$out.tmp")
    [[ $got -eq $expect ]] || dv_die "$bz: payload decompressed to $got bytes, header says $expect"
    [[ $(od -An -c -N4 "$out.tmp" | tr -d ' \n') == '177ELF' ]] ||
        dv_die "$bz: decompressed payload is not an ELF file"
    mv "$out.tmp" "$out"
}

# dv_module_closure ROOT KVER MODULE...: prints (relative to
# ROOT/lib/modules/KVER, sorted, unique) every .ko needed to load MODULEs,
# dependencies included.  ROOT must have been prepared with `depmod -b`.
# Built-in modules print nothing; an unknown module is an error.
dv_module_closure() {
    local root=$1 kver=$2
    shift 2
    local mdir=$root/lib/modules/$kver out
    out=$(modprobe -d "$root" -S "$kver" --show-depends -a "$@") ||
        dv_die "modprobe --show-depends failed for: $*"
    sed -n 's/^insmod \([^ ]*\).*/\1/p' <<<"$out" | sed "s|^$mdir/||" | LC_ALL=C sort -u
}

# dv_stage_modules SRCROOT KVER DESTROOT MODULE...: copies MODULEs and their
# dependencies from the extracted kernel package SRCROOT into DESTROOT (same
# layout) and runs depmod there.
dv_stage_modules() {
    local src=$1 kver=$2 dst=$3
    shift 3
    local rel smd=$src/lib/modules/$kver dmd=$dst/lib/modules/$kver
    mkdir -p "$dmd"
    while IFS= read -r rel; do
        [[ -n $rel ]] || continue
        install -D -m 0644 "$smd/$rel" "$dmd/$rel"
    done < <(dv_module_closure "$src" "$kver" "$@")
    local f
    for f in modules.builtin modules.builtin.modinfo modules.order; do
        [[ ! -e $smd/$f ]] || install -m 0644 "$smd/$f" "$dmd/$f"
    done
    depmod -b "$dst" "$kver" || dv_die "depmod failed in $dst"
}

# ---------------------------------------------------------------------------
# Initramfs helpers

# dv_stage_busybox BUSYBOX DEST: installs the static busybox binary as
# DEST/bin/busybox with a symlink for each applet in DEST/bin, and makes
# sbin, usr/bin and usr/sbin symlinks to bin.
dv_stage_busybox() {
    local bb=$1 dst=$2 applet
    install -D -m 0755 "$bb" "$dst/bin/busybox"
    while IFS= read -r applet; do
        [[ -n $applet && $applet != busybox ]] || continue
        ln -sf busybox "$dst/bin/$applet"
    done < <("$dst/bin/busybox" --list)
    mkdir -p "$dst/usr"
    ln -sfn bin "$dst/sbin"
    ln -sfn ../bin "$dst/usr/bin"
    ln -sfn ../bin "$dst/usr/sbin"
}

# dv_make_initramfs STAGE OUT: packs the directory STAGE into a reproducible
# gzip-compressed newc cpio archive OUT: sorted names, every mtime 0, owner
# root, inode numbers renumbered (--reproducible), no gzip name/timestamp.
dv_make_initramfs() {
    local stage=$1 out=$2
    find "$stage" -exec touch -h -d @0 {} +
    (
        cd "$stage"
        find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
            cpio --null --create --format=newc --owner=0:0 --reproducible --quiet
    ) | gzip -n -9 >"$out.tmp" || dv_die "creating $out failed"
    mv "$out.tmp" "$out"
}

# ---------------------------------------------------------------------------
# Stamps

# dv_files_hash FILE...: prints one sha256 over the contents of FILEs.
dv_files_hash() {
    cat -- "$@" | sha256sum | cut -d' ' -f1
}

# dv_stamp_current DIR STAMP OUTPUT...: true if DIR/stamp holds exactly STAMP
# and every OUTPUT file exists (non-empty) in DIR.
dv_stamp_current() {
    local dir=$1 stamp=$2 f
    shift 2
    [[ -f $dir/stamp && $(<"$dir/stamp") == "$stamp" ]] || return 1
    for f in "$@"; do
        [[ -s $dir/$f ]] || return 1
    done
}

# dv_print_outputs DIR NAME=FILE...: prints NAME=<absolute path> lines,
# shell-quoted if needed so that `eval` of the output is safe.
dv_print_outputs() {
    local dir=$1 pair
    shift
    for pair in "$@"; do
        printf '%s=%q\n' "${pair%%=*}" "$dir/${pair#*=}"
    done
}

# ---------------------------------------------------------------------------
# The common main of build-guest and build-host

# dv_build_main SUBDIR KERNEL_META BUSYBOX_PKG BUILDFN -- ARGS...
#
# Parses ARGS (--force, --quiet, --help), locks $cache/SUBDIR, computes the
# stamp (versions of the kernel image package behind KERNEL_META and of
# BUSYBOX_PKG, plus a hash of the files in the caller's array INPUTS) and,
# unless the outputs are current, calls
#   BUILDFN OUTDIR DEBDIR KERNEL_PKG KERNEL_VERSION BUSYBOX_VERSION
# which must move every file named in OUTPUTS (the caller's array of
# NAME=FILE) into OUTDIR.  Finally prints the NAME=path lines.
#
# Inside the test host (DUVISOR_TEST_HOST set: no network, and the cache is
# the outer machine's), it only prints an existing build.  Without package
# metadata (offline) it also falls back to an existing build.
dv_build_main() {
    local subdir=$1 meta=$2 bbpkg=$3 buildfn=$4
    shift 4
    [[ ${1:-} == -- ]] && shift
    local force=
    while [[ $# -gt 0 ]]; do
        case $1 in
        --force) force=1 ;;
        --quiet) DV_QUIET=1 ;;
        -h | --help) dv_usage; exit 0 ;;
        *) dv_usage >&2; exit 2 ;;
        esac
        shift
    done

    local cache out files=("${OUTPUTS[@]#*=}")
    cache=$(dv_cache_dir)
    out=$cache/$subdir
    mkdir -p "$out"

    if [[ -n ${DUVISOR_TEST_HOST:-} ]]; then
        if ! [[ -f $out/stamp ]] || ! dv_stamp_current "$out" "$(<"$out/stamp")" "${files[@]}"; then
            dv_die "no build in $out: run ${DV_PROG} outside the test host first"
        fi
        dv_print_outputs "$out" "${OUTPUTS[@]}"
        return 0
    fi

    dv_lock "$out/.lock"

    local kinfo='' kpkg kpkgver bbver stamp
    if dv_pkg_query "$meta" "$bbpkg"; then
        kinfo=$(dv_kernel_package "$meta") || kinfo=
    fi
    if [[ -z $kinfo ]]; then
        if [[ -f $out/stamp ]] && dv_stamp_current "$out" "$(<"$out/stamp")" "${files[@]}"; then
            dv_warn "cannot resolve package versions; using the existing build in $out"
            dv_print_outputs "$out" "${OUTPUTS[@]}"
            return 0
        fi
        dv_die "cannot resolve the versions of $meta / $bbpkg"
    fi
    read -r kpkg kpkgver <<<"$kinfo"
    bbver=${DV_PKG_VERSION[$bbpkg]}
    stamp=$(
        printf 'kernel %s %s\n' "$kpkg" "$kpkgver"
        printf 'busybox %s %s\n' "$bbpkg" "$bbver"
        printf 'scripts %s\n' "$(dv_files_hash "${INPUTS[@]}")"
    )

    if [[ -z $force ]] && dv_stamp_current "$out" "$stamp" "${files[@]}"; then
        dv_info "up to date ($kpkg $kpkgver)"
    else
        dv_info "building ($kpkg $kpkgver, $bbpkg $bbver)"
        rm -f "$out/stamp"
        "$buildfn" "$out" "$cache/debs" "$kpkg" "$kpkgver" "$bbver"
        printf '%s\n' "$stamp" >"$out/stamp"
        dv_info "done"
    fi
    dv_print_outputs "$out" "${OUTPUTS[@]}"
}

# dv_usage: prints the header comment of the running script.
dv_usage() {
    sed -n '3,/^$/s/^# \{0,1\}//p' "$0"
}
