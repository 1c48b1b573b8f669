#!/usr/bin/env bash
# test_install.sh: `make install PREFIX=$tmp` installs a library one can use:
#   1. the files: bin/bertc, lib/libbertc.so -> libbertc.so.0 -> libbertc.so.0.1.0 with soname
#      libbertc.so.0, lib/libbertc.a (internal names prefixed bertc__), include/bertc.h,
#      lib/pkgconfig/bertc.pc;
#   2. the shared library exports exactly the functions include/bertc.h declares (nm -D);
#   3. the README's C example is examples/classify.c, character for character; compiled with
#      `cc ... $(pkg-config --cflags --libs bertc)` against the shared library, run with
#      LD_LIBRARY_PATH on the fixture model build/fixtures/forward/minilm2, it prints the
#      label and probability `bertc predict` prints for the same texts (1e-6);
#   4. the same example linked statically with libbertc.a and Libs.private gives the same output;
#   5. the installed bin/bertc runs.
# The install build is the portable one, in build-install/ (make install builds it with
# make portable: minutes the first time).
set -u
: "${BERTC_ROOT:?}" "${BERTC_FIXTURES:?}"
model=$BERTC_FIXTURES/forward/minilm2
[ -f "$model/model.safetensors" ] || { echo "FAIL: $model is missing (make build/fixtures/forward.stamp)"; exit 1; }
tmp=$(mktemp -d /tmp/bertc-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }
p=$tmp/prefix

if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nice make -C "$BERTC_ROOT" install PREFIX="$p" >"$tmp/install.log" 2>&1; then
    echo "FAIL: make install PREFIX=$p: $(grep -m3 -i error "$tmp/install.log")"; exit 1
fi
# 1. the files
for f in bin/bertc lib/libbertc.a lib/libbertc.so.0.1.0 include/bertc.h lib/pkgconfig/bertc.pc; do
    check '[ -f "$p/$f" ]' "installed $f"
done
check '[ "$(readlink "$p/lib/libbertc.so")" = libbertc.so.0 ] && [ "$(readlink "$p/lib/libbertc.so.0")" = libbertc.so.0.1.0 ]' \
      "libbertc.so -> libbertc.so.0 -> libbertc.so.0.1.0"
soname=$(objdump -p "$p/lib/libbertc.so.0.1.0" | awk '$1 == "SONAME" { print $2 }')
check '[ "$soname" = libbertc.so.0 ]' "soname $soname"
check 'cmp -s "$p/include/bertc.h" "$BERTC_ROOT/include/bertc.h"' "include/bertc.h is the tree's"
check '! nm -g --defined-only "$p/lib/libbertc.a" | awk "NF == 3 { print \$3 }" | grep -qv "^bertc_"' \
      "lib/libbertc.a is the prefixed one: every global symbol starts with bertc_ (test_symbols.sh)"
pc() { PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config "$@" bertc; }
check '[ "$(pc --modversion)" = 0.1.0 ] && pc --libs | grep -q -- "-L$p/lib -lbertc" && pc --static --libs | grep -q -- -lopenblas' \
      "pkg-config: version $(pc --modversion), $(pc --libs), Libs.private with the Makefile's libraries"

# 2. exports: exactly the header's functions
nm -D --defined-only "$p/lib/libbertc.so.0.1.0" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sort -u >"$tmp/exported"
grep -o 'bertc_[a-z_0-9]*(' "$BERTC_ROOT/include/bertc.h" | tr -d '(' | sort -u >"$tmp/declared"
diff "$tmp/exported" "$tmp/declared" >"$tmp/exports.diff"
check '[ ! -s "$tmp/exports.diff" ] && [ -s "$tmp/exported" ]' \
      "nm -D: the $(wc -l <"$tmp/exported") exported symbols are the $(wc -l <"$tmp/declared") functions of bertc.h ($(tr '\n' ' ' <"$tmp/exports.diff" | cut -c1-200))"
check '! grep -qv "^bertc_" "$tmp/exported"' "nm -D: every exported symbol is bertc_*"

# 3. the README's example, compiled with pkg-config against the shared library
awk '/^### The C API/ { s = 1 } s && /^```c$/ { c = 1; next } c && /^```$/ { exit } c' "$BERTC_ROOT/README.md" >"$tmp/readme.c"
check 'cmp -s "$tmp/readme.c" "$BERTC_ROOT/examples/classify.c"' "the README's C example is examples/classify.c"
t1="A wonderful film." t2="Dull and far too long, with a plot that goes nowhere."
printf '%s\n%s\n' "$t1" "$t2" >"$tmp/texts.txt"
"$p/bin/bertc" predict --model "$model" --threads 1 --input "$tmp/texts.txt" >"$tmp/ref.jsonl" 2>"$tmp/ref.err"
check '[ $? -eq 0 ] && [ $(wc -l <"$tmp/ref.jsonl") -eq 2 ]' "the installed bin/bertc predicts the 2 texts"
same() { # $1: the example's output
    python3 - "$1" "$tmp/ref.jsonl" "$t1" "$t2" <<'PY'
import json, sys
got = [l.split("\t") for l in open(sys.argv[1], encoding="utf-8").read().splitlines()]
ref = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
ok = len(got) == 2 and all(g[0] == r["label"] and abs(float(g[1]) - r["score"]) <= 1e-6 and g[2] == t
                           for g, r, t in zip(got, ref, sys.argv[3:]))
sys.exit(0 if ok else 1)
PY
}
if cc "$tmp/readme.c" $(pc --cflags --libs) -o "$tmp/classify" 2>"$tmp/cc.err"; then
    check 'readelf -d "$tmp/classify" | grep -q "NEEDED.*libbertc.so.0"' "the example links libbertc.so.0"
    LD_LIBRARY_PATH=$p/lib "$tmp/classify" "$model" "$t1" "$t2" >"$tmp/out.txt" 2>"$tmp/run.err"; rc=$?
    check '[ $rc -eq 0 ] && same "$tmp/out.txt"' "the example prints bertc predict's labels and scores: $(tr '\t\n' ' |' <"$tmp/out.txt")"
    check 'LD_LIBRARY_PATH=$p/lib ldd "$tmp/classify" | grep -q "libbertc.so.0 => $p/lib/libbertc.so.0"' \
          "with LD_LIBRARY_PATH it loads the installed libbertc.so.0"
else
    echo "FAIL: cc README example \$(pkg-config --cflags --libs bertc): $(head -5 "$tmp/cc.err")"; fail=1
fi

# 4. static: libbertc.a with Libs.private
if cc "$tmp/readme.c" $(pc --cflags) "$p/lib/libbertc.a" $(pc --static --libs | sed 's/-lbertc//') -o "$tmp/classify_static" 2>"$tmp/ccs.err"; then
    "$tmp/classify_static" "$model" "$t1" "$t2" >"$tmp/outs.txt" 2>"$tmp/runs.err"
    check '[ $? -eq 0 ] && same "$tmp/outs.txt" && ! readelf -d "$tmp/classify_static" | grep -q libbertc' \
          "linked with libbertc.a and Libs.private, the example gives the same answers"
else
    echo "FAIL: cc README example with libbertc.a and pkg-config --static: $(head -5 "$tmp/ccs.err")"; fail=1
fi
exit $fail
