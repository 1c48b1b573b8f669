#!/usr/bin/env bash
# test_heads_interop.sh: folders bertc trains and saves with a per-token head
# load in transformers as that head and predict what bertc predicted.
#   1. test_heads with BERTC_HEADS_SAVE=DIR: each fixture model (BERT and
#      DistilBERT, token classification and question answering) takes ten AdamW
#      steps in bertc and is saved with hf_model_save into DIR/CASE, with bertc's
#      logits of the fixture batch in DIR/CASE/bertc_logits.f32.
#   2. transformers' AutoModelForTokenClassification / AutoModelForQuestionAnswering
#      load each folder as the right class (architectures), with no missing or
#      unexpected weights, and their logits are within 1e-4 of bertc's (the forward
#      tolerance of docs/numerics.md) and differ from the pre-training reference
#      (the steps were saved).
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}/heads
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -d "$fx" ] || { echo "FAIL $fx missing (make fixtures)"; exit 1; }
BERTC_HEADS_SAVE="$tmp" "$(dirname "$BERTC")/tests/test_heads" >"$tmp/log" 2>&1 || {
    cat "$tmp/log"; echo "FAIL test_heads (saving) failed"; exit 1; }
python3 - "$tmp" "$fx" <<'PY'
import json, os, sys
import numpy as np
import torch
from transformers import AutoModelForQuestionAnswering, AutoModelForTokenClassification
from transformers.utils import logging
logging.set_verbosity_error()
out, fx = sys.argv[1], sys.argv[2]
want_class = {"bert_token": "BertForTokenClassification", "bert_qa": "BertForQuestionAnswering",
              "distil_token": "DistilBertForTokenClassification", "distil_qa": "DistilBertForQuestionAnswering"}
bad = 0
for case, cls in want_class.items():
    d, ref = os.path.join(out, case), os.path.join(fx, case, "ref")
    cfg = json.load(open(os.path.join(d, "config.json")))
    auto = AutoModelForQuestionAnswering if case.endswith("_qa") else AutoModelForTokenClassification
    m, info = auto.from_pretrained(d, attn_implementation="eager", output_loading_info=True)
    m.eval()
    kw = {"input_ids": torch.from_numpy(np.load(os.path.join(ref, "input_ids.npy")).astype("int64")),
          "attention_mask": torch.from_numpy(np.load(os.path.join(ref, "attention_mask.npy")).astype("int64"))}
    if case.startswith("bert"):
        kw["token_type_ids"] = torch.from_numpy(np.load(os.path.join(ref, "token_type_ids.npy")).astype("int64"))
    with torch.no_grad():
        o = m(**kw)
    got = (torch.stack([o.start_logits, o.end_logits], -1) if case.endswith("_qa") else o.logits).numpy()
    want = np.fromfile(os.path.join(d, "bertc_logits.f32"), dtype="<f4").reshape(got.shape)
    before = np.load(os.path.join(ref, "logits.npy"))
    diff, moved = float(np.abs(got - want).max()), float(np.abs(got - before).max())
    missing = info["missing_keys"] or info["unexpected_keys"] or info["mismatched_keys"]
    ok = (type(m).__name__ == cls and cfg["architectures"] == [cls] and not missing and diff <= 1e-4 and moved > 1e-3)
    print(f"{'ok  ' if ok else 'FAIL'} {case}: {type(m).__name__}, architectures {cfg['architectures']}, "
          f"logits within {diff:.2e} of bertc's (moved {moved:.2e} by the steps), loading info {info}")
    bad += not ok
sys.exit(1 if bad else 0)
PY
