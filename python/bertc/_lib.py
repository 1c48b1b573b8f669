"""ctypes bindings of include/bertc.h: the library, the structs, BertcError.

The library is found, in this order: $BERTC_LIB (a path to libbertc.so*);
the copy bundled in the package (bertc/lib/, what `pip install` and `make
wheel` put there); a source checkout's build-install/ next to python/; the
system's (after `make install`). Every struct here mirrors bertc.h field by
field: change both together.
"""
import ctypes
import ctypes.util
import glob
import os

c_char_p, c_int, c_long, c_double, c_float, c_size_t = (
    ctypes.c_char_p, ctypes.c_int, ctypes.c_long, ctypes.c_double, ctypes.c_float, ctypes.c_size_t)

STATUS = {0: "ok", 1: "I/O error", 2: "format error", 3: "unsupported", 4: "bad argument",
          5: "out of memory", 6: "not found", 7: "numeric error", 8: "interrupted"}
BERTC_OK, BERTC_ERR_INTERRUPTED = 0, 8
TASKS = {"text-classification": 0, "token-classification": 1, "question-answering": 2}
PROGRESS_INFO, PROGRESS_STEP, PROGRESS_LOG, PROGRESS_EVAL, PROGRESS_SAVE, PROGRESS_WARN, PROGRESS_BATCH = range(7)


class BertcError(Exception):
    """An error from libbertc: str(e) is bertc's one-line message (it names the
    file, field or option and the fix); e.code is the bertc_status, e.status its name."""

    def __init__(self, message, code=4):
        super().__init__(message)
        self.code = code
        self.status = STATUS.get(code, "error")


class Err(ctypes.Structure):
    _fields_ = [("code", c_int), ("msg", ctypes.c_char * 1024)]

    def raise_if(self, rc):
        if rc != BERTC_OK:
            raise BertcError(self.msg.decode("utf-8", "replace"), rc)


class TrainOptions(ctypes.Structure):
    _fields_ = [
        ("model", c_char_p), ("train_file", c_char_p), ("eval_file", c_char_p), ("output_dir", c_char_p),
        ("task", c_int), ("format", c_char_p), ("text_column", c_char_p), ("text_pair_column", c_char_p),
        ("label_column", c_char_p), ("train_limit", c_long), ("eval_limit", c_long), ("max_length", c_int),
        ("pad_to_max_length", c_int), ("num_train_epochs", c_double), ("max_steps", c_long),
        ("per_device_train_batch_size", c_int), ("per_device_eval_batch_size", c_int),
        ("gradient_accumulation_steps", c_int), ("learning_rate", c_double), ("weight_decay", c_double),
        ("max_grad_norm", c_double), ("lr_scheduler_type", c_char_p), ("warmup_ratio", c_double),
        ("warmup_steps", c_long), ("seed", ctypes.c_ulonglong), ("logging_steps", c_long),
        ("eval_strategy", c_char_p), ("eval_steps", c_long), ("save_strategy", c_char_p), ("save_steps", c_long),
        ("save_total_limit", c_int), ("load_best_model_at_end", c_int), ("metric_for_best_model", c_char_p),
        ("early_stopping_patience", c_int), ("resume_from_checkpoint", c_char_p), ("overwrite_output_dir", c_int),
        ("precision", c_char_p), ("gradient_checkpointing", c_int), ("threads", c_int), ("report", c_int),
        ("augment", c_char_p),
    ]


class AugmentOptions(ctypes.Structure):
    _fields_ = [
        ("data_file", c_char_p), ("output_file", c_char_p), ("output_format", c_char_p), ("method", c_char_p),
        ("model", c_char_p), ("n", c_int), ("seed", ctypes.c_ulonglong), ("format", c_char_p),
        ("text_column", c_char_p), ("text_pair_column", c_char_p), ("label_column", c_char_p), ("limit", c_long),
        ("threads", c_int),
    ]


class EvalOptions(ctypes.Structure):
    _fields_ = [
        ("model", c_char_p), ("eval_file", c_char_p), ("format", c_char_p), ("text_column", c_char_p),
        ("text_pair_column", c_char_p), ("label_column", c_char_p), ("limit", c_long),
        ("seed", ctypes.c_ulonglong), ("per_device_eval_batch_size", c_int), ("max_length", c_int),
        ("output_dir", c_char_p), ("precision", c_char_p), ("threads", c_int),
    ]


class Progress(ctypes.Structure):
    _fields_ = [
        ("kind", c_int), ("step", c_long), ("total_steps", c_long), ("epoch", c_double), ("loss", c_double),
        ("learning_rate", c_double), ("grad_norm", c_double), ("samples_per_second", c_double),
        ("elapsed", c_double), ("eta", c_double), ("eval_loss", c_double), ("eval_accuracy", c_double),
        ("eval_f1", c_double), ("message", c_char_p),
    ]


class TrainResult(ctypes.Structure):
    _fields_ = [
        ("global_step", c_long), ("skipped_steps", c_long), ("train_runtime", c_double),
        ("train_samples_per_second", c_double), ("has_eval", c_int), ("eval_loss", c_double),
        ("eval_accuracy", c_double), ("eval_f1", c_double), ("has_best", c_int), ("best_metric", c_double),
        ("best_step", c_long), ("stopped_early", c_int),
    ]


class Options(ctypes.Structure):
    _fields_ = [("batch_size", c_int), ("max_length", c_int), ("truncation", c_int), ("pad_to_max_length", c_int),
                ("allow_download", c_int),
                ("precision", c_int)]


class EntityView(ctypes.Structure):
    _fields_ = [("entity", c_char_p), ("score", c_double), ("start", c_int), ("end", c_int), ("word", c_char_p)]


class QAOptions(ctypes.Structure):
    _fields_ = [("top_k", c_int), ("doc_stride", c_int), ("max_answer_len", c_int), ("max_seq_len", c_int),
                ("max_question_len", c_int), ("handle_impossible_answer", c_int), ("align_to_words", c_int)]


class AnswerView(ctypes.Structure):
    _fields_ = [("answer", c_char_p), ("score", c_double), ("start", c_int), ("end", c_int),
                ("byte_start", c_size_t), ("byte_end", c_size_t)]


# Each ctypes struct and the bertc.h typedef it mirrors (python/tests/test_abi.py compares them).
C_STRUCTS = {"bertc_err": Err, "bertc_options": Options, "bertc_entity_view": EntityView,
             "bertc_qa_options": QAOptions, "bertc_answer_view": AnswerView, "bertc_train_options": TrainOptions,
             "bertc_progress": Progress, "bertc_train_result": TrainResult, "bertc_eval_options": EvalOptions,
             "bertc_augment_options": AugmentOptions}


PROGRESS_FN = ctypes.CFUNCTYPE(c_int, ctypes.POINTER(Progress), ctypes.c_void_p)


def _candidates():
    env = os.environ.get("BERTC_LIB")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    out = sorted(glob.glob(os.path.join(here, "lib", "libbertc.so*")))
    repo = os.path.dirname(os.path.dirname(here))  # python/bertc -> the checkout
    out += sorted(glob.glob(os.path.join(repo, "build-install", "libbertc.so.*")))
    sys_lib = ctypes.util.find_library("bertc")
    if sys_lib:
        out.append(sys_lib)
    return out


def _load():
    tried = _candidates()
    for path in tried:
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            if os.environ.get("BERTC_LIB"):
                raise BertcError(f"BERTC_LIB={path}: cannot load: {e}", 6) from None
    raise BertcError("libbertc.so: not found (bundled in the package, BERTC_LIB, build-install/ or the system's); "
                     "build it with `make wheel` or `make install`, or set BERTC_LIB", 6)


lib, path = _load()

P, PP = ctypes.POINTER, ctypes.c_void_p
_sig = {
    "bertc_version": (c_char_p, []),
    "bertc_status_name": (c_char_p, [c_int]),
    "bertc_open": (c_int, [P(PP), c_char_p, P(Options), P(Err)]),
    "bertc_close": (None, [PP]),
    "bertc_num_labels": (c_int, [PP]),
    "bertc_label": (c_char_p, [PP, c_int]),
    "bertc_has_trained_head": (c_int, [PP]),
    "bertc_is_multi_label": (c_int, [PP]),
    "bertc_model_task": (c_int, [PP]),
    "bertc_classify_logits": (c_int, [PP, P(c_char_p), P(c_size_t), P(c_char_p), P(c_size_t), c_int, P(c_float),
                                      P(Err)]),
    "bertc_entities": (c_int, [PP, c_char_p, c_size_t, c_char_p, P(PP), P(Err)]),
    "bertc_entity_count": (c_int, [PP]),
    "bertc_entity_at": (EntityView, [PP, c_int]),
    "bertc_entities_json": (PP, [PP]),
    "bertc_entities_free": (None, [PP]),
    "bertc_qa_options_default": (None, [P(QAOptions)]),
    "bertc_answer": (c_int, [PP, c_char_p, c_size_t, c_char_p, c_size_t, P(QAOptions), P(PP), P(Err)]),
    "bertc_answer_count": (c_int, [PP]),
    "bertc_answer_at": (AnswerView, [PP, c_int]),
    "bertc_answers_json": (PP, [PP]),
    "bertc_answers_free": (None, [PP]),
    "bertc_attend": (c_int, [PP, c_char_p, c_size_t, c_int, c_int, c_int, c_int, P(PP), P(Err)]),
    "bertc_attention_size": (c_int, [PP]),
    "bertc_attention_token": (c_char_p, [PP, c_int]),
    "bertc_attention_weights": (P(c_float), [PP]),
    "bertc_attention_map_free": (None, [PP]),
    "bertc_errcode": (c_int, [PP]),
    "bertc_errmsg": (c_char_p, [PP]),
    "bertc_train_options_init": (None, [P(TrainOptions)]),
    "bertc_train": (c_int, [P(TrainOptions), PROGRESS_FN, PP, P(TrainResult), P(Err)]),
    "bertc_eval_options_init": (None, [P(EvalOptions)]),
    "bertc_evaluate": (c_int, [P(EvalOptions), PROGRESS_FN, PP, P(PP), P(Err)]),
    "bertc_augment_options_init": (None, [P(AugmentOptions)]),
    "bertc_augment": (c_int, [P(AugmentOptions), P(c_int), P(c_int), P(Err)]),
    "bertc_free": (None, [PP]),
}
for _name, (_res, _args) in _sig.items():
    _f = getattr(lib, _name)
    _f.restype, _f.argtypes = _res, _args


def enc(s):
    """str/PathLike/None -> bytes for a const char * field (None stays NULL)."""
    if s is None:
        return None
    return os.fsencode(s) if not isinstance(s, str) else s.encode("utf-8")


def take_string(ptr):
    """A malloc'd char * from the library -> str, freed with bertc_free."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.bertc_free(ptr)
