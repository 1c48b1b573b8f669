"""inference_client_qa_check.py PORT FIXTURE_DIR REF_DIR: drives `bertc serve` on
a question-answering model at 127.0.0.1:PORT with huggingface_hub.InferenceClient
itself (unmodified: its question_answering() builds the request and parses the
answer), at the root route (an Inference Endpoint's URL) and at /predict, on
tools/gen_qa_cli.py's 30 question/context pairs (FIXTURE_DIR/inputs.jsonl) under
the fixture's 4 settings (FIXTURE_DIR/runs.json, whose bertc predict flags map to
the client's top_k, handle_impossible_answer, max_answer_len, max_seq_len and
doc_stride). Every answer must equal `bertc predict`'s (REF_DIR/refK.jsonl, run K:
the same shape, spans, texts and scores: the same library path) and transformers
4.57's pipeline's recorded in runs.json (spans and texts; scores within 1e-4).
Then by hand (http.client): a list of inputs, GET /info, and the refusals of bad
requests (4xx, one-line JSON naming the field), also as InferenceClient raises
them. Exits 1 on any mismatch; prints what it checked."""
import http.client
import json
import os
import sys

from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError

port, fx, ref_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
runs = json.load(open(os.path.join(fx, "runs.json"), encoding="utf-8"))["runs"]
inputs = [json.loads(l) for l in open(os.path.join(fx, "inputs.jsonl"), encoding="utf-8") if l.strip()]
refs = [[json.loads(l) for l in open(os.path.join(ref_dir, f"ref{k}.jsonl"), encoding="utf-8")] for k in range(len(runs))]
assert inputs and all(len(r) == len(inputs) for r in refs), (len(inputs), [len(r) for r in refs])
PIPELINE_TOL = 1e-4  # the pipeline's float32 softmax products against bertc's double (as tests/qa_check.py)
PREDICT_TOL = 1e-12  # the same code path and thread count: equal up to JSON's printing
fails = 0


def check(ok, what):
    global fails
    print(("ok: " if ok else "FAIL: ") + what)
    fails += not ok


def params_of(flags):
    """bertc predict's flags (runs.json) as InferenceClient.question_answering's keywords."""
    p, i = {}, 0
    names = {"--top-k": "top_k", "--max-answer-length": "max_answer_len", "--max-length": "max_seq_len",
             "--doc-stride": "doc_stride"}
    while i < len(flags):
        if flags[i] == "--handle-impossible-answer":
            p["handle_impossible_answer"] = True
        elif flags[i] in names:
            p[names[flags[i]]] = int(flags[i + 1])
            i += 1
        elif flags[i]:
            raise SystemExit(f"unknown flag {flags[i]}")
        i += 1
    return p


def as_dicts(x):
    """A client element, a list of them, or parsed JSON: (is_list, [dict, ...])."""
    items = x if isinstance(x, list) else [x]
    return isinstance(x, list), [{"answer": e["answer"], "start": e["start"], "end": e["end"], "score": e["score"]}
                                 if isinstance(e, dict) else
                                 {"answer": e.answer, "start": e.start, "end": e.end, "score": e.score} for e in items]


def same(got, want, tol):
    (gl, g), (wl, w) = as_dicts(got), as_dicts(want)
    return gl == wl and len(g) == len(w) and all(
        a["answer"] == b["answer"] and a["start"] == b["start"] and a["end"] == b["end"] and
        abs(a["score"] - b["score"]) <= tol for a, b in zip(g, w))


for route in ("", "/predict"):
    client = InferenceClient(model=f"http://127.0.0.1:{port}{route}", timeout=60)
    name = route or "/"
    for k, run in enumerate(runs):
        p = params_of(run["flags"])
        got = [client.question_answering(question=x["question"], context=x["context"], **p) for x in inputs]
        n_pred = sum(same(g, r, PREDICT_TOL) for g, r in zip(got, refs[k]))
        n_pipe = sum(same(g, a, PIPELINE_TOL) for g, a in zip(got, run["answers"]))
        check(n_pred == len(inputs) and n_pipe == len(inputs),
              f"{name} {p or '(defaults)'}: InferenceClient.question_answering = bertc predict {' '.join(run['flags'])} "
              f"on {n_pred}/{len(inputs)} inputs, = the 4.57 pipeline on {n_pipe}/{len(inputs)}")


def post(path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", path, body if isinstance(body, str) else json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    raw = r.read().decode("utf-8")
    return r.status, raw


st, raw = post("/", {"inputs": inputs[:3]})
got = json.loads(raw) if st == 200 else None
check(st == 200 and isinstance(got, list) and len(got) == 3 and all(same(g, w, PREDICT_TOL) for g, w in zip(got, refs[0])),
      "POST / with a list of 3 {question, context}: a list of predict's 3 answers")
st, raw = post("/predict", {"inputs": inputs[0], "parameters": {"top_k": 3, "handle_impossible_answer": True,
                                                                  "max_question_len": 64, "align_to_words": True}})
check(st == 200 and same(json.loads(raw), refs[1][0], PREDICT_TOL),
      "POST /predict with every parameter the client can send (null ones left out) = predict")
st, raw = post("/", {"inputs": inputs[0], "parameters": {"top_k": None, "doc_stride": None}})
check(st == 200 and same(json.loads(raw), refs[0][0], PREDICT_TOL), "null parameters keep the pipeline's defaults")
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
c.request("GET", "/info")
info = json.loads(c.getresponse().read())
check(info.get("task") == "question-answering", f"GET /info names the task ({info.get('task')})")

q, ctx = inputs[0]["question"], inputs[0]["context"]
long_q = " ".join(["word"] * 40)
for body, want, field in [
        ('{"inputs": {"question": "a", "context": "b"', 400, "malformed JSON"),
        ({"inputs": "a text, not a question"}, 400, "inputs"),
        ({"inputs": {"question": q}}, 400, "inputs.context is missing"),
        ({"inputs": {"question": q, "context": 3}}, 400, "inputs.context must be a string"),
        ({"inputs": {"question": "", "context": ctx}}, 422, "inputs.question is empty"),
        ({"inputs": [inputs[0], {"question": q, "context": ""}]}, 422, "inputs[1].context is empty"),
        ({"inputs": []}, 422, "empty list"),
        ({"inputs": inputs[0], "parameters": {"top_k": 0}}, 422, "parameters.top_k"),
        ({"inputs": inputs[0], "parameters": {"doc_stride": "8"}}, 400, "parameters.doc_stride"),
        ({"inputs": inputs[0], "parameters": {"max_answer_len": 1.5}}, 400, "parameters.max_answer_len"),
        ({"inputs": inputs[0], "parameters": {"max_seq_len": 100000}}, 422, "max_seq_len"),
        ({"inputs": inputs[0], "parameters": {"max_seq_len": 64, "doc_stride": 65}}, 422, "doc_stride"),
        ({"inputs": inputs[0], "parameters": {"handle_impossible_answer": "yes"}}, 400,
         "parameters.handle_impossible_answer"),
        ({"inputs": inputs[0], "parameters": {"topk": 2}}, 422, "parameters.topk"),
        ({"inputs": inputs[0], "parameters": [1]}, 400, "parameters"),
        ({"inputs": {"question": long_q, "context": ctx}, "parameters": {"max_seq_len": 16}}, 422,
         "leave no room for the context")]:
    for path in ("/", "/predict"):
        st, raw = post(path, body)
        try:
            e = json.loads(raw)
        except ValueError:
            e = {}
        ok = st == want and "\n" not in raw.strip() and e.get("error_type") == "validation" and field in e.get("error", "")
        check(ok, f"{path} {field} -> {want} ({st}: {e.get('error')})")
client = InferenceClient(model=f"http://127.0.0.1:{port}", timeout=30)
try:
    client.question_answering(question="", context=ctx)
    check(False, "InferenceClient with an empty question: no error raised")
except HfHubHTTPError as ex:
    code = ex.response.status_code if ex.response is not None else None
    check(code == 422 and "question is empty" in str(ex) + (ex.response.text if ex.response is not None else ""),
          f"InferenceClient with an empty question raises HfHubHTTPError 422")
sys.exit(1 if fails else 0)
