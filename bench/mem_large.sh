#!/usr/bin/env bash
# mem_large.sh: a random bert-large-sized BertForSequenceClassification
# (hidden 1024, 24 layers, 16 heads, intermediate 4096; 1.3 GB fp32), created with
# transformers under build/bert-large-random once, then bench/mem_large.c: load,
# predict, memory estimate vs the peak RSS of 2 training steps at B=2, T=64.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/build/bert-large-random
if [ ! -f "$dir/model.safetensors" ]; then
    python3 - "$dir" <<'PY'
import os, shutil, sys, torch
from transformers import BertConfig, BertForSequenceClassification
d = sys.argv[1]
torch.manual_seed(0)
m = BertForSequenceClassification(BertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                             intermediate_size=4096, num_labels=2))
m.save_pretrained(d, safe_serialization=True)
src = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "bertc/models/all-MiniLM-L6-v2")
for f in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]:
    shutil.copy(os.path.join(src, f), os.path.join(d, f))
PY
fi
make -C "$root" build/libbertc.a >/dev/null || echo "mem_large: make failed; using the existing build/libbertc.a" >&2
cc -std=c11 -D_GNU_SOURCE -O2 -fopenmp -Wall -Wextra -Werror "$root/bench/mem_large.c" -o "$root/build/mem_large" \
   "$root/build/libbertc.a" -lopenblas -ldnnl -lutf8proc -lcjson -larchive -lmicrohttpd -lcurl -lz \
   $(pkg-config --libs cairo 2>/dev/null) -lm
"$root/build/mem_large" "$dir"
