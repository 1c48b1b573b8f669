import os
import pathlib

import pytest

ROOT = pathlib.Path(os.environ.get("BERTC_ROOT", pathlib.Path(__file__).resolve().parents[2]))
FIXTURES = pathlib.Path(os.environ.get("BERTC_FIXTURES", ROOT / "build" / "fixtures"))


def fixture(name):
    p = FIXTURES / name
    if not p.exists():
        pytest.fail(f"{p}: missing: run `make fixtures`")
    return p


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A 6-step run of the tiny fixture model, shared by the tests that need a trained model."""
    import bertc
    out = tmp_path_factory.mktemp("run") / "tiny"
    r = bertc.train(model=str(fixture("train/tiny")), train_dataset=str(fixture("train/train.jsonl")),
                    eval_dataset=str(fixture("train/eval.jsonl")), output_dir=str(out), max_steps=6,
                    logging_steps=2, eval_strategy="steps", eval_steps=3, save_strategy="steps", save_steps=3,
                    max_length=64, learning_rate=1e-3, report=False, disable_tqdm=True)
    return out, r
