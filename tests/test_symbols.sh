#!/usr/bin/env bash
# test_symbols.sh: the static library as installed (build-install/dist/libbertc.a,
# made by `make portable`) keeps its internal names out of a program's namespace:
#   1. every global symbol it defines starts with bertc_ (the internal modules'
#      short names, st_open or cpu_gelu_forward, become bertc__st_open ...);
#   2. every function of include/bertc.h is defined under its own name;
#   3. no member still refers to an internal name under its old, unprefixed
#      spelling (the references between members were renamed with the definitions),
#      while references to other libraries (cblas_sgemm, malloc) are untouched.
# The shared library's exports (only bertc.h's functions, nm -D) are checked by
# test_install.sh; linking and running a program against this archive too.
set -u
: "${BERTC_ROOT:?}"
tmp=$(mktemp -d /tmp/bertc-symbols-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }

if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nice make -C "$BERTC_ROOT" portable >"$tmp/build.log" 2>&1; then
    echo "FAIL: make portable: $(grep -m3 -i error "$tmp/build.log")"; exit 1
fi
plain=$BERTC_ROOT/build-install/libbertc.a
dist=$BERTC_ROOT/build-install/dist/libbertc.a
defined() { nm -g --defined-only "$1" | awk 'NF == 3 { print $3 }' | sort -u; }
defined "$dist" >"$tmp/dist"
defined "$plain" | grep -v '^bertc_' >"$tmp/internal"   # the names the prefix is for
grep -o 'bertc_[a-z_0-9]*(' "$BERTC_ROOT/include/bertc.h" | tr -d '(' | sort -u >"$tmp/api"

# 1. the prefix
bad=$(grep -v '^bertc_' "$tmp/dist" | head -5 | tr '\n' ' ')
check '[ -s "$tmp/dist" ] && [ -z "$bad" ]' \
      "all $(wc -l <"$tmp/dist") global symbols of libbertc.a start with bertc_ ${bad:+(not: $bad)}"
n=$(grep -c '^bertc__' "$tmp/dist")
check '[ "$n" -eq "$(wc -l <"$tmp/internal")" ] && [ "$n" -ge 100 ]' \
      "$n internal names carry bertc__ (e.g. $(grep '^bertc__' "$tmp/dist" | grep -E '__(st|hf|cpu)_' | head -3 | tr '\n' ' '))"

# 2. the API under its own names
missing=$(comm -23 "$tmp/api" "$tmp/dist" | head -5 | tr '\n' ' ')
check '[ -z "$missing" ]' "the $(wc -l <"$tmp/api") functions of bertc.h are defined as declared ${missing:+(missing: $missing)}"

# 3. references renamed with the definitions, other libraries' left alone
nm -u "$dist" | awk '{ print $2 }' | sort -u >"$tmp/undef"
stale=$(comm -12 "$tmp/undef" "$tmp/internal" | head -5 | tr '\n' ' ')
check '[ -z "$stale" ]' "no reference to an unprefixed internal name ${stale:+(found: $stale)}"
check 'grep -qx cblas_sgemm "$tmp/undef" && grep -qx malloc "$tmp/undef" && ! grep -q "^bertc__\(cblas\|malloc\)" "$tmp/dist"' \
      "cblas_sgemm and malloc stay references to OpenBLAS and libc"
exit $fail
