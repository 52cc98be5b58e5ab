#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-acpi-iasl.sh ACPI_DUMP
#
# Cross-checks the ACPI tables with an independent implementation: every
# table is disassembled with `iasl -d`, must decode without a complaint,
# must say what the machine needs, and must recompile cleanly.
set -eu

dump=${1:?usage: check-acpi-iasl.sh ACPI_DUMP}
case $dump in
/*) ;;
*) dump=$PWD/$dump ;;
esac

if ! command -v iasl >/dev/null 2>&1; then
	echo "check-acpi-iasl: iasl not found; install acpica-tools" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL [$case]: $*" >&2
	exit 1
}

# want FILE COUNT REGEX: REGEX (ERE) matches exactly COUNT lines of FILE.
want() {
	n=$(grep -Ec -- "$3" "$1" || true)
	[ "$n" -eq "$2" ] || fail "$1: expected $2 line(s) matching '$3', got $n"
}

# Lines iasl prints for a table it had to repair or could not decode.
complaints='[Ee]rror|[Ww]arning|[Ii]ncorrect|[Ii]nvalid|[Uu]nknown|terminates'

# gpa SIG: the table's address as printed by acpi-dump, 16 hex digits.
gpa() {
	printf '%016X' "$(awk -v s="$1" '$1 == s { print $2 }' tables.txt)"
}

check_rsdp() {
	[ "$(head -c 8 RSDP.dat)" = "RSD PTR " ] || fail "RSDP signature"
	# iasl cannot take an RSDP from a file, so check it by hand.
	od -An -v -tu1 RSDP.dat | awk -v xsdt="$(gpa XSDT)" '
		{ for (i = 1; i <= NF; i++) b[n++] = $i }
		END {
			for (i = 0; i < 36; i++) {
				s += b[i]
				if (i == 19 && s % 256) { print "checksum"; exit 1 }
			}
			if (s % 256) { print "extended checksum"; exit 1 }
			if (n != 36 || b[15] != 2 || b[20] != 36) {
				print "size/revision"; exit 1
			}
			for (i = 31; i >= 24; i--)
				a = a sprintf("%02X", b[i])
			if (a != xsdt) { print "XSDT address " a; exit 1 }
		}' >rsdp.err || fail "RSDP: $(cat rsdp.err)"
}

check_case() {
	ncpus=$1
	nvirtio=$2
	case="ncpus=$ncpus nvirtio=$nvirtio"
	dir="$tmp/$ncpus-$nvirtio"
	mkdir "$dir"
	cd "$dir"
	"$dump" . "$ncpus" "$nvirtio" >tables.txt || fail "acpi-dump failed"

	check_rsdp
	for t in XSDT FACP APIC DSDT; do
		[ -s $t.dat ] || fail "acpi-dump wrote no $t.dat"
		iasl -d $t.dat >$t.log 2>&1 || { cat $t.log >&2; fail "iasl -d $t.dat"; }
		if grep -E "$complaints" $t.log $t.dsl >&2; then
			fail "iasl complained about $t"
		fi
		# Recompile the listing: valid ASL / data-table source?
		iasl -p re$t $t.dsl >re$t.log 2>&1 || {
			cat re$t.log >&2; fail "iasl $t.dsl"
		}
		want re$t.log 1 'Compilation successful\. 0 Errors, 0 Warnings'
	done

	want XSDT.dsl 2 'ACPI Table Address +[0-9]+ :'
	want XSDT.dsl 1 "ACPI Table Address +0 : $(gpa FACP)\$"
	want XSDT.dsl 1 "ACPI Table Address +1 : $(gpa APIC)\$"

	want FACP.dsl 1 'Revision : 06'
	want FACP.dsl 1 'FADT Minor Revision : 03'
	want FACP.dsl 1 'Hardware Reduced \(V5\) : 1'
	want FACP.dsl 1 'Reset Register Supported \(V2\) : 1'
	want FACP.dsl 1 '8042 Present on ports 60/64 \(V2\) : 0'
	want FACP.dsl 1 'VGA Not Present \(V4\) : 1'
	want FACP.dsl 1 'CMOS RTC Not Present \(V5\) : 1'
	want FACP.dsl 1 'SCI Interrupt : 0000'
	want FACP.dsl 1 "DSDT Address : $(gpa DSDT)\$"
	want FACP.dsl 3 'Space ID : 01 \[SystemIO\]'
	want FACP.dsl 1 'Address : 0000000000000600$'
	want FACP.dsl 1 'Address : 0000000000000601$'
	want FACP.dsl 1 'Address : 0000000000000602$'
	want FACP.dsl 1 'Value to cause reset : 01'

	want APIC.dsl 1 'PC-AT Compatibility : 1'
	want APIC.dsl "$ncpus" 'Subtable Type : 00 \[Processor Local APIC\]'
	want APIC.dsl "$ncpus" 'Processor Enabled : 1'
	want APIC.dsl 1 'Subtable Type : 01 \[I/O APIC\]'
	want APIC.dsl $((ncpus + 1)) 'Subtable Type'
	want APIC.dsl 1 'Local Apic Address : FEE00000'
	want APIC.dsl 1 'Address : FEC00000'

	want DSDT.dsl 1 'Name \(_S5, Package \(0x04\)'
	want DSDT.dsl 1 'Scope \(_SB\)'
	want DSDT.dsl 1 'EisaId \("PNP0501"\)'
	# COM1 and pvpanic (QEMU0001 at port 0x505).
	want DSDT.dsl 2 'IO \(Decode16,'
	want DSDT.dsl 1 'Name \(_HID, "QEMU0001"\)'
	want DSDT.dsl 2 '0x0505,'
	want DSDT.dsl 1 'IRQ \(Edge, ActiveHigh, Exclusive, \)'
	want DSDT.dsl 1 'Device \(PWRB\)'
	want DSDT.dsl 1 'EisaId \("PNP0C0C"\)'
	want DSDT.dsl 1 'Name \(_HID, "ACPI0013"'
	want DSDT.dsl 1 'OperationRegion \(GDST, SystemIO, 0x0603, One\)'
	want DSDT.dsl 1 'Method \(_EVT, 1,'
	want DSDT.dsl 1 'Local0 = GSTS'
	want DSDT.dsl 1 'If \(\(Local0 & One\)\)'
	want DSDT.dsl 1 'Notify \(PWRB, 0x80\)'
	want DSDT.dsl "$nvirtio" 'Name \(_HID, "LNRO0005"\)'
	want DSDT.dsl "$nvirtio" 'Memory32Fixed \(ReadWrite,'
	want DSDT.dsl $((nvirtio + 1)) \
		'Interrupt \(ResourceConsumer, Edge, ActiveHigh, Exclusive'
	# _S5_ = { SLP_TYP 5, ... }: the line after the opening brace.
	awk '/Name \(_S5,/ { getline; getline; print; exit }' DSDT.dsl |
		grep -Eq '^ *0x05,' || fail "_S5 SLP_TYP is not 5"

	# The recompiled AML must disassemble to the same ASL.
	iasl -d -p redis reDSDT.aml >redis.log 2>&1 || fail "iasl -d reDSDT.aml"
	sed -n '/^DefinitionBlock/,$p' DSDT.dsl >a.asl
	sed -n '/^DefinitionBlock/,$p' redis.dsl >b.asl
	diff -u a.asl b.asl >&2 || fail "DSDT does not survive a round trip"

	echo "ok - $case"
}

check_case 1 2
check_case 4 8
check_case 255 0
