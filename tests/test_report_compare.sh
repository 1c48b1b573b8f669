#!/usr/bin/env bash
# test_report_compare.sh: `bertc report` comparing runs, checked in headless
# Chromium as a user sees the page. Inputs are written here with known numbers:
# a sweep folder (sweep.json, trials.jsonl, trial-N/log.jsonl, run.json only for
# finished trials) and a seeds folder (seeds.json, seed-S/). Checks:
#   - the runs table has one row per run with its status from trials.jsonl and
#     sorts by a clicked column (ascending, then descending) in the browser;
#   - one chart of the metric against each setting that varies, the overlaid
#     curves, and for the seeds a band whose table holds the mean and sample
#     standard deviation (ddof 1) computed here from the logs;
#   - text from the files stays text; every src/href is data: or #anchor;
#   - a folder without log.jsonl and several folders without --output are errors.
set -uo pipefail
BERTC=${BERTC:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

python3 - "$tmp" <<'PY'
import json, os, sys
d = sys.argv[1]
# a sweep of 4 trials: lr x batch-size; trial 3 has an HTML-looking model name
sw = d + "/sw"; os.makedirs(sw)
settings = [{"lr": "1e-4", "batch-size": "8"}, {"lr": "1e-4", "batch-size": "16"},
            {"lr": "1e-3", "batch-size": "8"}, {"lr": "1e-3", "batch-size": "16"}]
acc = {0: [0.60, 0.70], 1: [0.55], 2: [0.65, 0.80], 3: [0.50]}
status = {0: "finished", 1: "stopped", 2: "finished", 3: "stopped"}
json.dump({"search": "halving", "metric": "eval_accuracy", "seed": 42, "train_args": [],
           "trials": [{"trial": i, "settings": s} for i, s in enumerate(settings)]}, open(sw + "/sweep.json", "w"))
with open(sw + "/trials.jsonl", "w") as f:
    for i in range(4):
        f.write(json.dumps({"trial": i, "status": status[i], "rung": 1, "epoch": len(acc[i]),
                            "eval_accuracy": acc[i][-1], "settings": settings[i]}) + "\n")
for i in range(4):
    t = f"{sw}/trial-{i}"; os.makedirs(t)
    with open(t + "/log.jsonl", "w") as f:
        for e, a in enumerate(acc[i], 1):
            f.write(json.dumps({"step": 4 * e, "epoch": e, "loss": 0.7 - 0.05 * e - 0.01 * i, "learning_rate": 1e-4}) + "\n")
            f.write(json.dumps({"step": 4 * e, "epoch": e, "eval_loss": 1 - a, "eval_accuracy": a, "eval_f1": a / 2}) + "\n")
    if status[i] == "finished":
        json.dump({"global_step": 8, "wall_seconds": 10.0 + i, "eval_accuracy": acc[i][-1]}, open(t + "/run.json", "w"))
# seeds 1, 2, 3 with 3 epochs each; the model name needs escaping
sd = d + "/seeds"; os.makedirs(sd)
accs = {1: [0.60, 0.70, 0.75], 2: [0.62, 0.66, 0.80], 3: [0.58, 0.71, 0.72]}
json.dump({"seeds": [1, 2, 3], "n": 3, "std_ddof": 1}, open(sd + "/seeds.json", "w"))
for s, a in accs.items():
    t = f"{sd}/seed-{s}"; os.makedirs(t)
    with open(t + "/log.jsonl", "w") as f:
        for e, x in enumerate(a, 1):
            f.write(json.dumps({"step": 10 * e, "epoch": e, "loss": 0.6 - 0.1 * e}) + "\n")
            f.write(json.dumps({"step": 10 * e, "epoch": e, "eval_loss": 1 - x, "eval_accuracy": x, "eval_f1": x}) + "\n")
    json.dump({"global_step": 30, "wall_seconds": 5.0, "settings": {"model": "<i>tiny</i>", "seed": s, "lr": 0.001}},
              open(t + "/run.json", "w"))
PY

"$BERTC" report "$tmp/sw" >"$tmp/o1" 2>&1 || bad "report of a sweep: $(cat "$tmp/o1")"
[ -f "$tmp/sw/compare.html" ] || bad "no sw/compare.html"
"$BERTC" report "$tmp/sw" "$tmp/seeds" --output "$tmp/both.html" >"$tmp/o2" 2>&1 || bad "report of two folders: $(cat "$tmp/o2")"

chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
    bad "chromium not installed (tools/setup.sh apt installs it)"
else
    probe='<pre id="bertc-probe"></pre><script>window.addEventListener("load",function(){
function col(){return [].map.call(document.querySelectorAll("#runs-table tbody tr"),function(r){return r.cells[0].textContent;});}
var ths=[].slice.call(document.querySelectorAll("#runs-table th"));var th=ths.filter(function(h){return h.textContent==="eval_accuracy";})[0];
var before=col();th.click();var asc=col();th.click();var desc=col();
var svgs=[].map.call(document.querySelectorAll("svg.chart"),function(s){return {id:s.id,w:s.getBoundingClientRect().width,curves:s.querySelectorAll(".curve").length,points:s.querySelectorAll(".point").length,bands:s.querySelectorAll(".band").length};});
var bandrows=[].map.call(document.querySelectorAll("table.band-table tr"),function(r){return [].map.call(r.cells,function(c){return c.textContent;});});
var status={};[].forEach.call(document.querySelectorAll("#runs-table tbody tr"),function(r){status[r.cells[0].textContent]=r.cells[1].textContent;});
document.getElementById("bertc-probe").textContent=JSON.stringify({before:before,asc:asc,desc:desc,svgs:svgs,bandrows:bandrows,status:status,
 italics:document.querySelectorAll("main i").length,text:document.querySelector("main").innerText});});</script>'
    python3 - "$tmp/both.html" "$tmp/probe.html" "$probe" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
assert page.count("</body>") == 1
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", sys.argv[3] + "</body>"))
PY
    prof=$(mktemp -d -p "$tmp")
    timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --disable-dev-shm-usage --user-data-dir="$prof" \
        --virtual-time-budget=10000 --dump-dom "file://$tmp/probe.html" >"$tmp/dom.html" 2>"$tmp/chrome.log"
    python3 - "$tmp/dom.html" "$tmp/both.html" <<'PY' || bad "checks in Chromium"
import html, json, re, statistics, sys
dom = open(sys.argv[1], encoding="utf-8").read()
src = open(sys.argv[2], encoding="utf-8").read()
m = re.search(r'<pre id="bertc-probe">(.*?)</pre>', dom, re.S)
assert m and m.group(1), "the probe did not run"
p = json.loads(html.unescape(m.group(1)))
fails = 0
def check(ok, what):
    global fails
    print(("ok   " if ok else "FAIL ") + what)
    fails += not ok
runs = ["trial-0", "trial-1", "trial-2", "trial-3", "seeds/seed-1", "seeds/seed-2", "seeds/seed-3"]
check(p["before"] == runs, "table rows in input order: %s" % p["before"])
last = {"trial-0": 0.70, "trial-1": 0.55, "trial-2": 0.80, "trial-3": 0.50, "seeds/seed-1": 0.75, "seeds/seed-2": 0.80, "seeds/seed-3": 0.72}
want_asc = sorted(runs, key=lambda r: (last[r], runs.index(r)))
check(p["asc"] == want_asc, "sorted by eval_accuracy ascending in the browser: %s" % p["asc"])
check(p["desc"][0] in ("trial-2", "seeds/seed-2") and p["desc"][-1] == "trial-3", "then descending: %s" % p["desc"])
check(p["status"]["trial-1"] == "stopped" and p["status"]["trial-0"] == "finished" and p["status"]["seeds/seed-1"] == "finished",
      "status from trials.jsonl / run.json: %s" % p["status"])
ids = {s["id"]: s for s in p["svgs"]}
settings_charts = [s for s in p["svgs"] if s["id"].startswith("chart-setting-")]
check(len(settings_charts) == 3, "one chart per varying setting (lr, batch-size, model): %d" % len(settings_charts))
check(all(s["points"] >= 3 and s["w"] > 300 for s in settings_charts), "setting charts have points and are drawn")
for c in ("chart-train-loss", "chart-eval-accuracy", "chart-eval-loss"):
    check(c in ids and ids[c]["curves"] == 7, "%s overlays 7 runs" % c)
check("chart-band-0-accuracy" in ids and ids["chart-band-0-accuracy"]["bands"] == 1, "seeds: accuracy band drawn")
rows = [r for r in p["bandrows"] if r and r[0] != "epoch"]
accs = {1: [0.60, 0.70, 0.75], 2: [0.62, 0.66, 0.80], 3: [0.58, 0.71, 0.72]}
want = [(e + 1, statistics.fmean([accs[s][e] for s in accs]), statistics.stdev([accs[s][e] for s in accs])) for e in range(3)]
got = [(float(r[0]), float(r[1]), float(r[2])) for r in rows[:3]]
check(all(abs(g[1] - w[1]) < 5e-5 and abs(g[2] - w[2]) < 5e-5 and g[0] == w[0] for g, w in zip(got, want)) and len(got) == 3,
      "band table: mean and sample std per epoch %s (want %s)" % (got, [(e, round(m, 4), round(s, 4)) for e, m, s in want]))
check(p["italics"] == 0 and "<i>tiny</i>" in p["text"], "'<i>tiny</i>' from run.json shows as text")
refs = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", src)
check(all(r.startswith("data:") or r.startswith("#") for r in refs), "no external src/href (%d)" % len(refs))
check("http" not in src.replace("http-equiv", ""), "no URL in the page")
sys.exit(1 if fails else 0)
PY
fi

# errors
mkdir -p "$tmp/empty"
"$BERTC" report "$tmp/empty" "$tmp/sw" --output "$tmp/x.html" 2>"$tmp/e" && bad "a folder without log.jsonl accepted"
grep -q "$tmp/empty: no log.jsonl" "$tmp/e" || bad "no log.jsonl: $(cat "$tmp/e")"
[ -e "$tmp/x.html" ] && bad "a refused comparison wrote its page"
"$BERTC" report "$tmp/sw" "$tmp/seeds" 2>"$tmp/e" && bad "several folders without --output accepted"
grep -q -- "--output" "$tmp/e" || bad "several folders: $(cat "$tmp/e")"

[ $fail -eq 0 ] && echo "test_report_compare.sh: all checks passed"
exit $fail
