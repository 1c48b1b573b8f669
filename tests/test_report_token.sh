#!/usr/bin/env bash
# test_report_token.sh: the report of a token-classification (NER) run.
# Builds run directories by hand in a temporary folder (run.json with
# settings.task = token-classification, log.jsonl, eval.json and
# predictions.jsonl as `bertc eval --run-dir` writes them), runs
# `$BERTC report DIR` and checks:
#   - the charts report/training_curves.png, per_type_f1.png and
#     confusion_matrix.png exist, are valid PNGs with real content, and the
#     text-classification charts left in report/ from before are removed;
#   - the page (parsed with html.parser) has the per-type table with eval.json's
#     numbers, the tag confusion matrix, the seqeval report in a <pre>, and 10
#     sample sentences (5 with a wrong tag, then 5 right) whose highlighted
#     entity spans, gold and predicted, are exactly seqeval's get_entities
#     (type and words), a span marked "miss" exactly when the other line has no
#     entity with the same words and type; invalid sequences (I-X after O,
#     I-ORG after B-LOC) and 30 random IOB2 sentences included;
#   - words such as "<script>", quotes, "&" and non-ASCII stay text;
#   - in headless Chromium: every chart decodes, no <script> element came from
#     the data, the literal text "<script>" is visible, the screenshot is not blank;
#   - a run with run.json and log.jsonl only (the report `bertc train` writes)
#     has the curves and says what is missing; malformed predictions and
#     eval.json are errors naming the file, line and key.
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
tool="$(dirname "$BERTC")/tests/test_chart"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

[ -x "$tool" ] || { echo "FAIL $tool not built (make all)"; exit 1; }
[ -x "$BERTC" ] || { echo "FAIL $BERTC not built (make all)"; exit 1; }
python3 -c "import seqeval" 2>/dev/null || { echo "FAIL python3 has no seqeval (tools/setup.sh installs it)"; exit 1; }

# 1. The synthetic run directories.
python3 - "$tmp" <<'PY'
import json, os, random, sys
from seqeval.metrics.sequence_labeling import get_entities
tmp = sys.argv[1]
labels = ["B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER", "O"]
# (words, gold, pred); the first 5 have a wrong tag, then right ones, then more of both.
S = [
    ("EU rejects German call to boycott British lamb .".split(),
     "B-ORG O B-MISC O O O B-MISC O O".split(), "B-ORG O B-MISC O O O B-LOC O O".split()),
    (["<script>alert(1)</script>", "visited", "Zürich", "and", "東京", "with", "\"Bob\"", "&", "Ann"],
     "B-MISC O B-LOC O B-LOC O B-PER O B-PER".split(), "B-MISC O B-LOC O B-LOC O B-PER I-PER I-PER".split()),
    ("Peter Blackburn of New York Times".split(),
     "B-PER I-PER O B-ORG I-ORG I-ORG".split(), "I-PER I-PER O B-LOC I-ORG I-ORG".split()),
    ("the European Commission said on Thursday".split(),
     "O B-ORG I-ORG O O O".split(), "O B-ORG B-ORG O O O".split()),
    ("Germany 's representative to the European Union".split(),
     "B-LOC O O O O B-ORG I-ORG".split(), "B-LOC O O O O O I-ORG".split()),
    ("BRUSSELS 1996-08-22".split(), "B-LOC O".split(), "B-LOC O".split()),
    ("Only France and Britain backed Fischler 's proposal .".split(),
     "O B-LOC O B-LOC O B-PER O O O".split(), "O B-LOC O B-LOC O B-PER O O O".split()),
    ("Spanish Farm Minister Loyola de Palacio".split(),
     "B-MISC O O B-PER I-PER I-PER".split(), "B-MISC O O B-PER I-PER I-PER".split()),
    ("<b>bold</b> & 'quoted' words".split(), "B-ORG O O O".split(), "B-ORG O O O".split()),
    ("São Paulo beat Çorum".split(), "B-LOC I-LOC O B-ORG".split(), "B-LOC I-LOC O B-ORG".split()),
    ("nothing to see here".split(), "O O O O".split(), "O O O O".split()),
    ("Nuremberg Trials".split(), "B-MISC I-MISC".split(), "B-MISC O".split()),
]
def write_run(d, sents, task=True, ev=True, extra_log=True):
    os.makedirs(d)
    settings = {"epochs": 3, "batch_size": 16, "learning_rate": 5e-5, "labels": labels}
    if task: settings["task"] = "token-classification"
    json.dump({"model": "minilm-ner", "wall_seconds": 754.2, "train_samples_per_second": 40.1,
               "eval_f1": 0.885, "eval_precision": 0.88, "eval_recall": 0.89, "eval_accuracy": 0.97,
               "eval_loss": 0.12, "settings": settings}, open(d + "/run.json", "w"))
    with open(d + "/log.jsonl", "w") as f:
        for step in range(10, 310, 10):
            f.write(json.dumps({"step": step, "epoch": step / 100, "loss": 1.5 / (1 + step / 40), "learning_rate": 5e-5}) + "\n")
            if step % 100 == 0:
                f.write(json.dumps({"step": step, "epoch": step / 100, "eval_loss": 0.3 - step / 2000,
                                    "eval_accuracy": 0.9 + step / 5000, "eval_f1": 0.7 + step / 1700,
                                    "eval_precision": 0.68 + step / 1600, "eval_recall": 0.72 + step / 1800}) + "\n")
    if not ev: return
    per_type = [{"type": "LOC", "precision": 0.9012, "recall": 0.9134, "f1": 0.9073, "support": 1668},
                {"type": "MISC", "precision": 0.7511, "recall": 0.7807, "f1": 0.7656, "support": 702},
                {"type": "ORG", "precision": 0.8512, "recall": 0.8724, "f1": 0.8617, "support": 1661},
                {"type": "PER", "precision": 0.9511, "recall": 0.9601, "f1": 0.9556, "support": 1617}]
    rnd = random.Random(7)
    conf = [[rnd.randint(0, 40) if i != j else rnd.randint(500, 2000) for j in range(9)] for i in range(9)]
    conf[8][8] = 38000
    report = ("              precision    recall  f1-score   support\n\n         LOC       0.90      0.91      0.91      1668\n"
              "  <MISC> & co       0.75      0.78      0.77       702\n")
    json.dump({"task": "token-classification", "model": "minilm-ner", "data": "test.txt", "sentences": len(sents),
               "words": sum(len(s[0]) for s in sents), "accuracy": 0.97, "precision": 0.88, "recall": 0.89,
               "f1": 0.885, "loss": 0.12, "per_type": per_type,
               "micro": {"precision": 0.88, "recall": 0.89, "f1": 0.885, "support": 5648},
               "macro": {"precision": 0.86, "recall": 0.88, "f1": 0.87, "support": 5648},
               "weighted": {"precision": 0.88, "recall": 0.89, "f1": 0.885, "support": 5648},
               "labels": labels, "confusion": conf, "report": report}, open(d + "/eval.json", "w"), ensure_ascii=False)
    with open(d + "/predictions.jsonl", "w", encoding="utf-8") as f:
        for w, g, p in sents:
            f.write(json.dumps({"words": w, "tags": g, "pred": p}, ensure_ascii=False) + "\n")

write_run(tmp + "/ner", S)
# Random IOB2 tags (any order, so invalid sequences too): all sentences differ.
for seed in range(3):
    rnd = random.Random(seed)
    tags = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER", "I-ORG"]
    sents = []
    for i in range(10):
        n = rnd.randint(1, 14)
        g = [rnd.choice(tags) for _ in range(n)]
        p = [rnd.choice(tags) for _ in range(n)]
        if g == p: p[0] = "B-ORG" if g[0] != "B-ORG" else "O"
        sents.append(([f"w{seed}_{i}_{k}" for k in range(n)], g, p))
    write_run(tmp + f"/random{seed}", sents, task=(seed != 1))  # seed 1: the task comes from eval.json
write_run(tmp + "/trainonly", [], ev=False)
PY
[ -f "$tmp/ner/predictions.jsonl" ] || { echo "FAIL could not write the synthetic run directories"; exit 1; }

# Charts of a text-classification report left in report/ must go.
mkdir -p "$tmp/ner/report"
printf 'stale' >"$tmp/ner/report/label_distribution.png"
printf 'stale' >"$tmp/ner/report/eval_metrics.png"

# 2. The report and its charts.
if "$BERTC" report "$tmp/ner" >"$tmp/out.txt" 2>&1; then ok "report written: $tmp/ner/report.html"
else bad "report failed: $(cat "$tmp/out.txt")"; exit 1; fi
for f in training_curves per_type_f1 confusion_matrix; do
    stats=$("$tool" --png-stats "$tmp/ner/report/$f.png" 2>&1)
    read -r w h n <<<"$stats"
    if [ "${n:-0}" -gt 50 ] 2>/dev/null && [ "$w" -ge 300 ] && [ "$h" -ge 200 ]; then ok "report/$f.png ${w}x${h}, $n colours"
    else bad "report/$f.png: $stats"; fi
done
for f in label_distribution eval_metrics training_loss token_lengths attention per_label_f1; do
    [ ! -e "$tmp/ner/report/$f.png" ] && ok "no report/$f.png (a text-classification chart)" || bad "report/$f.png left behind"
done

# 3. The page's structure, parsed; sample spans against seqeval's get_entities.
cat >"$tmp/check.py" <<'PY'
import json, re, sys
from html.parser import HTMLParser
from seqeval.metrics.sequence_labeling import get_entities
failed = 0
def check(ok, what):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    failed += not ok

class Page(HTMLParser):
    """Images, per-type table, <pre>, and the sample sentences: per <li>, per row
    (gold/pred), the words and the entity spans (type, words, miss)."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.imgs, self.scripts, self.table, self.pre, self.sents = {}, 0, [], None, []
        self.stack, self.row, self.cell, self.span, self.in_pre, self.in_sup, self.in_who = [], None, None, None, False, False, False
        self.in_table = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs); cls = (a.get("class") or "").split()
        if tag == "script": self.scripts += 1
        if tag == "img": self.imgs[a.get("id")] = a.get("src", "")
        if tag == "table" and a.get("id") == "per-type-table": self.in_table = True
        if self.in_table and tag == "tr": self.table.append([])
        if self.in_table and tag in ("td", "th"): self.table[-1].append("")
        if tag == "pre" and a.get("id") == "seqeval-report": self.in_pre = True; self.pre = ""
        if tag == "li" and "sent" in cls: self.sents.append({"cls": cls, "rows": {}})
        if tag == "div" and "tags" in cls and self.sents:
            self.row = {"words": [], "ents": []}; self.sents[-1]["rows"][cls[1]] = self.row
        if tag == "span" and "who" in cls: self.in_who = True
        if tag == "span" and "ent" in cls and self.row is not None:
            self.span = {"type": a.get("data-type"), "words": [], "miss": "miss" in cls}
        if tag == "sup": self.in_sup = True
    def handle_endtag(self, tag):
        if tag == "table": self.in_table = False
        if tag == "pre": self.in_pre = False
        if tag == "sup": self.in_sup = False
        if tag == "span":
            if self.in_who: self.in_who = False
            elif self.span is not None and not self.in_sup:
                self.row["ents"].append(self.span); self.span = None
        if tag == "div": self.row = None
    def handle_data(self, d):
        if self.in_table and self.table and self.table[-1]: self.table[-1][-1] += d
        if self.in_pre: self.pre += d
        if self.row is not None and not self.in_who and not self.in_sup:
            ws = d.split()
            self.row["words"] += ws
            if self.span is not None: self.span["words"] += ws

def page(d):
    p = Page(); p.feed(open(d + "/report.html", encoding="utf-8").read()); return p

def samples(d, p, want_n):
    preds = [json.loads(l) for l in open(d + "/predictions.jsonl", encoding="utf-8")]
    wrong = [x for x in preds if x["tags"] != x["pred"]]; right = [x for x in preds if x["tags"] == x["pred"]]
    nr = min(len(right), 5); nw = min(len(wrong), 10 - nr); nr = min(len(right), 10 - nw)
    want = [(x, "wrong") for x in wrong[:nw]] + [(x, "right") for x in right[:nr]]
    check(len(p.sents) == want_n == len(want), "%s: %d sample sentences (want %d)" % (d.split("/")[-1], len(p.sents), want_n))
    bad = 0
    for (x, kind), s in zip(want, p.sents):
        g = [(t, x["words"][b:e + 1]) for t, b, e in get_entities(x["tags"])]
        q = [(t, x["words"][b:e + 1]) for t, b, e in get_entities(x["pred"])]
        gk = {(t, b, e) for t, b, e in get_entities(x["tags"])}; qk = {(t, b, e) for t, b, e in get_entities(x["pred"])}
        gmiss = [(t, b, e) not in qk for t, b, e in get_entities(x["tags"])]
        qmiss = [(t, b, e) not in gk for t, b, e in get_entities(x["pred"])]
        rows = s["rows"]
        okk = (kind in s["cls"] and set(rows) == {"gold", "pred"}
               and rows["gold"]["words"] == x["words"] and rows["pred"]["words"] == x["words"]
               and [(e["type"], e["words"]) for e in rows["gold"]["ents"]] == g
               and [(e["type"], e["words"]) for e in rows["pred"]["ents"]] == q
               and [e["miss"] for e in rows["gold"]["ents"]] == gmiss
               and [e["miss"] for e in rows["pred"]["ents"]] == qmiss)
        if not okk:
            bad += 1
            print("  sentence %r: want gold %s pred %s (%s), page %s" % (" ".join(x["words"]), g, q, kind, s))
    check(bad == 0, "%s: entity spans of every sample equal seqeval get_entities, misses marked (%d wrong)"
          % (d.split("/")[-1], bad))
    return sum(len(s["rows"]["gold"]["ents"]) + len(s["rows"]["pred"]["ents"]) for s in p.sents)

d = sys.argv[1]
p = page(d + "/ner")
src = open(d + "/ner/report.html", encoding="utf-8").read()
ev = json.load(open(d + "/ner/eval.json", encoding="utf-8"))
for f in ("training_curves", "per_type_f1", "confusion_matrix"):
    check(p.imgs.get("fig-" + f, "").startswith("data:image/png;base64,"), "figure %s embedded as a data: URI" % f)
rows = {r[0].strip(): [c.strip() for c in r[1:]] for r in p.table if r}
for t in ev["per_type"]:
    want = ["%.2f" % t["precision"], "%.2f" % t["recall"], "%.2f" % t["f1"], "%d" % t["support"]]
    check(rows.get(t["type"]) == want, "per-type table %s: %s (want %s)" % (t["type"], rows.get(t["type"]), want))
for name in ("micro avg", "macro avg", "weighted avg"):
    check(name in rows, "per-type table row %r" % name)
check(p.pre == ev["report"], "seqeval report text in <pre>, escaped, byte for byte")
check("<h1>BERT token classification (NER): run report</h1>" in src, "token-classification page title")
check("entity F1 <b>88.50%</b>" in src, "header: entity F1 88.50% from eval.json")
n = samples(d + "/ner", p, 10)
check(n >= 20, "%d entity spans highlighted in the samples" % n)
check(p.scripts == 0, "no <script> element in the page (%d)" % p.scripts)
check("&lt;script&gt;alert(1)&lt;/script&gt;" in src and "<b>bold" not in src, "'<script>' and '<b>' words are escaped")
check("Zürich" in src and "東京" in src and "São" in src, "non-ASCII words kept as UTF-8")
words = [w for s in p.sents for r in s["rows"].values() for w in r["words"]]
check("<script>alert(1)</script>" in words and '"Bob"' in words and "&" in words, "escaped words read back as the words")
refs = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", src)
check(refs and all(r.startswith("data:") or r.startswith("#") for r in refs), "every src/href is data: or #anchor")
for seed in range(3):
    samples(d + "/random%d" % seed, page(d + "/random%d" % seed), 10)
print("%d checks failed" % failed)
sys.exit(1 if failed else 0)
PY
for s in 0 1 2; do
    "$BERTC" report "$tmp/random$s" >"$tmp/out.txt" 2>&1 || bad "random$s: $(cat "$tmp/out.txt")"
done
if python3 "$tmp/check.py" "$tmp"; then ok "page structure and sample spans"; else bad "page structure and sample spans"; fi

# 4. In headless Chromium.
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ]; then
    bad "chromium not installed (tools/setup.sh apt installs it)"
else
    chrome_run() {
        local prof
        prof=$(mktemp -d -p "$tmp")
        timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$prof" "$@" 2>>"$tmp/chrome.log"
    }
    probe='<pre id="bertc-probe"></pre><script>window.addEventListener("load",function(){
var imgs=[].map.call(document.images,function(i){return {id:i.id,complete:i.complete,w:i.naturalWidth,h:i.naturalHeight};});
document.getElementById("bertc-probe").textContent=JSON.stringify({images:imgs,
scripts:document.scripts.length,spans:document.querySelectorAll("#samples span.ent").length,
text:document.querySelector("main").innerText});});</script>'
    python3 - "$tmp/ner/report.html" "$tmp/ner/probe.html" "$probe" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
assert page.count("</body>") == 1
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", sys.argv[3] + "</body>"))
PY
    chrome_run --virtual-time-budget=10000 --dump-dom "file://$tmp/ner/probe.html" >"$tmp/dom.html"
    python3 - "$tmp/dom.html" <<'PY'
import html, json, re, sys
m = re.search(r'<pre id="bertc-probe">(.*?)</pre>', open(sys.argv[1], encoding="utf-8").read(), re.S)
try:
    p = json.loads(html.unescape(m.group(1)))
except Exception:
    print("FAIL probe script did not report"); sys.exit(1)
bad = 0
def check(ok, what):
    global bad
    print(("ok   " if ok else "FAIL ") + what); bad += not ok
imgs = {i["id"]: i for i in p["images"]}
for f in ("training_curves", "per_type_f1", "confusion_matrix"):
    i = imgs.get("fig-" + f)
    check(i is not None and i["complete"] and i["w"] > 0 and i["h"] > 0, "Chromium decoded fig-%s: %s" % (f, i))
check(p["scripts"] == 1, "only the probe's <script> in the DOM (%d)" % p["scripts"])
check("<script>alert(1)</script>" in p["text"], "the word '<script>alert(1)</script>' is visible as text")
check(p["spans"] >= 20, "%d entity spans rendered in the samples" % p["spans"])
check("Sample sentences" in p["text"] and "Tag confusion matrix" in p["text"], "section headings visible")
sys.exit(1 if bad else 0)
PY
    [ $? -eq 0 ] && ok "DOM checks in Chromium" || bad "DOM checks in Chromium"
    chrome_run --window-size=1200,4000 --screenshot="$tmp/shot.png" "file://$tmp/ner/report.html" >/dev/null
    stats=$("$tool" --png-stats "$tmp/shot.png" 2>&1)
    read -r w h n <<<"$stats"
    if [ "${n:-0}" -gt 200 ] 2>/dev/null; then ok "page screenshot ${w}x${h} has $n colours (not blank)"
    else bad "page screenshot is blank or unreadable: $stats ($(tail -3 "$tmp/chrome.log"))"; fi
    [ -n "${BERTC_REPORT_KEEP:-}" ] && cp "$tmp/shot.png" "$tmp/ner/report.html" "$BERTC_REPORT_KEEP/" 2>/dev/null
fi

# 5. Right after training: run.json and log.jsonl only.
if "$BERTC" report "$tmp/trainonly" >"$tmp/out.txt" 2>&1; then
    n=$(grep -c 'class="missing"' "$tmp/trainonly/report.html")
    [ -s "$tmp/trainonly/report/training_curves.png" ] && [ "$n" -eq 4 ] &&
        grep -q "token classification (NER)" "$tmp/trainonly/report.html" &&
        ok "run.json + log.jsonl: curves drawn, 4 sections say eval.json/predictions.jsonl are missing" ||
        bad "run.json + log.jsonl only: $n missing-input notes (want 4), curves $(ls "$tmp/trainonly/report")"
else bad "run.json + log.jsonl only: $(cat "$tmp/out.txt")"; fi

# 6. Malformed inputs: an error naming the file (and line/key), nothing written.
check_error() { # name file content expected-message
    local d="$tmp/bad_$1"
    mkdir "$d" && printf '%s' '{"task": "token-classification"}' >"$d/eval.json" && printf '%s' "$3" >"$d/$2"
    "$BERTC" report "$d" >"$tmp/out.txt" 2>&1
    local code=$?
    if [ "$code" -eq 0 ]; then bad "$1: accepted"; return; fi
    if [ "$code" -lt 128 ] && grep -q -- "$4" "$tmp/out.txt" && [ ! -e "$d/report.html" ]; then ok "$1: refused: $(head -1 "$tmp/out.txt")"
    else bad "$1: exit $code, message: $(cat "$tmp/out.txt") (want '$4')"; fi
}
check_error lengths predictions.jsonl $'{"words":["a"],"tags":["O"],"pred":["O"]}\n{"words":["a","b"],"tags":["O"],"pred":["O","O"]}\n' \
    'predictions.jsonl:2: "words" has 2 entries, "tags" 1'
check_error nopred predictions.jsonl '{"words":["a"],"tags":["O"]}' 'predictions.jsonl:1: "pred" should be an array of strings'
check_error tagtype predictions.jsonl '{"words":["a"],"tags":[3],"pred":["O"]}' 'predictions.jsonl:1: "tags" should be an array of strings'
check_error square eval.json '{"task": "token-classification", "labels": ["O", "B-X"], "confusion": [[1, 2]]}' \
    '"confusion" is 1 x 2; it must be square'
check_error per_type eval.json '{"task": "token-classification", "per_type": {"type": "LOC"}}' \
    'eval.json: "per_type" should be an array of objects'
check_error report eval.json '{"task": "token-classification", "report": 5}' 'eval.json: "report" should be a string'

echo "token report test: $failed failed"
[ "$failed" -eq 0 ]
