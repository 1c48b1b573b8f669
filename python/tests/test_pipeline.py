"""bertc.pipeline answers as transformers' pipeline does, on fixture models."""
import json
import math

import pytest

import bertc
from conftest import fixture

TEXTS = ["A wonderful film.", "Dull and far too long, with a plot that goes nowhere.",
         "São Paulo é linda!", "x"]
SCORE_ATOL = 1e-5  # probabilities from logits that agree within 1e-4 (docs/numerics.md)


@pytest.fixture(scope="module")
def hf():
    transformers = pytest.importorskip("transformers")
    import torch
    torch.set_num_threads(1)  # a shared 2-core machine: no oversubscription beside bertc's threads
    return transformers.pipeline("text-classification", model=str(fixture("forward/minilm2")), device=-1)


@pytest.fixture(scope="module")
def ours():
    return bertc.pipeline("text-classification", model=str(fixture("forward/minilm2")))


def same(a, b):
    """Equal structure; labels equal, scores within SCORE_ATOL."""
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert a["label"] == b["label"], (a, b)
        assert math.isclose(a["score"], b["score"], abs_tol=SCORE_ATOL), (a, b)


CALLS = [{}, {"top_k": 1}, {"top_k": 2}, {"top_k": None}, {"function_to_apply": "sigmoid"},
         {"function_to_apply": "none", "top_k": None}, {"function_to_apply": "softmax", "top_k": 1}]


def test_text_classification_matches_transformers(hf, ours):
    for kwargs in CALLS:
        same(ours(TEXTS[0], **kwargs), hf(TEXTS[0], **kwargs))  # a str
        same(ours(TEXTS, **kwargs), hf(TEXTS, **kwargs))        # a list of str


def test_top_k_at_construction_matches_transformers(hf):
    import transformers
    model = str(fixture("forward/minilm2"))
    theirs = transformers.pipeline("text-classification", model=hf.model, tokenizer=hf.tokenizer, device=-1, top_k=None)
    ours_all = bertc.pipeline("text-classification", model=model, top_k=None)
    same(ours_all(TEXTS[1]), theirs(TEXTS[1]))  # transformers' [[...]] for a str
    same(ours_all(TEXTS), theirs(TEXTS))


def test_sentence_pairs_match_transformers(hf, ours):
    pair = {"text": "A man plays a guitar.", "text_pair": "Someone makes music."}
    same(ours(pair), hf(pair))
    same(ours([pair, pair]), hf([pair, pair]))


def test_token_classification_matches_transformers():
    transformers = pytest.importorskip("transformers")
    import torch
    torch.set_num_threads(1)
    model = str(fixture("token_pipeline/model"))
    texts = fixture("token_pipeline/texts.txt").read_text(encoding="utf-8").splitlines()[:4]
    theirs = transformers.pipeline("token-classification", model=model, device=-1)
    ours = bertc.pipeline("token-classification", model=model)
    for strategy in ["none", "simple", "first", "average", "max"]:
        got, want = ours(texts, aggregation_strategy=strategy), theirs(texts, aggregation_strategy=strategy)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert len(g) == len(w), (strategy, g, w)
            for a, b in zip(g, w):
                key = "entity" if strategy == "none" else "entity_group"
                assert a[key] == b[key] and a["word"] == b["word"], (strategy, a, b)
                assert (a["start"], a["end"]) == (b["start"], b["end"]), (strategy, a, b)
                assert math.isclose(a["score"], float(b["score"]), abs_tol=SCORE_ATOL), (strategy, a, b)
        assert ours(texts[0], aggregation_strategy=strategy) == got[0]  # a str gives that text's list
    assert ours(texts[0]) == ours(texts[0], aggregation_strategy="none")  # transformers' default


def test_attention_matches_transformers_output_attentions(hf, ours):
    import torch
    import transformers
    text = "A wonderful film, moving and funny."
    enc = hf.tokenizer(text, return_tensors="pt")
    model = transformers.BertForSequenceClassification.from_pretrained(str(fixture("forward/minilm2")),
                                                                       attn_implementation="eager")
    with torch.no_grad():
        att = model(**enc, output_attentions=True).attentions
    tokens = hf.tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    for layer, head in [(-1, 0), (0, 1), (-2, None)]:
        got = ours.attention(text, layer=layer, head=head)
        want = att[layer][0].mean(0) if head is None else att[layer][0, head]
        assert got["tokens"] == tokens
        for i, row in enumerate(got["weights"]):
            for j, v in enumerate(row):
                assert math.isclose(v, float(want[i, j]), abs_tol=1e-5), (layer, head, i, j)
    assert len(ours.attention(text, max_tokens=4)["tokens"]) == 4
    with pytest.raises(bertc.BertcError, match="layer"):
        ours.attention(text, layer=99)


def test_errors_are_bertc_errors_with_the_message(tmp_path):
    with pytest.raises(bertc.BertcError) as e:
        bertc.pipeline("text-classification", model=str(tmp_path / "nope"))
    assert "nope" in str(e.value) and "\n" not in str(e.value)
    clf = bertc.pipeline("text-classification", model=str(fixture("forward/minilm2")))
    with pytest.raises(bertc.BertcError, match="function_to_apply"):
        clf("x", function_to_apply="tanh")
    with pytest.raises(bertc.BertcError, match="not a text-classification model"):
        bertc.pipeline("text-classification", model=str(fixture("token_pipeline/model")))
    with pytest.raises(bertc.BertcError, match="task"):
        bertc.pipeline("summarization", model="x")
    with pytest.raises(bertc.BertcError, match="aggregation"):
        bertc.pipeline("ner", model=str(fixture("token_pipeline/model")), aggregation_strategy="mean")("EU")


def test_library_and_version():
    assert bertc.__version__.count(".") == 2
    assert "libbertc" in bertc.library_path
    json.dumps(bertc.pipeline("text-classification", model=str(fixture("forward/minilm2")))("ok"))
