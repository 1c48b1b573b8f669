#!/usr/bin/env bash
# test_hub.sh: the CLI end of Hub downloads (test_hub.c covers the library):
# `bertc tokenize --model owner/tiny` downloads from tests/hub_server.py on
# 127.0.0.1 and tokenizes; a cut mid-file fails with one line on stderr and a
# non-zero status, leaves nothing at the final cache path, and the next run
# resumes (Range) and succeeds; the progress bar stays off when stderr is not a
# terminal. Needs python3 with numpy and safetensors (tools/setup.sh python).
set -u
: "${BERTC:?}" "${BERTC_ROOT:?}"
tmp=$(mktemp -d /tmp/bertc-hubsh-XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }

python3 - "$tmp/srv" <<'PY' || { echo "FAIL: cannot write the tiny model (numpy, safetensors)"; exit 1; }
import json, os, sys
import numpy as np
from safetensors.numpy import save_file
V, C, F, P = 500, 16, 32, 32
rng = np.random.default_rng(0)
t = {"embeddings.word_embeddings.weight": (V, C), "embeddings.position_embeddings.weight": (P, C),
     "embeddings.token_type_embeddings.weight": (2, C), "embeddings.LayerNorm.weight": (C,),
     "embeddings.LayerNorm.bias": (C,)}
pre = "encoder.layer.0."
for n in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]:
    t[pre + n + ".weight"], t[pre + n + ".bias"] = (C, C), (C,)
for n in ["attention.output.LayerNorm", "output.LayerNorm"]:
    t[pre + n + ".weight"], t[pre + n + ".bias"] = (C,), (C,)
t[pre + "intermediate.dense.weight"], t[pre + "intermediate.dense.bias"] = (F, C), (F,)
t[pre + "output.dense.weight"], t[pre + "output.dense.bias"] = (C, F), (C,)
for name in ["tiny", "cut-tiny"]:
    d = os.path.join(sys.argv[1], "owner", name)
    os.makedirs(d)
    json.dump({"model_type": "bert", "vocab_size": V, "hidden_size": C, "num_hidden_layers": 1,
               "num_attention_heads": 2, "intermediate_size": F, "max_position_embeddings": P},
              open(os.path.join(d, "config.json"), "w"))
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]
    words += ["w%d" % i for i in range(V - len(words))]
    open(os.path.join(d, "vocab.txt"), "w").write("\n".join(words) + "\n")
    save_file({k: (rng.standard_normal(s) * 0.02).astype(np.float32) for k, s in t.items()},
              os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
PY

python3 "$BERTC_ROOT/tests/hub_server.py" "$tmp/srv" "$tmp/port" "$tmp/log" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "FAIL: hub_server.py did not start"; exit 1; }
export HF_ENDPOINT="http://127.0.0.1:$(cat "$tmp/port")" XDG_CACHE_HOME="$tmp/cache" HF_HOME="$tmp/hf"
export HF_TOKEN=sesame
unset HF_HUB_OFFLINE
models="$tmp/cache/bertc/models/owner"

out=$("$BERTC" tokenize --model owner/tiny "hello world" 2>"$tmp/err1"); rc=$?
check '[ $rc -eq 0 ] && grep -q "\"input_ids\":\[2,5,6,3\]" <<<"$out"' "tokenize a downloaded model: $out $(cat "$tmp/err1")"
check '[ -f "$models/tiny/.complete" ] && [ ! -e "$models/tiny.partial" ]' "owner/tiny in the cache"
check '! grep -q downloading "$tmp/err1"' "no progress bar when stderr is not a terminal"

"$BERTC" tokenize --model owner/cut-tiny hello >/dev/null 2>"$tmp/err2"; rc=$?
check '[ $rc -ne 0 ] && [ "$(wc -l <"$tmp/err2")" -eq 1 ] && grep -q "again to resume" "$tmp/err2"' \
      "cut mid-file: exit $rc, one line: $(cat "$tmp/err2")"
check '[ ! -e "$models/cut-tiny" ]' "cut: nothing at the final path"
"$BERTC" tokenize --model owner/cut-tiny hello >/dev/null 2>"$tmp/err3"; rc=$?
check '[ $rc -eq 0 ] && grep -q "cut-tiny/model.safetensors range=bytes=" "$tmp/log"' \
      "second attempt resumed with Range: $(cat "$tmp/err3")"

"$BERTC" tokenize --model owner/absent hello >/dev/null 2>"$tmp/err4"; rc=$?
check '[ $rc -ne 0 ] && grep -q "404" "$tmp/err4" && [ ! -e "$models/absent" ]' "unknown model: $(cat "$tmp/err4")"
# a pseudo-terminal: the bar is drawn. `script` (Debian's bsdutils, in tools/setup.sh)
# is required: without it this check would silently not run.
if command -v script >/dev/null; then
    rm -rf "$models/tiny"
    script -qec "$BERTC tokenize --model owner/tiny hello" /dev/null >"$tmp/tty" 2>&1
    check 'grep -q "downloading owner/tiny model.safetensors.*100%" "$tmp/tty"' "progress bar on a terminal"
else
    check false "no \`script\` command for the progress-bar check (install bsdutils: tools/setup.sh)"
fi
exit $fail
