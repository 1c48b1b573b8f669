#!/usr/bin/env python3
"""report_check.py DOM_FILE HTML_FILE: checks a bertc report as Chromium saw it.

DOM_FILE is `chromium --dump-dom` of a copy of the report with a probe script
(tests/test_report.sh adds it) that writes, after the load event, one JSON
object into <pre id="bertc-probe">: every <img> with its natural size, the
number of <br> elements and the page's text. HTML_FILE is the report as bertc
wrote it (for checks on the source: no external URLs).
Prints one line per check; exits 1 if any failed. Standard library only."""
import json
import re
import sys
from html.parser import HTMLParser

EXPECTED_FIGURES = ["label_distribution", "token_lengths", "training_loss", "eval_metrics",
                    "confusion_matrix", "attention"]
EXPECTED_HEADINGS = ["Label distribution", "Token lengths", "Training loss", "Evaluation loss and accuracy",
                     "Confusion matrix", "Classification report", "Attention for a sample review",
                     "Correct and wrong predictions", "Run settings"]
failed = 0


def check(ok, what):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed += 1


class Collect(HTMLParser):
    """Headings, the probe's text and the classification-report table's cells."""

    def __init__(self):
        super().__init__()
        self.h2, self.probe, self.table_rows = [], "", []
        self._in, self._table, self._row = None, False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self._in = "h2"; self.h2.append("")
        elif tag == "pre" and a.get("id") == "bertc-probe":
            self._in = "probe"
        elif tag == "table" and a.get("id") == "classification-report":
            self._table = True
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag):
        if tag in ("h2", "pre"):
            self._in = None
        elif tag == "table":
            self._table = False
        elif tag == "tr" and self._row is not None:
            self.table_rows.append([c.strip() for c in self._row]); self._row = None

    def handle_data(self, data):
        if self._in == "h2":
            self.h2[-1] += data
        elif self._in == "probe":
            self.probe += data
        if self._row is not None and self._row:
            self._row[-1] += data


def main():
    dom = open(sys.argv[1], encoding="utf-8").read()
    src = open(sys.argv[2], encoding="utf-8").read()
    p = Collect()
    p.feed(dom)

    try:
        probe = json.loads(p.probe)
    except ValueError:
        probe = None
    check(probe is not None, "probe script ran after load and reported the page state")
    probe = probe or {"images": [], "br": -1, "text": ""}
    imgs = {i["id"]: i for i in probe["images"]}
    for name in EXPECTED_FIGURES:
        i = imgs.get("fig-" + name)
        check(i is not None and i["complete"] and i["naturalWidth"] > 0 and i["naturalHeight"] > 0,
              "figure %-20s decoded by Chromium, natural size %s" %
              (name, "%dx%d" % (i["naturalWidth"], i["naturalHeight"]) if i else "missing"))

    for h in EXPECTED_HEADINGS:
        check(h in p.h2, "section heading %r" % h)

    rows = {r[0]: r[1:] for r in p.table_rows if r}
    check(rows.get("", [None])[:4] == ["precision", "recall", "f1-score", "support"],
          "classification report header: precision recall f1-score support")
    for name in ("Negative", "Positive", "accuracy", "macro avg", "weighted avg"):
        check(name in rows, "classification report row %r: %s" % (name, rows.get(name)))
    check(rows.get("Negative", [""])[0] == "0.89", "Negative precision is 0.89 (88 / 99 from eval.json)")

    # Escaping: the sample reviews contain "<br />" and quotes; they must show as text.
    check(probe["br"] == 0, "no <br> element in the page (review markup stayed text): %s" % probe["br"])
    check("<br />" in probe["text"], "the literal text '<br />' from a review is visible")
    check("Predicted Positive (score 0.97)" in probe["text"], "attention section names the predicted label and score")
    check("200 predictions, 177 correct" in probe["text"], "predictions section counts correct and wrong")
    check("30m 43s" in probe["text"], "run settings show the wall time (1843.6 s = 30m 43s)")

    # Self-contained: every src/href is a data: URI or an in-page anchor.
    refs = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", src)
    external = [r for r in refs if not (r.startswith("data:") or r.startswith("#"))]
    check(refs and not external, "all %d src/href are data: URIs or #anchors%s" %
          (len(refs), "" if not external else ", external: " + ", ".join(external[:3])))
    check("url(" not in src.split("</style>")[0], "no url() in the stylesheet")
    print("%d checks failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
