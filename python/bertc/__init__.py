"""bertc: BERT fine-tuning and inference in C, from Python without PyTorch.

    import bertc
    clf = bertc.pipeline("text-classification", model="runs/imdb/model")
    clf("A wonderful film.")                      # [{'label': 'pos', 'score': 0.98}]
    out = bertc.train(model="all-MiniLM-L6-v2", train_dataset="train.jsonl",
                      eval_dataset="test.jsonl", output_dir="runs/x", max_steps=100)
    bertc.evaluate("runs/x/model", "test.jsonl")["accuracy"]

Everything goes through libbertc's C API (include/bertc.h) with ctypes;
errors are bertc.BertcError carrying bertc's one-line message.
docs/python.md has the whole API.
"""
from ._lib import BertcError, lib as _lib_handle, path as library_path
from .pipelines import QuestionAnsweringPipeline, TextClassificationPipeline, TokenClassificationPipeline, pipeline
from .trainer import (Trainer, TrainerState, TrainingArguments, TrainOutput, augment, evaluate, read_log_history,
                      train)

__version__ = _lib_handle.bertc_version().decode()

__all__ = ["BertcError", "pipeline", "TextClassificationPipeline", "TokenClassificationPipeline",
           "QuestionAnsweringPipeline", "Trainer",
           "TrainerState", "TrainingArguments", "TrainOutput", "train", "evaluate", "augment", "read_log_history",
           "library_path", "__version__"]
