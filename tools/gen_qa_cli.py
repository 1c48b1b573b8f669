#!/usr/bin/env python3
"""gen_qa_cli.py OUTDIR: fixtures for tests/test_qa_cli.sh (bertc train/predict/eval
for question answering).

transformers 5 removed the question-answering pipeline, so, like gen_qa_pipeline.py,
this runs under transformers 4.57 from build/venv-tf457 (re-executing itself there,
creating the environment first when it is missing).

  OUTDIR/tiny/             a random BertForQuestionAnswering (hidden 32, 2 layers, seeded,
                           weights perturbed so answers differ clearly, [CLS] nudged so the
                           null answer sometimes wins) on all-MiniLM-L6-v2's
                           vocabulary, saved with save_pretrained, MiniLM's tokenizer files
  OUTDIR/inputs.jsonl      ~30 {"question", "context"} pairs: accents, CJK, Hangul, punctuation
                           runs, long words split into many pieces, contexts longer than one
                           window, questions the context cannot answer
  OUTDIR/runs.json         [{"flags": [bertc predict flags], "answers": [pipeline output per
                           input line: a dict, or a list when top_k > 1]}] from
                           pipeline("question-answering") with the same settings
  OUTDIR/train.json        SQuAD v1.1 JSON, 60 questions whose answer is the word "banana"
  OUTDIR/dev.json          SQuAD v1.1 JSON, 20 more
  OUTDIR/dev-v2.json       SQuAD v2.0 JSON: dev.json's questions plus 8 unanswerable ones
"""
import json
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, "..", "build", "venv-tf457")
MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")


def ensure_457():
    import transformers
    if transformers.__version__.startswith("4.57."):
        return
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        print("gen_qa_cli: creating build/venv-tf457 with transformers 4.57", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", "--system-site-packages", VENV])
        subprocess.check_call([os.path.join(VENV, "bin", "pip"), "install", "-q", "transformers==4.57.*"])
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


WORDS = ("river stone market winter garden yellow quiet engine silver forest candle window "
         "harbor pencil mountain violet thunder orchard lantern bridge copper meadow").split()


def pairs(rng):
    """The predict inputs."""
    def text(n):
        return " ".join(rng.choice(WORDS) for _ in range(n))

    out = [
        ("Where did Zoë meet Renée?", "Zoë met Renée at the Café Müller in São Paulo, near the façade of the old théâtre."),
        ("東京はどこにありますか", "東京は日本の首都です。人口は約千四百万人で、関東地方にあります。"),
        ("Who wrote the letter?", "Wait!!! What?!... (yes) -- no; the letter -- written by Ms. O'Neil -- arrived!!!"),
        ("What is the long word?",
         "Doctors call it pneumonoultramicroscopicsilicovolcanoconiosis, while antidisestablishmentarianism is politics."),
        ("서울은 어디에 있나요?", "서울은 한국의 수도이며 한강 옆에 있습니다. Seoul is big."),
        ("What colour is the sky?", "The quick brown fox jumps over the lazy dog."),
        ("How much did it cost?", "It cost €12.50 — or ¥1,800 — at the market; prices rose 3.5% in 2024."),
        ("What does ÅÄÖ spell?", "ÅÄÖ spells nothing in Swedish; but Ærøskøbing is a town on Ærø."),
        ("  Who came?", "Nobody came... except   Bob,   who    came late\tand left early."),
        ("Which city?", "The delegation travelled from Reykjavík to Kraków and then to Zürich."),
    ]
    for i in range(12):  # random words, some long enough for several windows
        n = rng.choice([15, 40, 300, 420])
        ctx = text(n)
        if i % 3 == 0:
            ctx = ctx + "!!! " + text(5) + " ... " + "supercalifragilisticexpialidocious " + text(4)
        out.append((f"What is the {rng.choice(WORDS)} of the {rng.choice(WORDS)}?", ctx))
    for i in range(8):  # questions the context does not answer
        out.append((rng.choice(["Who is the king of Mars?", "When did the moon sing?", "Why is water dry?"]),
                    text(rng.choice([10, 30, 350]))))
    return [{"question": q, "context": c} for q, c in out]


def squad(rng, n, first, impossible=0):
    """SQuAD JSON whose answers are the word 'banana' at a random place."""
    paragraphs = []
    for i in range(n + impossible):
        words = [rng.choice(WORDS) for _ in range(rng.randint(12, 50))]
        qid = f"q{first + i:03d}"
        if i < n:
            words.insert(rng.randrange(len(words) + 1), "banana")
            ctx = " ".join(words)
            start = ctx.index("banana")
            qas = [{"id": qid, "question": "Which fruit is in the text?",
                    "answers": [{"text": "banana", "answer_start": start}], "is_impossible": False}]
        else:
            ctx = " ".join(words)
            qas = [{"id": qid, "question": "Which fruit is in the text?", "answers": [], "is_impossible": True}]
        paragraphs.append({"context": ctx, "qas": qas})
    return {"version": "v2.0" if impossible else "1.1", "data": [{"title": "fruit", "paragraphs": paragraphs}]}


def main():
    ensure_457()
    import torch
    import transformers
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering, pipeline

    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(7)
    d = os.path.join(outdir, "tiny")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for f in ["vocab.txt", "special_tokens_map.json", "tokenizer_config.json"]:
        shutil.copy(os.path.join(MINILM, f), os.path.join(d, f))
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512)
    model = BertForQuestionAnswering(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        model.qa_outputs.weight.mul_(4.0)  # spread the logits: clear winners, no near ties
        # [CLS] leans towards the null answer: with handle_impossible_answer about a third of the
        # inputs answer "" (0 at 0.4, 10 of 30 at 0.6, 24 at 1.0)
        w = model.qa_outputs.weight
        cls_id = 101  # MiniLM's [CLS]
        model.bert.embeddings.word_embeddings.weight[cls_id] += 0.6 * (w[0] + w[1]) / (w[0] + w[1]).norm()
    model.save_pretrained(d, safe_serialization=True)
    tok = AutoTokenizer.from_pretrained(d)
    assert tok.is_fast
    pipe = pipeline("question-answering", model=model, tokenizer=tok, device="cpu")

    rng = random.Random(20261205)
    inputs = pairs(rng)
    with open(os.path.join(outdir, "inputs.jsonl"), "w") as f:
        for x in inputs:
            f.write(json.dumps(x, ensure_ascii=False) + "\n")
    settings = [  # (bertc flags, pipeline kwargs)
        ([], {}),
        (["--top-k", "3", "--handle-impossible-answer"], {"top_k": 3, "handle_impossible_answer": True}),
        (["--top-k", "2", "--max-answer-length", "4", "--max-length", "64", "--doc-stride", "16"],
         {"top_k": 2, "max_answer_len": 4, "max_seq_len": 64, "doc_stride": 16}),
        (["--handle-impossible-answer", "--max-length", "48", "--doc-stride", "8"],
         {"handle_impossible_answer": True, "max_seq_len": 48, "doc_stride": 8}),
    ]
    runs = []
    for flags, kw in settings:
        kw = {"max_seq_len": 384, "doc_stride": 128, **kw}
        answers = []
        for x in inputs:
            a = pipe(question=x["question"], context=x["context"], **kw)
            if isinstance(a, list):
                a = [{"score": float(y["score"]), "start": y["start"], "end": y["end"], "answer": y["answer"]}
                     for y in a]
            else:
                a = {"score": float(a["score"]), "start": a["start"], "end": a["end"], "answer": a["answer"]}
            answers.append(a)
        runs.append({"flags": flags, "answers": answers})
    with open(os.path.join(outdir, "runs.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "runs": runs}, f, ensure_ascii=False)

    rng = random.Random(11)
    for name, n, first, imp in (("train.json", 60, 0, 0), ("dev.json", 20, 100, 0), ("dev-v2.json", 20, 100, 8)):
        r = random.Random(first + 1) if name.startswith("dev") else rng
        with open(os.path.join(outdir, name), "w") as f:
            json.dump(squad(r, n, first, imp), f)
    print(f"gen_qa_cli: transformers {transformers.__version__}: {len(inputs)} inputs x {len(runs)} settings")


if __name__ == "__main__":
    main()
