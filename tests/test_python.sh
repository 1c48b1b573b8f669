#!/usr/bin/env bash
# test_python.sh: the Python package (python/, docs/python.md) as a user gets it:
#  1. `make pylib` builds build-install/libbertc.so (PIC, hidden symbols: what
#     make install ships), `pip install ./python` into a fresh virtual environment
#     bundles it, and the installed package loads its bundled copy;
#  2. pytest python/tests against that installed package: pipelines against
#     transformers' on fixture models, train/Trainer/evaluate through the C API
#     (callbacks, Ctrl-C at a checkpoint then resume, errors as BertcError,
#     evaluate = `bertc eval`), and examples/imdb.ipynb run end to end (nbclient).
# Under the ASan build (BERTC_SANITIZED=1) it is skipped: Python loads the
# uninstrumented build-install library, and loading an ASan one into CPython
# needs LD_PRELOAD of libasan and reports CPython's own leaks.
set -u
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
py=${PYTHON:-python3}
if [ -n "${BERTC_SANITIZED:-}" ]; then
    echo "SKIP: the Python package loads the uninstrumented build-install/libbertc.so (the normal build runs it)"
    exit 77
fi
if ! $py -c 'import pytest' 2>/dev/null && ! $py -m pip install -q --disable-pip-version-check pytest >/dev/null 2>&1; then
    echo "SKIP: pytest is not installed and cannot be installed (tools/setup.sh pytest)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nice make -C "$root" pylib >"$tmp/make.log" 2>&1; then
    echo "FAIL: make pylib: $(grep -m3 -i error "$tmp/make.log")"; exit 1
fi
echo "ok: make pylib"
# A fresh environment that sees the system's pip, setuptools, pytest and transformers but not the checkout.
$py -m venv --system-site-packages --without-pip "$tmp/venv" || { echo "FAIL: python -m venv"; exit 1; }
vpy="$tmp/venv/bin/python"
if ! (cd "$tmp" && "$vpy" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps "$root/python" \
        >"$tmp/pip.log" 2>&1); then
    echo "FAIL: pip install ./python: $(tail -3 "$tmp/pip.log")"; exit 1
fi
echo "ok: pip install ./python"
lib=$(cd "$tmp" && env -u BERTC_LIB "$vpy" -c 'import bertc; print(bertc.library_path)') || { echo "FAIL: import bertc"; exit 1; }
case "$lib" in
    "$tmp"/venv/*/site-packages/bertc/lib/libbertc.so.0) echo "ok: the installed package loads its bundled $lib" ;;
    *) echo "FAIL: the installed package loaded $lib, not its bundled copy"; exit 1 ;;
esac
cd "$tmp" && env -u BERTC_LIB MPLBACKEND=Agg "$vpy" -m pytest -q -p no:cacheprovider "$root/python/tests"
