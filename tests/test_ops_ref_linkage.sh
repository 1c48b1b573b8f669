#!/usr/bin/env bash
# test_ops_ref_linkage.sh: the reference kernels (src/ops_ref.c) are for tests
# only. The production binary and library run the cpu_* ops (ops_cpu.c) and must
# not contain or need any ref_ kernel or the reference kernel table:
#   1. bertc defines no ref_* symbol (prefixed or not) and no bert_ops_ref (nm);
#   2. libbertc.a has no ops_ref.o member and no object in it needs a ref_ symbol.
set -u
: "${BERTC:?}"
lib=$(dirname "$BERTC")/libbertc.a
command -v nm >/dev/null || { echo "SKIP: no nm (binutils) on PATH"; exit 77; }
[ -x "$BERTC" ] && [ -f "$lib" ] || { echo "FAIL: $BERTC or $lib missing (make all)"; exit 1; }
fail=0
defined=$(nm "$BERTC" | awk '$2 ~ /^[TtDdRrBb]$/ && ($3 ~ /(^|_)ref_/ || $3 ~ /ops_ref/) {print $3}')
if [ -n "$defined" ]; then
    echo "FAIL: bertc contains reference kernels: $(echo "$defined" | tr '\n' ' ')"; fail=1
else
    echo "ok: bertc contains no ref_ kernel and no bert_ops_ref"
fi
if ar t "$lib" | grep -qx 'ops_ref.o'; then
    echo "FAIL: libbertc.a has an ops_ref.o member"; fail=1
else
    echo "ok: libbertc.a has no ops_ref.o"
fi
needed=$(nm -u "$lib" 2>/dev/null | awk '$2 ~ /(^|_)ref_/ || $2 ~ /ops_ref/ {print $2}' | sort -u)
if [ -n "$needed" ]; then
    echo "FAIL: libbertc.a needs reference symbols: $(echo "$needed" | tr '\n' ' ')"; fail=1
else
    echo "ok: no object of libbertc.a needs a ref_ symbol"
fi
exit $fail
