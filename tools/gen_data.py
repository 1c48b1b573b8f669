#!/usr/bin/env python3
"""gen_data.py OUTDIR: facts about the IMDB archive, read independently with tarfile.

Writes OUTDIR/imdb.json: for the train and test splits, in bertc's documented order
(label neg = 0 then pos = 1, then the numeric <id> of <id>_<rating>.txt), the number
of reviews per label, the total bytes, the CRC-32 (zlib) of all texts concatenated in
that order, and for a few positions the id, rating, length and first 100 bytes (hex).
tests/test_data.c loads the same archive with src/data.c and compares.

The archive path: BERTC_IMDB, else ../shared/data/imdb/aclImdb-text.tar.gz.
"""
import json
import os
import re
import sys
import tarfile
import zlib

NAME = re.compile(r"(?:^|/)(train|test)/(neg|pos)/(\d+)_(\d+)\.txt$")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.environ.get("BERTC_IMDB") or os.path.join(root, "..", "shared", "data", "imdb",
                                                        "aclImdb-text.tar.gz")
    rows = {"train": [], "test": []}
    with tarfile.open(path, "r:gz") as tf:
        for m in tf:
            if not m.isfile():
                continue
            g = NAME.search(m.name)
            if not g or os.path.basename(m.name).startswith("."):
                continue
            split, lab, rid, rating = g.group(1), g.group(2), int(g.group(3)), int(g.group(4))
            data = tf.extractfile(m).read()
            rows[split].append((0 if lab == "neg" else 1, rid, rating, data))
    facts = {"archive": path}
    for split, r in rows.items():
        r.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
        crc = 0
        for x in r:
            crc = zlib.crc32(x[3], crc)
        n = len(r)
        picks = sorted({0, 1, n // 2 - 1, n // 2, n - 1})
        facts[split] = {
            "n": n,
            "per_label": [sum(1 for x in r if x[0] == 0), sum(1 for x in r if x[0] == 1)],
            "bytes": sum(len(x[3]) for x in r),
            "crc32": crc,
            "examples": [{"index": i, "label": r[i][0], "id": r[i][1], "rating": r[i][2], "len": len(r[i][3]),
                          "head_hex": r[i][3][:100].hex()} for i in picks],
        }
    with open(os.path.join(out, "imdb.json"), "w") as fh:
        json.dump(facts, fh, indent=1)


if __name__ == "__main__":
    main()
