"""examples/imdb.ipynb runs end to end (nbclient) on the tiny fixture model and
the fixture's 64/32 examples for 4 steps: every cell, no error."""
import os

import pytest

from conftest import ROOT, fixture


def test_imdb_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("BERTC_NB_MODEL", str(fixture("train/tiny")))
    monkeypatch.setenv("BERTC_NB_TRAIN", str(fixture("train/train.jsonl")))
    monkeypatch.setenv("BERTC_NB_EVAL", str(fixture("train/eval.jsonl")))
    monkeypatch.setenv("BERTC_NB_MAX_STEPS", "4")
    monkeypatch.setenv("BERTC_NB_OUT", str(tmp_path / "run"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(str(ROOT / "examples" / "imdb.ipynb"), as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Test Accuracy:" in text and "Classification Report:" in text and "Predicted Sentiment:" in text
    assert "tokens: ['[CLS]'" in text  # the attention cell ran
    assert (tmp_path / "run" / "model" / "model.safetensors").exists()
