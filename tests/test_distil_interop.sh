#!/usr/bin/env bash
# test_distil_interop.sh: a DistilBERT folder that bertc steps once and saves
# loads in transformers (AutoModelForSequenceClassification, AutoTokenizer) and
# predicts what bertc predicted.
#   1. test_distil with BERTC_DISTIL_SAVE=DIR: one SGD step on the fixture model,
#      hf_model_save into DIR, bertc's logits into DIR/bertc_logits.f32.
#   2. transformers loads DIR as DistilBertForSequenceClassification (eager, eval),
#      its logits on the fixture batch are within 1e-4 of bertc's (the forward
#      tolerance of docs/numerics.md), and differ from the pre-step reference
#      (the step was saved); the tokenizer returns no token_type_ids.
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}/distil/tiny
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -d "$fx" ] || { echo "FAIL $fx missing (make fixtures)"; exit 1; }
BERTC_DISTIL_SAVE="$tmp/out" "$(dirname "$BERTC")/tests/test_distil" >"$tmp/log" 2>&1 || {
    cat "$tmp/log"; echo "FAIL test_distil (saving) failed"; exit 1; }
python3 - "$tmp/out" "$fx/ref" <<'PY'
import json, os, sys
import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
out, ref = sys.argv[1], sys.argv[2]
cfg = json.load(open(os.path.join(out, "config.json")))
assert cfg["model_type"] == "distilbert" and cfg["architectures"] == ["DistilBertForSequenceClassification"], cfg
m = AutoModelForSequenceClassification.from_pretrained(out, attn_implementation="eager").eval()
assert type(m).__name__ == "DistilBertForSequenceClassification", type(m).__name__
ids = torch.from_numpy(np.load(os.path.join(ref, "input_ids.npy")).astype("int64"))
mask = torch.from_numpy(np.load(os.path.join(ref, "attention_mask.npy")).astype("int64"))
with torch.no_grad():
    got = m(input_ids=ids, attention_mask=mask).logits.numpy()
want = np.fromfile(os.path.join(out, "bertc_logits.f32"), dtype="<f4").reshape(got.shape)
before = np.load(os.path.join(ref, "logits.npy"))
d = float(np.abs(got - want).max())
print(f"transformers vs bertc logits after the saved step: max |diff| {d:.2e} (tolerance 1e-4)")
ok = d <= 1e-4 and float(np.abs(got - before).max()) > 1e-3
tok = AutoTokenizer.from_pretrained(out)
enc = tok("a saved distilbert folder")
ok = ok and "token_type_ids" not in enc
print("tokenizer keys:", sorted(enc.keys()))
sys.exit(0 if ok else 1)
PY
rc=$?
[ $rc -eq 0 ] && echo "ok   distil interop" || echo "FAIL distil interop"
exit $rc
