#!/usr/bin/env python3
"""gen_qa_pipeline.py OUTDIR: references for transformers 4.57's
QuestionAnsweringPipeline postprocess, for tests/test_qa_decode.c.

transformers 5 removed the question-answering pipeline, so this script runs under
transformers 4.57 from the virtual environment build/venv-tf457 (made with
--system-site-packages, so it reuses the system torch). Run with another
transformers, it re-executes itself with that environment's python, creating the
environment first when it is missing (python3 -m venv --system-site-packages
build/venv-tf457 && build/venv-tf457/bin/pip install "transformers==4.57.*").

  OUTDIR/pipeline.json  {"transformers": version, "cases": [{"example" (index into
                        gen_qa.py's examples), "max_length", "stride", "question", "context",
                        "windows": [{"input_ids", "start", "end"}],   seeded random logits
                        "runs": [{"top_k", "max_answer_len", "handle_impossible_answer",
                                  "align_to_words", "answers": [{"score", "start", "end",
                                                                 "answer"}]}]}]}

The logits go straight into the pipeline's postprocess (no model forward), with the
pipeline's own preprocess making the windows (question not stripped).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, "..", "build", "venv-tf457")


def ensure_457():
    import transformers
    if transformers.__version__.startswith("4.57."):
        return
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        print("gen_qa_pipeline: creating build/venv-tf457 with transformers 4.57", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", "--system-site-packages", VENV])
        subprocess.check_call([os.path.join(VENV, "bin", "pip"), "install", "-q", "transformers==4.57.*"])
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def main():
    ensure_457()
    import random

    import numpy as np
    import torch
    import transformers
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering
    from transformers.pipelines import QuestionAnsweringPipeline

    sys.path.insert(0, HERE)
    import gen_qa

    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(gen_qa.MINILM)
    examples = gen_qa.make_examples(tok, random.Random(20261204))  # the same examples as gen_qa.py
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32)
    pipe = QuestionAnsweringPipeline(model=BertForQuestionAnswering(cfg).eval(), tokenizer=tok)
    rng = np.random.default_rng(11)
    runs = [(1, 15, False, True), (3, 15, True, True), (5, 8, False, False), (2, 30, True, False),
            (4, 15, True, True)]
    cases = []
    for ei, ex in enumerate(examples):
        if len(tok(ex["context"], add_special_tokens=False)["input_ids"]) < 8 or ei % 3:
            continue  # ~60 examples; each window then has more candidate spans than the pipeline keeps
        for M, S in ((64, 16), (384, 128)):
            feats = list(pipe.preprocess({"question": ex["question"], "context": ex["context"]},
                                         max_seq_len=M, doc_stride=S))
            windows, outputs = [], []
            for f in feats:
                n = f["input_ids"].shape[1]
                start = torch.from_numpy((rng.standard_normal((1, n)) * 3).astype(np.float32))
                end = torch.from_numpy((rng.standard_normal((1, n)) * 3).astype(np.float32))
                if len(cases) % 4 == 0:  # a strong [CLS] in every window: the null answer can win
                    start[0, 0] += 9
                    end[0, 0] += 9
                windows.append({"input_ids": f["input_ids"][0].tolist(), "start": start[0].tolist(),
                                "end": end[0].tolist()})
                outputs.append({"start": start, "end": end, **f})
            res = []
            for k, L, h, a in runs:
                ans = pipe.postprocess(outputs, top_k=k, handle_impossible_answer=h, max_answer_len=L,
                                       align_to_words=a)
                ans = ans if isinstance(ans, list) else [ans]
                res.append({"top_k": k, "max_answer_len": L, "handle_impossible_answer": h, "align_to_words": a,
                            "answers": [{"score": float(x["score"]), "start": int(x["start"]),
                                         "end": int(x["end"]), "answer": x["answer"]} for x in ans]})
            cases.append({"example": ei, "max_length": M, "stride": S, "question": ex["question"],
                          "context": ex["context"], "windows": windows, "runs": res})
    with open(os.path.join(outdir, "pipeline.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "cases": cases}, f)
    print(f"gen_qa_pipeline: transformers {transformers.__version__}: {len(cases)} cases, "
          f"{sum(len(c['windows']) for c in cases)} windows")


if __name__ == "__main__":
    main()
