/* qa_infer.h: a question-answering model run over windows: the start and end
 * logits of every feature (qa_data.h), a batch of windows per forward.
 *
 * What it does: pads each batch of features (to the batch's longest window, or
 * to M when the features are padded), runs bert_forward in eval mode and copies
 * the QA head's logits (B,T,2) into rows of width M.
 * What it does not: load the model or tokenizer (hfmodel.h), make the windows
 * (qa_data.h), decode answers (qa_decode.h).
 *
 * Memory: the caller owns the logits arrays and the model; the batch buffers
 * are allocated and freed inside each call.
 *
 *     bert_model m;  // bert_model_build(&m, &hf.cfg, hf.params_memory, 32, f.M, BERT_INFER, &err)
 *     float *st = malloc(f.F * f.M * sizeof *st), *en = ...;
 *     if (bertc_qa_logits(st, en, &m, &f, 0, f.F, pad_id, &err)) fail(err.msg);
 *     bertc_qa_postprocess(preds, &set, &f, st, en, &po, &err);
 */
#ifndef BERTC_QA_INFER_H
#define BERTC_QA_INFER_H

#include "bert.h"
#include "qa_data.h"

/* start_logits, end_logits: (count, f->M) row-major; row r gets feature first + r
 * (positions at or beyond the forward's width T are 0; decoding reads only a
 * row's len tokens, or all M when padded, where T = M). m: a QA model
 * (cfg.task BERT_TASK_QA) built for Tmax >= the longest row used (f->M when
 * padded); batches hold m->Bmax windows. pad_id: the tokenizer's [PAD]. */
int bertc_qa_logits(float *start_logits, float *end_logits, bert_model *m, const bertc_qa_features *f, int first,
                    int count, int pad_id, bertc_err *err);

#endif /* BERTC_QA_INFER_H */
