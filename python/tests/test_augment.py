"""bertc.augment and TrainingArguments(augment=...) through the C API (bertc_augment,
bertc_train_options.augment): the same file as `bertc augment` writes, byte for byte;
contextual substitution with a masked-LM fixture; errors as BertcError with bertc's line."""
import csv
import json
import os
import subprocess

import pytest

import bertc
from conftest import ROOT, fixture

ROWS = [{"text": "[CLS] The movie was a good film, truly great. [SEP]", "label": "pos"},
        {"text": "A terrible, boring story with bad actors and a sad ending", "label": "neg"},
        {"text": "Wonderful acting and a beautiful ending!", "label": "pos"}]


def _wordnet():
    return os.path.exists("/usr/share/wordnet/data.noun") or os.environ.get("WNSEARCHDIR")


def _write_csv(path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["text", "label"])
        w.writeheader()
        w.writerows(ROWS)


def test_augment_writes_what_the_cli_writes(tmp_path):
    if not _wordnet():
        pytest.skip("SKIP: WordNet (wordnet-base) is not installed")
    src = tmp_path / "in.csv"
    _write_csv(src)
    r = bertc.augment(str(src), str(tmp_path / "py.csv"), method="eda:alpha=0.2", n=3, seed=7)
    assert r["examples_in"] == 3 and r["examples_out"] == 12
    exe = ROOT / "build" / "bertc"
    if not exe.exists():
        pytest.fail(f"{exe}: missing (make all)")
    subprocess.run([str(exe), "augment", "--data", str(src), "--output", str(tmp_path / "cli.csv"),
                    "--method", "eda:alpha=0.2", "--n", "3", "--seed", "7"], check=True, capture_output=True)
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    # a list of dicts works too; labels are kept
    out = tmp_path / "list.jsonl"
    r = bertc.augment(ROWS, str(out), n=2)
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert r["examples_out"] == 9 and [g["label"] for g in got] == ["pos"] * 3 + ["neg"] * 3 + ["pos"] * 3


def test_contextual_with_a_masked_lm_head(tmp_path):
    mlm = fixture("mlm/bert")
    out = tmp_path / "ctx.jsonl"
    r = bertc.augment(ROWS, str(out), method="contextual:alpha=0.3", model=str(mlm), n=2, seed=3)
    assert r["examples_out"] == 9
    got = [json.loads(line) for line in out.read_text().splitlines()]
    for i, row in enumerate(ROWS):
        group = got[3 * i:3 * i + 3]
        assert group[0]["text"] == row["text"]
        assert all(g["label"] == row["label"] and len(g["text"].split()) == len(row["text"].split()) for g in group)
    again = tmp_path / "again.jsonl"
    bertc.augment(ROWS, str(again), method="contextual:alpha=0.3", model=str(mlm), n=2, seed=3)
    assert again.read_bytes() == out.read_bytes()


def test_contextual_without_a_head_is_not_available(tmp_path):
    with pytest.raises(bertc.BertcError) as e:
        bertc.augment(ROWS, str(tmp_path / "x.jsonl"), method="contextual", model=str(fixture("train/tiny")))
    assert "not available" in str(e.value) and e.value.status == "bad argument"
    assert not (tmp_path / "x.jsonl").exists()
    with pytest.raises(bertc.BertcError) as e:
        bertc.augment(ROWS, str(tmp_path / "x.jsonl"), method="eda:top_k=3")
    assert "top_k" in str(e.value)


def test_training_arguments_augment(tmp_path):
    mlm = fixture("mlm/bert")
    out = tmp_path / "run"
    lines = []
    args = bertc.TrainingArguments(output_dir=str(out), max_steps=2, max_length=32, report=False,
                                   disable_tqdm=True, eval_strategy="no", save_strategy="no",
                                   augment=f"contextual:model={mlm},n=1")
    t = bertc.Trainer(model=str(fixture("train/tiny")), args=args,
                      train_dataset=str(fixture("train/train.jsonl")),
                      callbacks=[lambda p: lines.append(p.get("message", ""))])
    t.train()
    assert any("augment: 64 training examples -> 128 (contextual" in m for m in lines), lines
    assert json.loads((out / "run.json").read_text())["settings"]["augment"] == f"contextual:model={mlm},n=1"
