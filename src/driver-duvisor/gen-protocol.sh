#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# gen-protocol.sh RPCGEN -h|-c INPUT.x OUTPUT
# Runs rpcgen on a copy of INPUT.x in a scratch directory next to OUTPUT, so
# that the generated code includes "NAME.h" rather than a relative path.
set -eu
rpcgen=$1
mode=$2
input=$3
output=$4
outdir=$(dirname "$output")
tmp=$(mktemp -d "$outdir/.rpcgen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$input" "$tmp/$(basename "$input")"
(cd "$tmp" && "$rpcgen" "$mode" -o "$(basename "$output")" "$(basename "$input")")
mv "$tmp/$(basename "$output")" "$output"
