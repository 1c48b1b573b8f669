"""bertc.train / Trainer / evaluate through the C API, on the tiny fixture model."""
import json
import math
import os
import signal
import subprocess

import pytest

import bertc
from conftest import ROOT, fixture


def test_trainer_evaluate_equals_the_last_training_evaluation(tiny_run):
    out, r = tiny_run
    args = bertc.TrainingArguments(output_dir=str(out), max_length=64, disable_tqdm=True)
    ev = bertc.Trainer(model=str(fixture("train/tiny")), args=args,
                       eval_dataset=str(fixture("train/eval.jsonl"))).evaluate()
    last = [h for h in r["log_history"] if "eval_accuracy" in h][-1]
    assert ev["eval_accuracy"] == last["eval_accuracy"]
    assert abs(ev["eval_f1"] - last["eval_f1"]) < 1e-9
    assert abs(ev["eval_loss"] - last["eval_loss"]) < 1e-5


def test_train_returns_metrics_and_log_history(tiny_run):
    out, r = tiny_run
    assert r["global_step"] == 6
    m = r["metrics"]
    assert math.isfinite(m["train_loss"]) and m["train_loss"] > 0
    assert 0 <= m["eval_accuracy"] <= 1 and math.isfinite(m["eval_loss"])
    losses = [h for h in r["log_history"] if "loss" in h]
    evals = [h for h in r["log_history"] if "eval_accuracy" in h]
    assert [h["step"] for h in losses] == [2, 4, 6]
    assert [h["step"] for h in evals] == [3, 6]
    assert evals[-1]["eval_accuracy"] == m["eval_accuracy"]
    assert r["log_history"][-1]["train_loss"] == m["train_loss"]
    assert os.path.exists(os.path.join(r["model_dir"], "model.safetensors"))


def test_evaluate_equals_bertc_eval(tiny_run):
    out, r = tiny_run
    ours = bertc.evaluate(r["model_dir"], str(fixture("train/eval.jsonl")))
    cli = os.environ.get("BERTC", str(ROOT / "build" / "bertc"))
    if not os.path.exists(cli):
        pytest.fail(f"{cli}: missing (make)")
    theirs = json.loads(subprocess.run([cli, "eval", "--model", r["model_dir"], "--data",
                                        str(fixture("train/eval.jsonl")), "--json", "--quiet"],
                                       check=True, capture_output=True, text=True).stdout)
    for k in ("n", "accuracy", "loss", "confusion_matrix", "per_class", "macro_avg", "report_text", "labels"):
        assert ours[k] == theirs[k], k
    # the trained model predicts through the pipeline as evaluate counted
    clf = bertc.pipeline("text-classification", model=r["model_dir"])
    rows = [json.loads(line) for line in open(fixture("train/eval.jsonl"), encoding="utf-8")]
    preds = [p["label"] for p in clf([x["text"] for x in rows])]
    acc = sum(p == x["label"] for p, x in zip(preds, rows)) / len(rows)
    assert abs(acc - ours["accuracy"]) < 1e-12


def test_trainer_with_lists_of_dicts_and_trainer_evaluate(tmp_path):
    rows = [json.loads(line) for line in open(fixture("train/train.jsonl"), encoding="utf-8")]
    args = bertc.TrainingArguments(output_dir=str(tmp_path / "run"), max_steps=2, logging_steps=1,
                                   eval_strategy="no", save_strategy="no", max_length=32, report=False,
                                   disable_tqdm=True)
    seen = []
    t = bertc.Trainer(model=str(fixture("train/tiny")), args=args, train_dataset=rows[:16], eval_dataset=rows[16:32],
                      callbacks=[lambda d: seen.append(d["kind"])])
    out = t.train()
    assert out.global_step == 2 and seen.count("step") == 2 and seen.count("log") == 2
    assert [h["step"] for h in t.state.log_history if "loss" in h] == [1, 2]
    ev = t.evaluate()
    assert ev["eval_report"]["n"] == 16 and 0 <= ev["eval_accuracy"] <= 1
    assert ev["eval_report"]["max_length"] == 32  # the run's max_length
    assert ev["eval_f1"] == ev["eval_report"]["per_class"][1]["f1"]  # two labels: the second's F1, as training logs


def test_bad_arguments_raise_with_the_field_named(tmp_path):
    base = dict(model=str(fixture("train/tiny")), train_dataset=str(fixture("train/train.jsonl")),
                output_dir=str(tmp_path / "bad"), disable_tqdm=True)
    with pytest.raises(bertc.BertcError, match="eval_strategy"):
        bertc.train(eval_strategy="sometimes", **base)
    with pytest.raises(bertc.BertcError, match="lr"):
        bertc.train(learning_rate=-1.0, **base)
    with pytest.raises(bertc.BertcError, match="not a TrainingArguments field"):
        bertc.train(fp16_opt_level="O2", **base)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(bertc.BertcError, match="missing.jsonl"):
        bertc.train(**dict(base, train_dataset=str(tmp_path / "missing.jsonl")))
    with pytest.raises(bertc.BertcError, match="no trained classifier"):
        bertc.evaluate(str(fixture("train/tiny")), str(fixture("train/eval.jsonl")))


def test_keyboard_interrupt_stops_at_a_checkpoint_then_resumes(tmp_path, tiny_run):
    out = tmp_path / "ki"
    kw = dict(model=str(fixture("train/tiny")), train_dataset=str(fixture("train/train.jsonl")),
              eval_dataset=str(fixture("train/eval.jsonl")), output_dir=str(out), max_steps=6, logging_steps=2,
              eval_strategy="steps", eval_steps=3, save_strategy="steps", save_steps=3, max_length=64,
              learning_rate=1e-3, report=False, disable_tqdm=True)

    def ctrl_c_at_step_4(d):  # what a notebook's interrupt does: SIGINT to the process
        if d["kind"] == "step" and d["step"] == 4:
            os.kill(os.getpid(), signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        bertc.train(callbacks=[ctrl_c_at_step_4], **kw)
    assert signal.getsignal(signal.SIGINT) is before
    assert (out / "checkpoint-4" / "COMPLETE").exists() and not (out / "model").exists()
    r = bertc.train(resume_from_checkpoint="latest", **kw)
    assert r["global_step"] == 6
    # resumed from step 4: the same weights as the uninterrupted run
    full = tiny_run[0] / "model" / "model.safetensors"
    assert (out / "model" / "model.safetensors").read_bytes() == full.read_bytes()


def test_callback_can_stop_and_errors_in_callbacks_propagate(tmp_path):
    kw = dict(model=str(fixture("train/tiny")), train_dataset=str(fixture("train/train.jsonl")), max_steps=5,
              save_strategy="steps", save_steps=100, eval_strategy="no", max_length=32, report=False,
              disable_tqdm=True)
    with pytest.raises(bertc.BertcError, match="cancelled") as e:
        bertc.train(output_dir=str(tmp_path / "a"), callbacks=[lambda d: d["kind"] == "step" and d["step"] == 2], **kw)
    assert e.value.status == "interrupted" and (tmp_path / "a" / "checkpoint-2" / "COMPLETE").exists()

    def boom(d):
        if d["kind"] == "step":
            raise ValueError("from the callback")
    with pytest.raises(ValueError, match="from the callback"):
        bertc.train(output_dir=str(tmp_path / "b"), callbacks=[boom], **kw)
    assert (tmp_path / "b" / "checkpoint-1" / "COMPLETE").exists()


def test_tqdm_progress(tmp_path, capsys):
    pytest.importorskip("tqdm")
    bertc.train(model=str(fixture("train/tiny")), train_dataset=str(fixture("train/train.jsonl")),
                output_dir=str(tmp_path / "t"), max_steps=3, eval_strategy="no", save_strategy="no",
                max_length=32, report=False)
    err = capsys.readouterr().err
    assert "train" in err and "3/3" in err
