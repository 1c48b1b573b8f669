"""inference_client_check.py PORT TEXTS REF_JSONL: drives `bertc serve` on
127.0.0.1:PORT with huggingface_hub.InferenceClient itself (unmodified), at the
root route (as an Inference Endpoint's URL) and at /predict, and compares its
answers with `bertc predict --all-scores` on the same texts (REF_JSONL, one list
of {"label", "score"} per text). Then checks by hand (http.client) the shapes
InferenceClient does not send: a list of inputs at /, TEI's shape at /predict,
and the refusals of bad parameters. Exits 1 on any mismatch; prints what it checked."""
import http.client
import json
import math
import sys

from huggingface_hub import InferenceClient

port = int(sys.argv[1])
texts = open(sys.argv[2], encoding="utf-8").read().splitlines()
ref = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
assert len(texts) == len(ref) and texts, (len(texts), len(ref))
fails = 0


def check(ok, what):
    global fails
    print(("ok: " if ok else "FAIL: ") + what)
    fails += not ok


def same(got, want, tol=1e-6):
    """got: InferenceClient elements (or dicts); want: predict's dicts, in order."""
    pairs = [(g.label, g.score) if hasattr(g, "label") else (g["label"], g["score"]) for g in got]
    return len(pairs) == len(want) and all(
        l == w["label"] and abs(s - w["score"]) <= tol for (l, s), w in zip(pairs, want))


for route in ("", "/predict"):
    client = InferenceClient(model=f"http://127.0.0.1:{port}{route}", timeout=30)
    name = route or "/"
    # Default: every label sorted by score, as the Inference API answers.
    got = [client.text_classification(t) for t in texts]
    check(all(same(g, w) for g, w in zip(got, ref)),
          f"{name}: InferenceClient.text_classification = bertc predict --all-scores on {len(texts)} texts (1e-6)")
    got = [client.text_classification(t, top_k=1) for t in texts]
    check(all(same(g, w[:1]) for g, w in zip(got, ref)), f"{name}: top_k=1 gives predict's best label")
    got = [client.text_classification(t, function_to_apply="softmax") for t in texts]
    check(all(same(g, w) for g, w in zip(got, ref)), f"{name}: function_to_apply=softmax = the model's probabilities")
    raw = [client.text_classification(t, function_to_apply="none") for t in texts]
    sig = [client.text_classification(t, function_to_apply="sigmoid", top_k=2) for t in texts]
    ok = True
    for r, s, w in zip(raw, sig, ref):
        z = {e.label: e.score for e in r}
        m = max(z.values())
        tot = sum(math.exp(v - m) for v in z.values())
        ok &= all(abs(math.exp(z[x["label"]] - m) / tot - x["score"]) <= 1e-5 for x in w)
        ok &= [e.score for e in r] == sorted(z.values(), reverse=True)
        ok &= all(abs(e.score - 1 / (1 + math.exp(-z[e.label]))) <= 1e-6 for e in s) and len(s) == 2
    check(ok, f"{name}: function_to_apply=none gives logits whose softmax is predict's scores; sigmoid of them")


def post(path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, json.loads(r.read())


st, got = post("/", {"inputs": texts[:3]})
check(st == 200 and len(got) == 3 and all(same(g, w) for g, w in zip(got, ref)),
      "POST / with a list of 3 inputs: a list of 3 lists of every label")
st, got = post("/", {"inputs": texts[0], "parameters": {"top_k": 1}})
check(st == 200 and len(got) == 1 and same(got[0], ref[0][:1]), "POST / with a string: [[best]] for top_k 1")
st, got = post("/predict", {"inputs": texts[0]})
check(st == 200 and same(got, ref[0][:1]), "POST /predict (TEI) with a string and no parameters: [best], as before")
st, got = post("/predict", {"inputs": texts[0], "top_k": None, "raw_scores": True})
check(st == 200 and len(got) == len(ref[0]) and isinstance(got[0], dict), "POST /predict raw_scores true: TEI's flat shape")
st, got = post("/predict", {"inputs": texts[0], "top_k": 1, "parameters": {"top_k": None}})
check(st == 200 and len(got) == 1 and same(got[0], ref[0]), "parameters.top_k null wins over top-level top_k 1")
for body, want, what in [
        ({"inputs": "x", "parameters": {"function_to_apply": "relu"}}, 422, "function_to_apply relu"),
        ({"inputs": "x", "parameters": {"function_to_apply": 3}}, 400, "function_to_apply 3"),
        ({"inputs": "x", "parameters": {"top_k": 0}}, 422, "parameters.top_k 0"),
        ({"inputs": "x", "parameters": {"top_k": 1.5}}, 400, "parameters.top_k 1.5"),
        ({"inputs": "x", "parameters": [1]}, 400, "parameters a list"),
        ({"inputs": "x", "raw_scores": "yes"}, 400, "raw_scores a string")]:
    st, got = post("/", body)
    check(st == want and got.get("error_type") == "validation" and what.split()[0] in got.get("error", ""),
          f"{what} -> {want} naming the field ({got.get('error')})")
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
c.request("GET", "/")
r = c.getresponse()
check(r.status == 405 and r.getheader("Allow") == "POST", "GET / -> 405 with Allow: POST")
r.read()
sys.exit(1 if fails else 0)
