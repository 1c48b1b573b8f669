/* qa_train.c: question answering as the trainer asks it (train_task.h). Not built yet. */
#include "train_task.h"

static int qa_load(trainer *t, bertc_err *err) {
    (void)t;
    return bertc_fail(err, BERTC_ERR_UNSUPPORTED, "--task question-answering: training is not built yet");
}
static void qa_release(trainer *t) { (void)t; }
const train_task bertc_qa_train_task = {.task = BERT_TASK_QA, .load = qa_load, .release = qa_release};
