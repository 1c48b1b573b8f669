"""bertc.pipeline: transformers' pipelines over libbertc (no PyTorch).

pipeline("text-classification", model=...) answers as transformers'
TextClassificationPipeline does: a str gives [{"label", "score"}], a list of
str one such dict per text; top_k=k (or None: every label) gives the k best
sorted by score (a list per text); function_to_apply "softmax" | "sigmoid" |
"none" (default: sigmoid for a multi-label or one-label model, else softmax).
A dict {"text", "text_pair"} (or a list of them) classifies sentence pairs.

pipeline("token-classification", model=..., aggregation_strategy=...) ("ner"
too) answers as TokenClassificationPipeline: a list of entity dicts per text.
"""
import ctypes
import json
import math

from . import _lib
from ._lib import BertcError, enc, lib

_TRUNCATION = {"head": 0, "longest_first": 0, True: 0, "only_first": 0, "tail": 1, "head+tail": 2}


class _Model:
    """An open bertc_classifier; closed when garbage-collected or by close()."""

    def __init__(self, model, batch_size=32, max_length=0, truncation="head"):
        if truncation not in _TRUNCATION:
            raise BertcError(f"truncation: must be one of head, tail, head+tail, got {truncation!r}", 4)
        opts = _lib.Options(batch_size, max_length or 0, _TRUNCATION[truncation], 0)
        err = _lib.Err()
        h = ctypes.c_void_p()
        err.raise_if(lib.bertc_open(ctypes.byref(h), enc(str(model)), ctypes.byref(opts), ctypes.byref(err)))
        self._h = h
        self.num_labels = lib.bertc_num_labels(h)
        self.labels = [lib.bertc_label(h, i).decode("utf-8") for i in range(self.num_labels)]
        self.multi_label = bool(lib.bertc_is_multi_label(h))
        self.task = lib.bertc_model_task(h)
        self.has_trained_head = bool(lib.bertc_has_trained_head(h))

    def check(self, rc):
        """Raises the handle's error (bertc_errmsg) for a failed call."""
        if rc != _lib.BERTC_OK:
            raise BertcError(lib.bertc_errmsg(self._h).decode("utf-8", "replace"), rc)

    def close(self):
        h = getattr(self, "_h", None)
        if h and lib is not None:  # lib may be gone at interpreter shutdown
            lib.bertc_close(h)
        self._h = None

    def __del__(self):
        self.close()


def _texts(xs):
    bs = [x.encode("utf-8", "surrogatepass") if isinstance(x, str) else bytes(x) for x in xs]
    arr = (ctypes.c_char_p * len(bs))(*bs)
    lens = (ctypes.c_size_t * len(bs))(*[len(b) for b in bs])
    return arr, lens, bs


class TextClassificationPipeline:
    task = "text-classification"

    def __init__(self, model, top_k="", function_to_apply=None, batch_size=32, max_length=0, truncation="head"):
        self.model = _Model(model, batch_size, max_length, truncation)
        if self.model.task != 0:
            raise BertcError(f"{model}: not a text-classification model (its head is for another task)", 3)
        self._top_k, self._fn = top_k, function_to_apply

    def logits(self, texts, text_pairs=None):
        """Raw logits, a list of num_labels floats per text."""
        n, NL = len(texts), self.model.num_labels
        out = (ctypes.c_float * max(1, n * NL))()
        a, la, keep_a = _texts(texts)
        if text_pairs is not None:
            b, lb, keep_b = _texts(text_pairs)
        else:
            b = lb = keep_b = None
        self.model.check(lib.bertc_classify_logits(self.model._h, a, la, b, lb, n, out, None))
        del keep_a, keep_b
        return [list(out[i * NL:(i + 1) * NL]) for i in range(n)]

    def attention(self, text, layer=-1, head=0, truncation=False, max_tokens=0):
        """One layer's attention for text, as transformers' output_attentions
        gives it (attentions[layer][0, head]): {"tokens": [T str], "weights":
        T rows of T floats} (row i: how query token i attends to each key).
        layer counts from the end when negative; head=None is the mean over heads."""
        b = text.encode("utf-8", "surrogatepass")
        m = ctypes.c_void_p()
        h = -1 if head is None else head
        self.model.check(lib.bertc_attend(self.model._h, b, len(b), layer, h, int(bool(truncation)), max_tokens,
                                             ctypes.byref(m), None))
        try:
            T = lib.bertc_attention_size(m)
            w = lib.bertc_attention_weights(m)
            tokens = [lib.bertc_attention_token(m, i).decode("utf-8") for i in range(T)]
            weights = [[w[i * T + j] for j in range(T)] for i in range(T)]
        finally:
            lib.bertc_attention_map_free(m)
        return {"tokens": tokens, "weights": weights}

    def _scores(self, logits, fn):
        if fn is None:
            fn = "sigmoid" if self.model.multi_label or self.model.num_labels == 1 else "softmax"
        fn = fn.lower() if isinstance(fn, str) else fn
        if fn == "softmax":
            m = max(logits)
            e = [math.exp(x - m) for x in logits]
            s = sum(e)
            return [x / s for x in e]
        if fn == "sigmoid":
            return [1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0 for x in logits]
        if fn == "none":
            return list(logits)
        raise BertcError(f"function_to_apply: must be softmax, sigmoid or none, got {fn!r}", 4)

    def __call__(self, inputs, **kwargs):
        unknown = set(kwargs) - {"top_k", "function_to_apply"}
        if unknown:
            raise BertcError(f"{sorted(unknown)[0]}: not an option of the text-classification pipeline "
                             "(top_k, function_to_apply)", 4)
        top_k = kwargs.get("top_k", self._top_k)
        fn = kwargs.get("function_to_apply", self._fn)
        legacy_post = not (isinstance(top_k, int) or top_k is None)  # transformers' _legacy in postprocess
        if legacy_post:
            top_k = 1  # postprocess's default
        single = isinstance(inputs, (str, dict))  # one input: one result
        items = [inputs] if single else list(inputs)
        if any(isinstance(x, dict) for x in items):
            if not all(isinstance(x, dict) and "text" in x for x in items):
                raise BertcError("inputs: sentence pairs are dicts {'text', 'text_pair'}, all of them", 4)
            texts = [x["text"] for x in items]
            pairs = [x.get("text_pair") for x in items]
            if any(p is None for p in pairs):
                raise BertcError("inputs: a dict needs 'text_pair' (use a str for a single text)", 4)
        else:
            if not all(isinstance(x, str) for x in items):
                raise BertcError("inputs: a str, a list of str, or {'text', 'text_pair'} dicts", 4)
            texts, pairs = items, None
        results = []
        for lg in (self.logits(texts, pairs) if items else []):
            scores = self._scores(lg, fn)
            if top_k == 1 and legacy_post:
                best = max(range(len(scores)), key=lambda i: (scores[i], -i))
                results.append({"label": self.model.labels[best], "score": scores[best]})
                continue
            d = [{"label": self.model.labels[i], "score": s} for i, s in enumerate(scores)]
            if not legacy_post:
                d.sort(key=lambda x: x["score"], reverse=True)
                if top_k is not None:
                    d = d[:top_k]
            results.append(d)
        if single:
            # transformers: a str without top_k in the call comes back wrapped in a list
            wrap = isinstance(inputs, str) and "top_k" not in kwargs
            return [results[0]] if wrap else results[0]
        return results


class TokenClassificationPipeline:
    task = "token-classification"

    def __init__(self, model, aggregation_strategy="none", batch_size=32, max_length=0):
        self.model = _Model(model, batch_size, max_length)
        if self.model.task != 1:
            raise BertcError(f"{model}: not a token-classification model (its head is for another task)", 3)
        self.aggregation_strategy = aggregation_strategy

    def _one(self, text, strategy):
        b = text.encode("utf-8", "surrogatepass")
        lst = ctypes.c_void_p()
        self.model.check(lib.bertc_entities(self.model._h, b, len(b), enc(strategy), ctypes.byref(lst), None))
        try:
            js = lib.bertc_entities_json(lst)
            if not js:
                raise BertcError("out of memory", 5)
            return json.loads(_lib.take_string(js))
        finally:
            lib.bertc_entities_free(lst)

    def __call__(self, inputs, aggregation_strategy=None):
        s = aggregation_strategy or self.aggregation_strategy
        s = getattr(s, "value", s)  # transformers' AggregationStrategy enum
        s = str(s).lower()
        if isinstance(inputs, str):
            return self._one(inputs, s)
        return [self._one(t, s) for t in inputs]


def pipeline(task, model="all-MiniLM-L6-v2", **kwargs):
    """transformers.pipeline for bertc's tasks: "text-classification"
    ("sentiment-analysis") and "token-classification" ("ner"). model is a
    folder or a name in ~/.cache/bertc/models. Options: top_k,
    function_to_apply (text classification), aggregation_strategy (token
    classification), batch_size, max_length (0: the model's), truncation."""
    if task in ("text-classification", "sentiment-analysis"):
        return TextClassificationPipeline(model, **kwargs)
    if task in ("token-classification", "ner"):
        return TokenClassificationPipeline(model, **kwargs)
    raise BertcError(f"task: bertc's pipelines are text-classification and token-classification, got {task!r}", 4)
