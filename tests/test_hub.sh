#!/usr/bin/env bash
# test_hub.sh: the CLI end of Hub downloads and of model resolution (test_hub.c
# covers the library): `bertc tokenize --model owner/tiny` downloads from
# tests/hub_server.py on 127.0.0.1 into models--owner--tiny/snapshots/COMMIT
# and tokenizes; a cut mid-file fails with one line on stderr and a non-zero
# status, leaves no snapshot, and the next run resumes (Range) and succeeds; a
# download whose SHA-256 differs from the Hub's metadata is one line and leaves
# nothing; the progress bar stays off when stderr is not a terminal.
# Resolution (docs/models.md): a missing path is "no such folder" (never a
# cached model of the same last component, never a request); owner/name never
# answers with a cached name or another owner's model; a local name and an
# aliases.json entry work offline. Needs python3 with numpy and safetensors
# (tools/setup.sh python).
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
for name in ["tiny", "cut-tiny", "corrupt-tiny"]:
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
cache="$tmp/cache/bertc/models"
B() { "$BERTC" tokenize "$@" hello; }

out=$("$BERTC" tokenize --model owner/tiny "hello world" 2>"$tmp/err1"); rc=$?
check '[ $rc -eq 0 ] && grep -q "\"input_ids\":\[2,5,6,3\]" <<<"$out"' "tokenize a downloaded model: $out $(cat "$tmp/err1")"
commit=$(cat "$cache/models--owner--tiny/refs/main" 2>/dev/null)
check '[ ${#commit} -eq 40 ] && [ -f "$cache/models--owner--tiny/snapshots/$commit/.complete" ] && [ ! -e "$cache/models--owner--tiny/.incomplete" ]' \
      "owner/tiny in the cache under its id and commit ($commit)"
check '! grep -q downloading "$tmp/err1"' "no progress bar when stderr is not a terminal"

B --model owner/cut-tiny >/dev/null 2>"$tmp/err2"; rc=$?
check '[ $rc -ne 0 ] && [ "$(wc -l <"$tmp/err2")" -eq 1 ] && grep -q "again to resume" "$tmp/err2"' \
      "cut mid-file: exit $rc, one line: $(cat "$tmp/err2")"
check '[ ! -e "$cache/models--owner--cut-tiny/snapshots" ]' "cut: no snapshot"
B --model owner/cut-tiny >/dev/null 2>"$tmp/err3"; rc=$?
check '[ $rc -eq 0 ] && grep -q "cut-tiny/model.safetensors range=bytes=" "$tmp/log"' \
      "second attempt resumed with Range: $(cat "$tmp/err3")"

B --model owner/corrupt-tiny >/dev/null 2>"$tmp/err5"; rc=$?
check '[ $rc -ne 0 ] && [ "$(wc -l <"$tmp/err5")" -eq 1 ] && grep -q "SHA-256" "$tmp/err5" && [ ! -e "$cache/models--owner--corrupt-tiny" ]' \
      "corrupt download: one line, nothing in the cache: $(cat "$tmp/err5")"

B --model owner/absent >/dev/null 2>"$tmp/err4"; rc=$?
check '[ $rc -ne 0 ] && grep -q "404" "$tmp/err4" && grep -q "no such folder" "$tmp/err4" && [ ! -e "$cache/models--owner--absent" ]' \
      "unknown model: $(cat "$tmp/err4")"

# ---- Resolution ----
# A local name: CACHE/tiny (as tools/setup.sh installs all-MiniLM-L6-v2).
cp -r "$cache/models--owner--tiny/snapshots/$commit" "$cache/tiny"
: >"$tmp/log"
HF_HUB_OFFLINE=1 B --model tiny >/dev/null 2>"$tmp/e"; rc=$?
check '[ $rc -eq 0 ]' "a local name (CACHE/tiny) works offline: $(cat "$tmp/e")"
# owner/name is never the cached "name", nor another owner's model.
HF_HUB_OFFLINE=1 B --model other/tiny >/dev/null 2>"$tmp/e"; rc=$?
check '[ $rc -ne 0 ] && grep -q "models--other--tiny" "$tmp/e" && grep -q HF_HUB_OFFLINE "$tmp/e"' \
      "other/tiny is not CACHE/tiny nor owner/tiny: $(cat "$tmp/e")"
B --model other/tiny >/dev/null 2>"$tmp/e"; rc=$?
check '[ $rc -ne 0 ] && grep -q "no such folder" "$tmp/e" && grep -q "HEAD /other/tiny/resolve/main/config.json" "$tmp/log"' \
      "other/tiny online: asked the Hub for other/tiny, 404: $(cat "$tmp/e")"
# A missing path: "no such folder", no cache, no request. models/ exists here, so
# models/tiny is a path; ./tiny and an absolute path cannot be Hub ids.
mkdir -p "$tmp/work/models"
: >"$tmp/log"
for m in models/tiny ./tiny "$tmp/nope/tiny" tiny/; do
    (cd "$tmp/work" && B --model "$m") >/dev/null 2>"$tmp/e"; rc=$?
    check '[ $rc -ne 0 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] && grep -q "no such folder" "$tmp/e"' \
          "missing path $m: $(cat "$tmp/e")"
done
check '[ ! -s "$tmp/log" ]' "missing paths: no request to the Hub ($(head -c 300 "$tmp/log"))"
# An existing folder is used as it is, even when it looks like a Hub id.
mkdir -p "$tmp/work/owner" && cp -r "$cache/tiny" "$tmp/work/owner/tiny"
(cd "$tmp/work" && HF_HUB_OFFLINE=1 B --model owner/tiny) >/dev/null 2>"$tmp/e"; rc=$?
check '[ $rc -eq 0 ]' "an existing folder owner/tiny is a folder: $(cat "$tmp/e")"
# An alias: a Hub id served by a local name (how sentence-transformers/all-MiniLM-L6-v2
# reaches the all-MiniLM-L6-v2 that tools/setup.sh installs).
printf '{"acme/tiny-alias": "tiny"}\n' >"$cache/aliases.json"
HF_HUB_OFFLINE=1 B --model acme/tiny-alias >/dev/null 2>"$tmp/e"; rc=$?
check '[ $rc -eq 0 ]' "aliases.json: acme/tiny-alias -> CACHE/tiny: $(cat "$tmp/e")"
HF_HUB_OFFLINE=1 B --model acme/tiny >/dev/null 2>"$tmp/e"; rc=$?
check '[ $rc -ne 0 ]' "acme/tiny (not aliased) is not found: $(cat "$tmp/e")"

# a pseudo-terminal: the bar is drawn. `script` (Debian's bsdutils, in tools/setup.sh)
# is required: without it this check would silently not run.
if command -v script >/dev/null; then
    rm -rf "$cache/models--owner--tiny"
    script -qec "$BERTC tokenize --model owner/tiny hello" /dev/null >"$tmp/tty" 2>&1
    check 'grep -q "downloading owner/tiny model.safetensors.*100%" "$tmp/tty"' "progress bar on a terminal"
else
    check false "no \`script\` command for the progress-bar check (install bsdutils: tools/setup.sh)"
fi
exit $fail
