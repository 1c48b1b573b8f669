"""bertc.train / bertc.Trainer / bertc.evaluate: fine-tuning and evaluation
through libbertc's bertc_train and bertc_evaluate, in TrainingArguments' words.

    args = bertc.TrainingArguments(output_dir="runs/imdb", num_train_epochs=1,
                                   eval_strategy="epoch", logging_steps=50)
    trainer = bertc.Trainer(model="all-MiniLM-L6-v2", args=args,
                            train_dataset="train.jsonl", eval_dataset="test.jsonl")
    out = trainer.train()            # TrainOutput(global_step, training_loss, metrics)
    trainer.state.log_history        # the run's log.jsonl, as Trainer's
    trainer.evaluate()               # {"eval_loss", "eval_accuracy", "eval_f1", ...}

Datasets are bertc data specs (a .jsonl/.csv/.tsv/fastText file, an aclImdb
folder or .tar.gz[:train|test]) or an iterable of {"text", "label"} dicts
(written to a JSONL file in output_dir first). Progress shows as tqdm.auto
bars when tqdm is installed (disable_tqdm=True hides them). Ctrl-C (or a
notebook's interrupt) stops after the current step with a complete
checkpoint, then KeyboardInterrupt is raised; resume_from_checkpoint="latest"
continues.
"""
import ctypes
import dataclasses
import json
import os
import signal
import threading
import time

from . import _lib
from ._lib import BertcError, enc, lib


@dataclasses.dataclass
class TrainingArguments:
    """transformers' TrainingArguments names, with `bertc train`'s defaults
    (they differ from Trainer's in save_strategy "epoch", logging_steps 100
    and eval_strategy "epoch" when there is an eval dataset). bertc.train
    refuses a field bertc does not have by name."""
    output_dir: str
    num_train_epochs: float = 3
    max_steps: int = -1
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    lr_scheduler_type: str = "linear"
    warmup_ratio: float = 0.0
    warmup_steps: int = -1
    seed: int = 42
    logging_steps: int = 100
    eval_strategy: str = None  # None: "epoch" with an eval dataset, else "no"
    eval_steps: int = 0
    save_strategy: str = "epoch"
    save_steps: int = 500
    save_total_limit: int = 0
    load_best_model_at_end: bool = False
    metric_for_best_model: str = "loss"
    early_stopping_patience: int = 0
    overwrite_output_dir: bool = False
    gradient_checkpointing: bool = False
    bf16: bool = False
    disable_tqdm: bool = False
    # bertc's own (the `bertc train` flags)
    max_length: int = 128
    pad_to_max_length: bool = False
    train_limit: int = 0
    eval_limit: int = 0
    text_column: str = "text"
    text_pair_column: str = None
    label_column: str = "label"
    data_format: str = None
    threads: int = 0
    report: bool = True
    augment: str = None  # "eda[:alpha=0.1,n=4]" or "contextual[:model=MLM,n=2]" (docs/experiments.md)

    def __post_init__(self):
        for name in ("eval_strategy", "save_strategy", "lr_scheduler_type"):
            v = getattr(self, name)
            setattr(self, name, getattr(v, "value", v))  # transformers' enums


@dataclasses.dataclass
class TrainOutput:
    global_step: int
    training_loss: float
    metrics: dict


@dataclasses.dataclass
class TrainerState:
    global_step: int = 0
    epoch: float = 0.0
    max_steps: int = 0
    log_history: list = dataclasses.field(default_factory=list)
    best_metric: float = None
    best_model_checkpoint: str = None


def _strategy(v):
    v = getattr(v, "value", v)
    return "no" if v is False else str(v)


def _dataset_spec(data, output_dir, name):
    """A data spec for the C API: a path as it is, else the examples as JSONL."""
    if data is None or isinstance(data, (str, os.PathLike)):
        return None if data is None else os.fspath(data)
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        n = 0
        for ex in data:
            if not isinstance(ex, dict):
                ex = dict(ex)
            f.write(json.dumps(ex, ensure_ascii=False) + "\n")
            n += 1
    if n == 0:
        os.unlink(tmp)
        raise BertcError(f"{name}: the dataset has no examples", 2)
    os.replace(tmp, path)
    return path


class _SigintToCancel:
    """While training on the main thread, the first SIGINT asks the C loop to
    stop at a checkpoint (the progress callback returns 1); the second one is
    the default KeyboardInterrupt again. Elsewhere, nothing is installed."""

    def __init__(self):
        self.hit = False
        self.old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.old = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._on)
        return self

    def _on(self, signum, frame):
        self.hit = True
        signal.signal(signal.SIGINT, self.old if callable(self.old) else signal.default_int_handler)

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        return False


def _tqdm():
    try:
        from tqdm.auto import tqdm
        return tqdm
    except ImportError:
        return None


def read_log_history(output_dir):
    """output_dir/log.jsonl as Trainer's state.log_history (a list of dicts)."""
    path = os.path.join(output_dir, "log.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Trainer:
    """Trainer-like: model (folder or cached name), args (TrainingArguments),
    train_dataset / eval_dataset (data specs or lists of dicts), task
    ("text-classification", "token-classification", "question-answering"),
    callbacks: functions called with each progress dict; one returning True
    stops the run at a checkpoint (as Ctrl-C, without the KeyboardInterrupt)."""

    def __init__(self, model="all-MiniLM-L6-v2", args=None, train_dataset=None, eval_dataset=None,
                 task="text-classification", callbacks=None):
        if args is None:
            raise BertcError("args: a TrainingArguments is required (its output_dir is the run directory)", 4)
        if task not in _lib.TASKS:
            raise BertcError(f"task: one of {', '.join(_lib.TASKS)}, got {task!r}", 4)
        self.model, self.args, self.task = str(model), args, task
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.callbacks = list(callbacks or [])
        self.state = TrainerState()

    def _options(self, resume):
        a = self.args
        o = _lib.TrainOptions()
        lib.bertc_train_options_init(ctypes.byref(o))
        keep = []

        def s(v):
            b = enc(v)
            keep.append(b)
            return b
        o.model = s(self.model)
        o.train_file = s(_dataset_spec(self.train_dataset, a.output_dir, "train_dataset.jsonl"))
        if o.train_file is None:
            raise BertcError("train_dataset: required (a data file or a list of {'text', 'label'} dicts)", 4)
        o.eval_file = s(_dataset_spec(self.eval_dataset, a.output_dir, "eval_dataset.jsonl"))
        o.output_dir = s(a.output_dir)
        o.task = _lib.TASKS[self.task]
        o.format = s(a.data_format)
        o.text_column, o.text_pair_column, o.label_column = s(a.text_column), s(a.text_pair_column), s(a.label_column)
        o.train_limit, o.eval_limit = a.train_limit, a.eval_limit
        o.max_length, o.pad_to_max_length = a.max_length, int(a.pad_to_max_length)
        o.num_train_epochs = a.num_train_epochs
        o.max_steps = a.max_steps if a.max_steps > 0 else 0
        o.per_device_train_batch_size = a.per_device_train_batch_size
        o.per_device_eval_batch_size = a.per_device_eval_batch_size
        o.gradient_accumulation_steps = a.gradient_accumulation_steps
        o.learning_rate, o.weight_decay, o.max_grad_norm = a.learning_rate, a.weight_decay, a.max_grad_norm
        o.lr_scheduler_type = s(a.lr_scheduler_type)
        o.warmup_ratio, o.warmup_steps = a.warmup_ratio, a.warmup_steps
        o.seed = a.seed
        o.logging_steps = a.logging_steps
        if a.eval_strategy is None:
            o.eval_strategy = s("epoch" if self.eval_dataset is not None else "no")
        else:
            o.eval_strategy = s(_strategy(a.eval_strategy))
        o.eval_steps = a.eval_steps
        o.save_strategy = s(_strategy(a.save_strategy))
        o.save_steps = a.save_steps
        o.save_total_limit = a.save_total_limit
        o.load_best_model_at_end = int(a.load_best_model_at_end)
        o.metric_for_best_model = s(a.metric_for_best_model)
        o.early_stopping_patience = a.early_stopping_patience
        if resume is True:
            resume = "latest"
        o.resume_from_checkpoint = s(resume or None)
        o.overwrite_output_dir = int(a.overwrite_output_dir)
        o.precision = s("bf16" if a.bf16 else "fp32")
        o.gradient_checkpointing = int(a.gradient_checkpointing)
        o.threads = a.threads
        o.report = int(a.report)
        o.augment = s(a.augment)
        return o, keep

    def train(self, resume_from_checkpoint=None):
        """Runs bertc_train. Returns TrainOutput; self.state.log_history is the
        run's log. Raises BertcError with bertc's message on failure and
        KeyboardInterrupt after a Ctrl-C has stopped the run at a checkpoint."""
        o, keep = self._options(resume_from_checkpoint)
        tqdm = None if self.args.disable_tqdm else _tqdm()
        bar = [None]
        losses = []
        stop = [False]
        err = _lib.Err()
        res = _lib.TrainResult()

        def on_progress(p_ptr, _user):
            # Never raise out of here: ctypes would print and continue.
            try:
                p = p_ptr.contents
                d = _progress_dict(p)
                if p.kind == _lib.PROGRESS_STEP:
                    losses.append(p.loss)
                    self.state.global_step, self.state.epoch, self.state.max_steps = p.step, p.epoch, p.total_steps
                    if tqdm is not None:
                        if bar[0] is None:
                            bar[0] = tqdm(total=p.total_steps, initial=p.step - 1, desc="train", unit="step")
                        bar[0].update(p.step - bar[0].n)
                        bar[0].set_postfix(loss=f"{p.loss:.4f}", epoch=f"{p.epoch:.2f}", refresh=False)
                elif p.kind == _lib.PROGRESS_EVAL and bar[0] is not None:
                    bar[0].write(f"step {p.step}: eval_loss {p.eval_loss:.4f}  eval_accuracy "
                                 f"{p.eval_accuracy:.4f}  eval_f1 {p.eval_f1:.4f}")
                for cb in self.callbacks:
                    if cb(d):
                        stop[0] = True
            except KeyboardInterrupt:
                sig.hit = True
            except BaseException as e:  # a callback's error ends the run at a checkpoint, then is raised
                stop[0] = e
            return 1 if (stop[0] or sig.hit) else 0

        fn = _lib.PROGRESS_FN(on_progress)
        t0 = time.time()
        with _SigintToCancel() as sig:
            rc = lib.bertc_train(ctypes.byref(o), fn, None, ctypes.byref(res), ctypes.byref(err))
        if bar[0] is not None:
            bar[0].close()
        del keep
        self.state.log_history = read_log_history(self.args.output_dir)
        self.state.global_step = res.global_step
        if rc == _lib.BERTC_ERR_INTERRUPTED and sig.hit:
            raise KeyboardInterrupt(err.msg.decode("utf-8", "replace"))
        if isinstance(stop[0], BaseException):
            raise stop[0]
        err.raise_if(rc)
        train_loss = sum(losses) / len(losses) if losses else float("nan")
        metrics = {"train_runtime": res.train_runtime or time.time() - t0,
                   "train_samples_per_second": res.train_samples_per_second,
                   "train_loss": train_loss, "epoch": self.state.epoch}
        if res.has_eval:
            metrics.update(eval_loss=res.eval_loss, eval_accuracy=res.eval_accuracy, eval_f1=res.eval_f1)
        if res.has_best:
            self.state.best_metric = res.best_metric
            self.state.best_model_checkpoint = os.path.join(self.args.output_dir, f"checkpoint-{res.best_step}")
        self.state.log_history.append({k: v for k, v in metrics.items() if not k.startswith("eval_")} |
                                      {"step": res.global_step})
        return TrainOutput(res.global_step, train_loss, metrics)

    @property
    def model_dir(self):
        """output_dir/model: the trained model, a Hugging Face folder."""
        return os.path.join(self.args.output_dir, "model")

    def evaluate(self, eval_dataset=None, metric_key_prefix="eval"):
        """Scores output_dir/model on eval_dataset (or the trainer's) with
        bertc_evaluate at args.max_length: Trainer's eval_-prefixed scalars
        (loss, accuracy, f1 as the training log's eval_f1: the second label's F1
        for two labels, else macro; micro for multi-label; runtime, samples per second) plus the whole report under
        "<prefix>_report" (confusion matrix, per class, report_text)."""
        data = eval_dataset if eval_dataset is not None else self.eval_dataset
        spec = _dataset_spec(data, self.args.output_dir, "eval_dataset.jsonl")
        r = evaluate(self.model_dir, spec, batch_size=self.args.per_device_eval_batch_size,
                     max_length=self.args.max_length,
                     text_column=self.args.text_column, text_pair_column=self.args.text_pair_column,
                     label_column=self.args.label_column, data_format=self.args.data_format,
                     threads=self.args.threads)
        p = metric_key_prefix
        out = {f"{p}_loss": r.get("loss"), f"{p}_accuracy": r.get("accuracy")}
        out[f"{p}_f1"] = r.get("best_f1")  # the F1 the training log's eval_f1 is
        out[f"{p}_runtime"] = r.get("seconds")
        out[f"{p}_samples_per_second"] = r.get("examples_per_second")
        out[f"{p}_report"] = r
        self.state.log_history.append({k: v for k, v in out.items() if k != f"{p}_report"})
        return out


def _progress_dict(p):
    d = {"kind": ("info", "step", "log", "eval", "save", "warning", "batch")[p.kind] if 0 <= p.kind < 7 else "info",
         "step": p.step, "total_steps": p.total_steps, "epoch": p.epoch}
    if p.kind in (_lib.PROGRESS_STEP, _lib.PROGRESS_LOG):
        d.update(loss=p.loss, learning_rate=p.learning_rate, grad_norm=p.grad_norm,
                 samples_per_second=p.samples_per_second, elapsed=p.elapsed, eta=p.eta)
    if p.kind == _lib.PROGRESS_EVAL:
        d.update(eval_loss=p.eval_loss, eval_accuracy=p.eval_accuracy, eval_f1=p.eval_f1)
    if p.message:
        d["message"] = p.message.decode("utf-8", "replace")
    return d


def train(model="all-MiniLM-L6-v2", train_dataset=None, eval_dataset=None, task="text-classification",
          resume_from_checkpoint=None, callbacks=None, **training_args):
    """One call: Trainer(model, TrainingArguments(**training_args), ...).train().
    Returns {"global_step", "metrics", "log_history", "model_dir"}."""
    unknown = set(training_args) - {f.name for f in dataclasses.fields(TrainingArguments)}
    if unknown:
        raise BertcError(f"{sorted(unknown)[0]}: not a TrainingArguments field bertc has (docs/python.md)", 4)
    if "output_dir" not in training_args:
        raise BertcError("output_dir: required (the run directory)", 4)
    t = Trainer(model, TrainingArguments(**training_args), train_dataset, eval_dataset, task, callbacks)
    out = t.train(resume_from_checkpoint=resume_from_checkpoint)
    return {"global_step": out.global_step, "metrics": out.metrics, "log_history": t.state.log_history,
            "model_dir": t.model_dir}


def evaluate(model, eval_dataset, batch_size=32, max_length=0, limit=0, seed=42, output_dir=None,
             text_column="text", text_pair_column=None, label_column="label", data_format=None, bf16=False,
             threads=0, progress=None):
    """What `bertc eval --json` prints, as a dict: accuracy, loss, per_class,
    macro_avg, weighted_avg, confusion_matrix, labels, report_text, ... .
    eval_dataset is a data spec or a list of {"text", "label"} dicts; with
    output_dir, eval.json and predictions.jsonl are written there."""
    import tempfile
    tmpdir = None
    if eval_dataset is not None and not isinstance(eval_dataset, (str, os.PathLike)):
        tmpdir = tempfile.TemporaryDirectory(prefix="bertc-eval-")
        eval_dataset = _dataset_spec(eval_dataset, tmpdir.name, "eval_dataset.jsonl")
    o = _lib.EvalOptions()
    lib.bertc_eval_options_init(ctypes.byref(o))
    keep = [enc(str(model)), enc(eval_dataset), enc(output_dir), enc(text_column), enc(text_pair_column),
            enc(label_column), enc(data_format), enc("bf16" if bf16 else "fp32")]
    (o.model, o.eval_file, o.output_dir, o.text_column, o.text_pair_column, o.label_column, o.format,
     o.precision) = keep
    o.per_device_eval_batch_size, o.max_length, o.limit, o.seed, o.threads = batch_size, max_length, limit, seed, threads
    tqdm = _tqdm() if progress is None else None
    bar = [None]
    stop = [False]

    def on_progress(p_ptr, _user):
        try:
            p = p_ptr.contents
            if progress is not None:
                if progress(p.step, p.total_steps):
                    stop[0] = True
            elif tqdm is not None:
                if bar[0] is None:
                    bar[0] = tqdm(total=p.total_steps, desc="eval", unit="ex")
                bar[0].update(p.step - bar[0].n)
        except KeyboardInterrupt:
            sig.hit = True
        return 1 if (stop[0] or sig.hit) else 0

    fn = _lib.PROGRESS_FN(on_progress)
    out = ctypes.c_void_p()
    err = _lib.Err()
    try:
        with _SigintToCancel() as sig:
            rc = lib.bertc_evaluate(ctypes.byref(o), fn, None, ctypes.byref(out), ctypes.byref(err))
    finally:
        if bar[0] is not None:
            bar[0].close()
        if tmpdir is not None:
            tmpdir.cleanup()
    del keep
    if rc == _lib.BERTC_ERR_INTERRUPTED and sig.hit:
        raise KeyboardInterrupt(err.msg.decode("utf-8", "replace"))
    err.raise_if(rc)
    return json.loads(_lib.take_string(out.value))


def augment(data, output, method="eda", model=None, n=0, seed=42, limit=0, output_format=None,
            text_column="text", text_pair_column=None, label_column="label", data_format=None, threads=0):
    """What `bertc augment` does: writes each example of `data` (a data spec or a list of
    {"text", "label"} dicts) followed by its n augmented copies, labels kept, to `output`
    (in the input's format, or the one output's extension or output_format names).
    method: "eda", "eda:alpha=0.1,n=4,...", or "contextual[:KEY=V,...]" with `model` a folder
    with a masked-LM head. Returns {"examples_in", "examples_out", "output"}."""
    import tempfile
    tmpdir = None
    if data is not None and not isinstance(data, (str, os.PathLike)):
        tmpdir = tempfile.TemporaryDirectory(prefix="bertc-augment-")
        data = _dataset_spec(data, tmpdir.name, "data.jsonl")
    o = _lib.AugmentOptions()
    lib.bertc_augment_options_init(ctypes.byref(o))
    keep = [enc(data), enc(output), enc(output_format), enc(method), enc(None if model is None else str(model)),
            enc(data_format), enc(text_column), enc(text_pair_column), enc(label_column)]
    (o.data_file, o.output_file, o.output_format, o.method, o.model, o.format, o.text_column, o.text_pair_column,
     o.label_column) = keep
    o.n, o.seed, o.limit, o.threads = n, seed, limit, threads
    n_in, n_out = ctypes.c_int(0), ctypes.c_int(0)
    err = _lib.Err()
    try:
        rc = lib.bertc_augment(ctypes.byref(o), ctypes.byref(n_in), ctypes.byref(n_out), ctypes.byref(err))
    finally:
        if tmpdir is not None:
            tmpdir.cleanup()
    err.raise_if(rc)
    return {"examples_in": n_in.value, "examples_out": n_out.value, "output": str(output)}
