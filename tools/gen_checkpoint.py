#!/usr/bin/env python3
"""gen_checkpoint.py OUTDIR: reference cases for checkpoint rotation in
tests/test_checkpoint.c.

For each case it creates empty checkpoint-N folders in a scratch directory,
runs transformers.trainer_utils.rotate_checkpoints (save_total_limit and
best_model_checkpoint as Trainer passes them; ordering by step) and records
which steps remain. Writes OUTDIR/rotate.json.
"""
import json
import os
import sys
import tempfile

import transformers
from transformers.trainer_utils import rotate_checkpoints

CASES = [
    # (steps saved, save_total_limit, best step or None)
    ([1, 2, 3, 4, 5], 2, None),
    ([1, 2, 3, 4, 5], 2, 2),
    ([1, 2, 3, 4, 5], 1, 2),
    ([1, 2, 3, 4, 5], 1, 5),
    ([1, 2, 3, 4, 5], 3, 1),
    ([1, 2, 3, 4, 5], 1, None),
    ([1, 2, 3, 4, 5], 0, 3),
    ([1, 2, 3], 5, None),
    ([10, 20, 100, 200, 1000], 2, 100),
    ([7], 1, 7),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = []
    for steps, limit, best in CASES:
        with tempfile.TemporaryDirectory() as d:
            for s in steps:
                os.mkdir(os.path.join(d, f"checkpoint-{s}"))
            bmc = os.path.join(d, f"checkpoint-{best}") if best is not None else None
            rotate_checkpoints(output_dir=d, save_total_limit=limit, best_model_checkpoint=bmc, use_mtime=False)
            left = sorted(int(n.split("-")[1]) for n in os.listdir(d))
        cases.append({"steps": steps, "keep": limit, "best": -1 if best is None else best, "left": left})
    with open(os.path.join(out, "rotate.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "cases": cases}, f, indent=1)
    print(f"gen_checkpoint: wrote {out}/rotate.json ({len(cases)} cases)")


if __name__ == "__main__":
    main()
