"""bertc.pipeline("question-answering") answers as transformers 4.57's QuestionAnsweringPipeline
did on tools/gen_qa_cli.py's fixture (build/fixtures/qa_cli: a random BertForQuestionAnswering,
30 question/context pairs, runs.json = the pipeline's answers under four settings)."""
import json
import math

import pytest

import bertc
from conftest import fixture

SCORE_TOL = 1e-4  # as tests/qa_check.py: softmax products of a float32 forward
FLAGS = {"--top-k": "top_k", "--max-answer-length": "max_answer_len", "--max-length": "max_seq_len",
         "--doc-stride": "doc_stride", "--handle-impossible-answer": "handle_impossible_answer"}


def kwargs_of(flags):
    """runs.json's bertc predict flags -> the pipeline kwargs gen_qa_cli.py gave transformers."""
    kw, i = {}, 0
    while i < len(flags):
        name = FLAGS[flags[i]]
        if name == "handle_impossible_answer":
            kw[name], i = True, i + 1
        else:
            kw[name], i = int(flags[i + 1]), i + 2
    return {"max_seq_len": 384, "doc_stride": 128, **kw}


def same(got, want, where):
    """The same shape (dict or list), spans and texts; scores within SCORE_TOL."""
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (where, got, want)
        for g, w in zip(got, want):
            same(g, w, where)
        return
    assert isinstance(got, dict) and set(got) == {"score", "start", "end", "answer"}, (where, got)
    assert (got["start"], got["end"], got["answer"]) == (want["start"], want["end"], want["answer"]), (where, got, want)
    assert isinstance(got["score"], float) and math.isclose(got["score"], want["score"], abs_tol=SCORE_TOL), \
        (where, got, want)


@pytest.fixture(scope="module")
def data():
    fx = fixture("qa_cli")
    inputs = [json.loads(line) for line in (fx / "inputs.jsonl").read_text(encoding="utf-8").splitlines()]
    runs = json.loads((fx / "runs.json").read_text(encoding="utf-8"))["runs"]
    assert len(runs) == 4 and all(len(r["answers"]) == len(inputs) == 30 for r in runs)
    return inputs, runs


@pytest.fixture(scope="module")
def qa():
    return bertc.pipeline("question-answering", model=str(fixture("qa_cli/tiny")))


def test_matches_recorded_transformers_answers(qa, data):
    inputs, runs = data
    for k, run in enumerate(runs):
        kw = kwargs_of(run["flags"])
        for i, (x, want) in enumerate(zip(inputs, run["answers"])):
            same(qa(question=x["question"], context=x["context"], **kw), want, (k, i, kw))
        same(qa(inputs, **kw), run["answers"], (k, "a list of dicts", kw))  # one result per example


def test_call_forms_and_defaults(qa, data):
    inputs, runs = data
    x, want = inputs[0], runs[0]["answers"][0]
    same(qa(question=x["question"], context=x["context"]), want, "defaults: top_k 1, 384/128")  # runs[0]: no flags
    same(qa(x), want, "a dict")
    same(qa([x]), want, "a list of one dict: its result, not a list (as the pipeline)")
    same(qa(x["question"], x["context"]), want, "two positional str")
    same(qa(inputs[:3]), runs[0]["answers"][:3], "a list of dicts")
    # question a list, context one str: each question on that context
    ctx = x["context"]
    got = qa(question=[x["question"], "Where is the café?"], context=ctx)
    assert isinstance(got, list) and len(got) == 2
    assert got[0] == qa(question=x["question"], context=ctx)
    # top_k > 1 gives a list, best first; the options given at construction are the defaults of each call
    three = qa(x, top_k=3, handle_impossible_answer=True, max_seq_len=384, doc_stride=128)
    same(three, runs[1]["answers"][0], "top_k 3")
    assert [a["score"] for a in three] == sorted((a["score"] for a in three), reverse=True)
    built = bertc.pipeline("question-answering", model=str(fixture("qa_cli/tiny")), top_k=3,
                           handle_impossible_answer=True)
    same(built(x), runs[1]["answers"][0], "top_k 3 at construction")
    same(built(x, top_k=1, handle_impossible_answer=False), want, "a call's options override the construction's")
    # align_to_words=False: exact token offsets, a span inside the context
    raw = qa(x, align_to_words=False, max_answer_len=2)
    assert x["context"][raw["start"]:raw["end"]] == raw["answer"]
    json.dumps(three)  # plain Python types


def test_errors_are_bertc_errors_with_the_message(qa, data):
    x = data[0][0]
    for kw, field in [({"top_k": 0}, "top_k"), ({"max_answer_len": 0}, "max_answer_len"),
                      ({"doc_stride": 500}, "doc_stride"), ({"max_question_len": 0}, "max_question_len"),
                      ({"top_k": "3"}, "top_k"), ({"beam": 2}, "beam")]:
        with pytest.raises(bertc.BertcError, match=field) as e:
            qa(x, **kw)
        assert "\n" not in str(e.value)
    with pytest.raises(bertc.BertcError, match="question"):
        qa(question="", context=x["context"])
    with pytest.raises(bertc.BertcError, match="context"):
        qa({"question": "Who?"})
    with pytest.raises(bertc.BertcError, match="not a question-answering model"):
        bertc.pipeline("question-answering", model=str(fixture("forward/minilm2")))
    with pytest.raises(bertc.BertcError, match="max_answer_len"):
        bertc.pipeline("question-answering", model=str(fixture("qa_cli/tiny")), max_answer_len=0)(x)
