#!/usr/bin/env bash
# test_serve_inference.sh: `bertc serve` as the Inference API, driven by the
# standard client huggingface_hub.InferenceClient itself (unmodified, pointed at
# http://127.0.0.1:PORT and at .../predict; loopback only), against `bertc
# predict --all-scores` on the same 8 texts with the MiniLM fixture that has a
# trained-shape 2-label head (build/fixtures/forward/minilm2): the default
# answer, top_k, function_to_apply softmax|sigmoid|none, a list of inputs at /,
# TEI's shape still at /predict, and the refusals of bad parameters
# (tests/inference_client_check.py). The server is killed at exit (trap).
set -u
. "$(dirname "$0")/serve_lib.sh" serve-inf
model=$BERTC_FIXTURES/forward/minilm2
[ -f "$model/model.safetensors" ] || { echo "FAIL: $model is missing (make build/fixtures/forward.stamp)"; exit 1; }
python3 -c "import huggingface_hub" 2>/dev/null || { echo "FAIL: huggingface_hub is not installed (tools/setup.sh python)"; exit 1; }

python3 - "$tmp/texts.txt" <<'PY'
import os, sys
sys.path.insert(0, os.environ["BERTC_ROOT"] + "/tests")
from serve_client import REVIEWS
open(sys.argv[1], "w").write("\n".join(REVIEWS) + "\n")
PY
"$BERTC" predict --model "$model" --threads 1 --all-scores --input "$tmp/texts.txt" >"$tmp/ref.jsonl" 2>"$tmp/ref.err"
check '[ $? -eq 0 ] && [ $(wc -l <"$tmp/ref.jsonl") -eq 8 ]' "bertc predict --all-scores reference for 8 texts"

serve_start serve "$model"
# The client must never leave the machine: no token, no proxy, the Hub's endpoint a closed
# local port. HF_HUB_OFFLINE (set by tests/run.sh) would refuse even 127.0.0.1, so it is unset
# for the client only.
env -u HF_HUB_OFFLINE -u HF_TOKEN NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 HF_ENDPOINT=http://127.0.0.1:9 \
    python3 "$BERTC_ROOT/tests/inference_client_check.py" "$port" "$tmp/texts.txt" "$tmp/ref.jsonl" || fail=1
serve_stop
check '[ $rc -eq 0 ]' "the server exits 0 on SIGTERM ($(tail -1 "$tmp/serve.err"))"
exit $fail
