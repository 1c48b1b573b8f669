#!/usr/bin/env bash
# test_serve_qa.sh: `bertc serve` on a question-answering model (tools/gen_qa_cli.py's
# random BertForQuestionAnswering), driven by huggingface_hub.InferenceClient itself
# (unmodified, at http://127.0.0.1:PORT and .../predict; loopback only): its
# question_answering() on 30 question/context pairs x the fixture's 4 settings
# equals `bertc predict` with the same flags and transformers 4.57's pipeline
# recorded in the fixture; a list of inputs, GET /info, and bad requests answered
# 4xx with a one-line JSON error naming the field
# (tests/inference_client_qa_check.py). SIGTERM: exit 0. The server is killed at
# exit (trap).
set -u
. "$(dirname "$0")/serve_lib.sh" serve-qa
fx=$BERTC_FIXTURES/qa_cli
model=$fx/tiny
[ -f "$model/model.safetensors" ] && [ -f "$fx/runs.json" ] || { echo "FAIL: $fx is missing (make build/fixtures/qa_cli.stamp)"; exit 1; }
python3 -c "import huggingface_hub" 2>/dev/null || { echo "FAIL: huggingface_hub is not installed (tools/setup.sh python)"; exit 1; }

# bertc predict's answers under each of the fixture's settings: the reference
nruns=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['runs']))" "$fx/runs.json")
for k in $(seq 0 $((nruns - 1))); do
    mapfile -t flags < <(python3 -c "import json,sys; print('\n'.join(json.load(open(sys.argv[1]))['runs'][$k]['flags']))" "$fx/runs.json")
    [ "${#flags[@]}" -eq 1 ] && [ -z "${flags[0]}" ] && flags=()
    "$BERTC" predict --model "$model" --input "$fx/inputs.jsonl" --threads 1 "${flags[@]}" >"$tmp/ref$k.jsonl" 2>"$tmp/ref.err"
    check '[ $? -eq 0 ] && [ $(wc -l <"$tmp/ref$k.jsonl") -eq 30 ]' "bertc predict ${flags[*]:-(defaults)}: 30 answers"
done

serve_start serve "$model"
check 'grep -q "question-answering" "$tmp/serve.err"' "serve names the head: $(head -1 "$tmp/serve.err")"
# The client must never leave the machine: no token, no proxy, the Hub's endpoint a closed
# local port. HF_HUB_OFFLINE (set by tests/run.sh) would refuse even 127.0.0.1, so it is unset
# for the client only.
env -u HF_HUB_OFFLINE -u HF_TOKEN NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 HF_ENDPOINT=http://127.0.0.1:9 \
    python3 "$BERTC_ROOT/tests/inference_client_qa_check.py" "$port" "$fx" "$tmp" || fail=1
serve_stop
check '[ $rc -eq 0 ]' "the server exits 0 on SIGTERM ($(tail -1 "$tmp/serve.err"))"
exit $fail
