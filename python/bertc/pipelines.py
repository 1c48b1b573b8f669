"""bertc.pipeline: transformers' pipelines over libbertc (no PyTorch).

pipeline("text-classification", model=...) answers as transformers'
TextClassificationPipeline does: a str gives [{"label", "score"}], a list of
str one such dict per text; top_k=k (or None: every label) gives the k best
sorted by score (a list per text); function_to_apply "softmax" | "sigmoid" |
"none" (default: sigmoid for a multi-label or one-label model, else softmax).
A dict {"text", "text_pair"} (or a list of them) classifies sentence pairs.

pipeline("token-classification", model=..., aggregation_strategy=...) ("ner"
too) answers as TokenClassificationPipeline: a list of entity dicts per text.

pipeline("question-answering", model=...) answers as QuestionAnsweringPipeline:
qa(question=..., context=...), qa({"question", "context"}) or a list of such
dicts; one example gives {"score", "start", "end", "answer"} (a list of them
when top_k > 1 finds more than one answer), several examples a list of those.
"""
import ctypes
import json
import math
import operator

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


_QA_OPTIONS = ("top_k", "doc_stride", "max_answer_len", "max_seq_len", "max_question_len",
               "handle_impossible_answer", "align_to_words")


class QuestionAnsweringPipeline:
    task = "question-answering"

    def __init__(self, model, batch_size=32, max_length=0, **options):
        self._options = self._check_options(options)
        self.model = _Model(model, batch_size, max_length)
        if self.model.task != 2:
            raise BertcError(f"{model}: not a question-answering model (its head is for another task)", 3)

    @staticmethod
    def _check_options(options):
        unknown = set(options) - set(_QA_OPTIONS) - {"padding"}
        if unknown:
            raise BertcError(f"{sorted(unknown)[0]}: not an option of the question-answering pipeline "
                             f"({', '.join(_QA_OPTIONS)})", 4)
        # padding only changes the pipeline's tensors, never its answers: accepted and ignored
        return {k: v for k, v in options.items() if k != "padding" and v is not None}

    def _qa_options(self, options):
        o = _lib.QAOptions()
        lib.bertc_qa_options_default(ctypes.byref(o))
        for k, v in options.items():
            if isinstance(v, bool) or k in ("handle_impossible_answer", "align_to_words"):
                v = int(bool(v))
            else:
                try:
                    v = operator.index(v)  # an int, numpy's too
                except TypeError:
                    raise BertcError(f"{k}: must be an integer, got {v!r}", 4) from None
            setattr(o, k, v)
        return o

    @staticmethod
    def _examples(args, kwargs):
        """transformers' QuestionAnsweringArgumentHandler: -> (list of (question, context), single)."""
        if args:
            if len(args) == 1:
                inputs = args[0]
            elif len(args) == 2 and all(isinstance(a, str) for a in args):
                inputs = [{"question": args[0], "context": args[1]}]
            else:
                inputs = list(args)
        elif "question" in kwargs and "context" in kwargs:
            q, c = kwargs.pop("question"), kwargs.pop("context")
            if isinstance(q, list) and isinstance(c, str):
                inputs = [{"question": x, "context": c} for x in q]
            elif isinstance(q, list) and isinstance(c, list):
                if len(q) != len(c):
                    raise BertcError(f"question, context: {len(q)} questions but {len(c)} contexts", 4)
                inputs = [{"question": x, "context": y} for x, y in zip(q, c)]
            elif isinstance(q, str) and isinstance(c, str):
                inputs = [{"question": q, "context": c}]
            else:
                raise BertcError("question, context: each a str or a list of str", 4)
        else:
            raise BertcError("inputs: give question=..., context=... or {'question': ..., 'context': ...} dicts", 4)
        if isinstance(inputs, dict):
            inputs = [inputs]
        elif isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
            raise BertcError("inputs: a {'question', 'context'} dict or a list of them", 4)
        out = []
        for x in inputs:
            if not isinstance(x, dict):
                raise BertcError("inputs: a {'question', 'context'} dict or a list of them", 4)
            for k in ("question", "context"):
                if k not in x:
                    raise BertcError(f"inputs: a dict needs the keys 'question' and 'context' (missing {k!r})", 4)
                if not isinstance(x[k], str):
                    raise BertcError(f"{k}: must be a str, got {type(x[k]).__name__}", 4)
            out.append((x["question"], x["context"]))
        return out

    def _one(self, question, context, o):
        q = question.encode("utf-8", "surrogatepass")
        c = context.encode("utf-8", "surrogatepass")
        lst = ctypes.c_void_p()
        self.model.check(lib.bertc_answer(self.model._h, q, len(q), c, len(c), ctypes.byref(o), ctypes.byref(lst),
                                          None))
        try:
            answers = []
            for i in range(lib.bertc_answer_count(lst)):
                v = lib.bertc_answer_at(lst, i)
                answers.append({"score": v.score, "start": v.start, "end": v.end,
                                "answer": (v.answer or b"").decode("utf-8")})
        finally:
            lib.bertc_answers_free(lst)
        return answers[0] if len(answers) == 1 else answers

    def __call__(self, *args, **kwargs):
        examples = self._examples(args, kwargs)  # takes question/context out of kwargs
        o = self._qa_options({**self._options, **self._check_options(kwargs)})
        results = [self._one(q, c, o) for q, c in examples]
        return results[0] if len(results) == 1 else results


def pipeline(task, model="all-MiniLM-L6-v2", **kwargs):
    """transformers.pipeline for bertc's tasks: "text-classification"
    ("sentiment-analysis"), "token-classification" ("ner") and
    "question-answering". model is a folder or a name in ~/.cache/bertc/models.
    Options: top_k, function_to_apply (text classification),
    aggregation_strategy (token classification), top_k, doc_stride,
    max_answer_len, max_seq_len, max_question_len, handle_impossible_answer,
    align_to_words (question answering), batch_size, max_length (0: the
    model's), truncation."""
    if task in ("text-classification", "sentiment-analysis"):
        return TextClassificationPipeline(model, **kwargs)
    if task in ("token-classification", "ner"):
        return TokenClassificationPipeline(model, **kwargs)
    if task == "question-answering":
        return QuestionAnsweringPipeline(model, **kwargs)
    raise BertcError("task: bertc's pipelines are text-classification, token-classification and "
                     f"question-answering, got {task!r}", 4)
