/* cmd_qa.c: `bertc predict` and `eval` for question-answering models
 * (BertForQuestionAnswering / DistilBertForQuestionAnswering).
 *
 *   predict  answers as transformers 4.57's QuestionAnsweringPipeline gives them:
 *            {score, start, end, answer} (a list with --top-k > 1), for
 *            --question/--context or JSON Lines {"question", "context"}; the
 *            library's bertc_qa_answers (the path of bertc_answer and serve)
 *   eval     run_qa.py's evaluation: windows (padded to --max-length, as run_qa's
 *            default), postprocess_qa_predictions and the official SQuAD v1.1 /
 *            v2.0 metrics, printed as the SQuAD scripts' JSON
 * serve is cmd_serve.c's, which serves every head (src/serve.c picks by it).
 *
 * The work is src/tasks/qa_*.h's; this file reads flags, loads the model and prints. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/classifier.h"
#include "../src/hfmodel.h"
#include "../src/tasks/qa_data.h"
#include "../src/tasks/qa_decode.h"
#include "../src/tasks/qa_infer.h"
#include "../src/tasks/qa_metrics.h"
#include "commands.h"
#include "flags.h"
#include "inputs.h"

typedef struct qa_model {
    hf_model hf;
    bert_tokenizer *tok;
    bert_model m;
    int pad_id;
} qa_model;

/* Loads a QA model for batches of `batch` windows of max_length tokens, or exits. */
static void qa_open(qa_model *q, const char *model, int batch, int max_length, long seed) {
    hf_load_opts lo;
    hf_load_opts_default(&lo);
    lo.task = BERT_TASK_QA;
    lo.seed = (uint64_t)seed;
    bertc_err err = {0};
    memset(q, 0, sizeof *q);
    if (hf_model_load(&q->hf, model, &lo, &err) != BERTC_OK) cli_die(1, "--model: %s", err.msg);
    if (q->hf.new_head)
        fprintf(stderr,
                "bertc %s: note: %s has no trained question-answering head; using a new one initialised with seed "
                "%ld, so its answers mean nothing until it is fine-tuned\n",
                cli_cmd, q->hf.dir, seed);
    if (max_length > q->hf.cfg.max_position)
        cli_die(2, "--max-length: %d is more than the model's max_position_embeddings (%d)", max_length,
                q->hf.cfg.max_position);
    if (hf_model_tokenizer(&q->tok, &q->hf, &err) != BERTC_OK) cli_die(1, "--model: %s", err.msg);
    q->pad_id = bert_tokenizer_special_ids(q->tok).pad;
    if (bert_model_build(&q->m, &q->hf.cfg, q->hf.params_memory, batch, max_length, BERT_INFER, &err) != BERTC_OK)
        cli_die(1, "%s", err.msg);
}

static void qa_close(qa_model *q) {
    bert_model_free(&q->m);
    bert_tokenizer_free(q->tok);
    hf_model_free(&q->hf);
}

/* ---- predict ---- */

int cmd_predict_qa(int argc, char **argv) {
    cli_flag fl[] = {
        CLI_TASK_FLAG,
        {"model", "all-MiniLM-L6-v2", "question-answering model folder (or cached name)", 0, 0, 0},
        {"question", NULL, "the question (with --context)", 0, 0, 0},
        {"context", NULL, "the text that holds the answer (with --question)", 0, 0, 0},
        {"input", NULL, "JSON Lines file of {\"question\", \"context\"} objects ('-' = stdin)", 0, 0, 0},
        {"top-k", "1", "answers per question (a list when more than one is left, as the pipeline)", 0, 0, 0},
        {"max-answer-length", "15", "longest answer in tokens", 0, 0, 0},
        {"handle-impossible-answer", NULL, "the empty answer (score of [CLS]) competes with the spans", CLI_BOOL, 0, 0},
        {"max-length", "384", "tokens per window: [CLS] question [SEP] context part [SEP]", 0, 0, 0},
        {"doc-stride", NULL, "context tokens shared by consecutive windows (default min(--max-length / 2, 128))", 0, 0, 0},
        {"no-align-to-words", NULL, "answers end at token offsets instead of whole words", CLI_BOOL, 0, 0},
        {"batch-size", "32", "windows per forward pass", 0, 0, 0},
        {"threads", "0", "CPU threads (0 = all cores)", 0, 0, 0},
        {"seed", "42", "seed of a new head when the model has no question-answering head", 0, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("predict", " (--question Q --context C | --input FILE.jsonl|-)", NULL, fl, argc, argv, NULL));
    bertc_qa_predict_opts po;
    bertc_qa_predict_opts_default(&po);
    po.decode.top_k = (int)cli_int(fl, "top-k", 1, 1000);
    po.decode.max_answer_len = (int)cli_int(fl, "max-answer-length", 1, 1 << 20);
    po.decode.handle_impossible_answer = cli_bool(fl, "handle-impossible-answer");
    po.decode.align_to_words = !cli_bool(fl, "no-align-to-words");
    int max_length = (int)cli_int(fl, "max-length", 4, 1 << 20);
    int stride = cli_given(fl, "doc-stride") ? (int)cli_int(fl, "doc-stride", 0, 1 << 20)
                                              : (max_length / 2 < 128 ? max_length / 2 : 128);
    if (stride > max_length) /* the pipeline's own check; a stride the window cannot hold fails per question */
        cli_die(2, "--doc-stride: %d is larger than --max-length %d", stride, max_length);
    po.max_seq_len = max_length;
    po.doc_stride = stride;
    int batch = (int)cli_int(fl, "batch-size", 1, 4096);
    long seed = cli_int(fl, "seed", 0, 0x7fffffffL);
    cli_set_threads(cli_int(fl, "threads", 0, 1024));
    const char *question = cli_str(fl, "question"), *context = cli_str(fl, "context"), *input = cli_str(fl, "input");
    if (input && (question || context)) cli_die(2, "--input: give either --input or --question and --context");
    if (!input && (!question || !context)) cli_die(2, "give --question Q --context C, or --input FILE.jsonl (or '-')");

    /* read and check every input before loading the model */
    cli_inputs lines = {0};
    int n = 1;
    cJSON **objs = NULL;
    int *lineno = NULL;
    const char *name = input && strcmp(input, "-") == 0 ? "stdin" : input;
    if (input) {
        cli_inputs_read(&lines, NULL, 0, input);
        objs = calloc((size_t)lines.n + 1, sizeof *objs);
        lineno = calloc((size_t)lines.n + 1, sizeof *lineno);
        if (!objs || !lineno) cli_die(1, "out of memory");
        n = 0;
        for (int i = 0; i < lines.n; i++) {
            size_t k = 0;
            while (k < lines.len[i] && strchr(" \t\r", lines.text[i][k])) k++;
            if (k == lines.len[i]) continue;
            cJSON *j = cJSON_ParseWithLength(lines.text[i], lines.len[i]);
            if (!j || !cJSON_IsObject(j)) cli_die(1, "%s:%d: not a JSON object", name, i + 1);
            const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "question");
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "context");
            if (!cJSON_IsString(q)) cli_die(1, "%s:%d: \"question\": missing or not a string", name, i + 1);
            if (!cJSON_IsString(c)) cli_die(1, "%s:%d: \"context\": missing or not a string", name, i + 1);
            if (!*q->valuestring) cli_die(1, "%s:%d: \"question\" is empty (the pipeline refuses it too)", name, i + 1);
            if (!*c->valuestring) cli_die(1, "%s:%d: \"context\" is empty (the pipeline refuses it too)", name, i + 1);
            objs[n] = j;
            lineno[n++] = i + 1;
        }
        if (n == 0) cli_die(2, "%s: no inputs", name);
    } else {
        if (!*question) cli_die(2, "--question: empty (the pipeline refuses it too)");
        if (!*context) cli_die(2, "--context: empty (the pipeline refuses it too)");
    }

    /* the library does the work (tasks/qa_infer.h: the same path as bertc_answer and serve) */
    bertc_classifier_opts co;
    bertc_classifier_opts_default(&co);
    co.batch_size = batch;
    co.max_length = max_length;
    co.seed = (uint64_t)seed;
    co.task = BERT_TASK_QA;
    bertc_err err = {0};
    bertc_classifier *c = NULL;
    int rc = bertc_classifier_open(&c, cli_str(fl, "model"), &co, &err);
    if (rc != BERTC_OK) {
        if (rc == BERTC_ERR_ARG) cli_die(2, "--max-length: %s", err.msg); /* batch and task were checked above */
        cli_die(1, "--model: %s", err.msg);
    }
    if (c->hf.new_head)
        fprintf(stderr,
                "bertc %s: note: %s has no trained question-answering head; using a new one initialised with seed "
                "%ld, so its answers mean nothing until it is fine-tuned\n",
                cli_cmd, c->hf.dir, seed);
    bertc_qa_answer *ans = malloc((size_t)po.decode.top_k * sizeof *ans);
    if (!ans) cli_die(1, "out of memory");
    for (int i = 0; i < n; i++) {
        const char *qt = objs ? cJSON_GetObjectItemCaseSensitive(objs[i], "question")->valuestring : question;
        const char *ct = objs ? cJSON_GetObjectItemCaseSensitive(objs[i], "context")->valuestring : context;
        char id[64];
        if (objs) snprintf(id, sizeof id, "line %d", lineno[i]);
        else snprintf(id, sizeof id, "--question");
        int na = 0;
        if (bertc_qa_answers(ans, &na, c, qt, strlen(qt), ct, strlen(ct), &po, id, &err) != BERTC_OK)
            cli_die(1, "%s%s%s", objs ? name : "", objs ? ": " : "", err.msg);
        char *line = bertc_qa_answers_json(ans, na, ct);
        if (!line) cli_die(1, "out of memory");
        puts(line);
        free(line);
    }
    fflush(stdout);
    free(ans);
    bertc_classifier_free(c);
    for (int i = 0; i < n && objs; i++) cJSON_Delete(objs[i]);
    free(objs);
    free(lineno);
    if (input) cli_inputs_free(&lines);
    return 0;
}

/* ---- eval ---- */

/* Writes text to path through a temporary file and a rename, or exits. */
static void write_atomic(const char *path, const char *text, const char *flag) {
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) cli_die(1, "out of memory");
    snprintf(tmp, n, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) cli_die(1, "%s: %s: cannot write: %s", flag, tmp, strerror(errno));
    int ok = fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
    ok = fclose(fp) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        cli_die(1, "%s: %s: cannot write: %s", flag, path, strerror(errno));
    }
    free(tmp);
}

int cmd_eval_qa(int argc, char **argv) {
    cli_flag fl[] = {
        CLI_TASK_FLAG,
        {"model", "all-MiniLM-L6-v2", "question-answering model folder (or cached name)", 0, 0, 0},
        {"data", NULL, "SQuAD v1.1/v2.0 JSON or JSON Lines {id, question, context, answers} (required)", 0, 0, 0},
        {"version-2-with-negative", NULL, "SQuAD v2.0: questions may have no answer (the null answer competes)", CLI_BOOL, 0, 0},
        {"null-score-diff-threshold", "0", "v2: answer \"\" when null score - best span score > this", 0, 0, 0},
        {"n-best-size", "20", "start and end candidates per window, and answers kept per question", 0, 0, 0},
        {"max-answer-length", "30", "longest answer in tokens", 0, 0, 0},
        {"max-length", "384", "tokens per window: [CLS] question [SEP] context part [SEP]", 0, 0, 0},
        {"doc-stride", "128", "context tokens shared by consecutive windows", 0, 0, 0},
        {"no-pad", NULL, "windows as long as their tokens (run_qa --pad_to_max_length False) instead of --max-length", CLI_BOOL, 0, 0},
        {"batch-size", "32", "windows per forward pass", 0, 0, 0},
        {"output", NULL, "write the metrics JSON to this file", 0, 0, 0},
        {"predictions", NULL, "write {id: answer} JSON (what the official SQuAD script reads) to this file", 0, 0, 0},
        {"threads", "0", "CPU threads (0 = all cores)", 0, 0, 0},
        {"seed", "42", "seed of a new head when the model has no question-answering head", 0, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("eval", " --data FILE", NULL, fl, argc, argv, NULL));
    const char *data = cli_str(fl, "data");
    if (!data) cli_die(2, "--data: required (see bertc eval --task question-answering --help)");
    bertc_qa_postprocess_opts po;
    bertc_qa_postprocess_opts_default(&po);
    po.version_2_with_negative = cli_bool(fl, "version-2-with-negative");
    po.null_score_diff_threshold = (float)cli_float(fl, "null-score-diff-threshold", -1e30, 1e30);
    po.n_best_size = (int)cli_int(fl, "n-best-size", 1, 1 << 20);
    po.max_answer_length = (int)cli_int(fl, "max-answer-length", 1, 1 << 20);
    int max_length = (int)cli_int(fl, "max-length", 4, 1 << 20);
    int stride = (int)cli_int(fl, "doc-stride", 0, 1 << 20);
    if (stride >= max_length) cli_die(2, "--doc-stride: %d must be below --max-length %d", stride, max_length);
    int batch = (int)cli_int(fl, "batch-size", 1, 4096);
    long seed = cli_int(fl, "seed", 0, 0x7fffffffL);
    cli_set_threads(cli_int(fl, "threads", 0, 1024));
    const char *output = cli_str(fl, "output"), *predictions = cli_str(fl, "predictions");

    bertc_err err = {0};
    bertc_qa_set set = {0};
    if (bertc_qa_read(&set, data, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    if (set.n == 0) cli_die(1, "%s: no questions", data);
    if (!po.version_2_with_negative)
        for (int i = 0; i < set.n; i++)
            if (set.ex[i].n_answers == 0)
                cli_die(1, "%s: question \"%s\" has no answer; SQuAD v1.1 needs one per question (for SQuAD v2.0 "
                        "data give --version-2-with-negative)", data, set.ex[i].id);
    qa_model q;
    qa_open(&q, cli_str(fl, "model"), batch, max_length, seed);
    bertc_qa_opts fo = {.max_length = max_length, .stride = stride, .pad_to_max_length = !cli_bool(fl, "no-pad"),
                        .lstrip_question = 1};
    bertc_qa_features f = {0};
    if (bertc_qa_features_build(&f, q.tok, &set, &fo, &err) != BERTC_OK) cli_die(1, "%s: %s", data, err.msg);
    size_t cells = (size_t)f.F * (size_t)f.M;
    float *st = malloc(cells * sizeof *st), *en = malloc(cells * sizeof *en);
    bertc_qa_prediction *pred = calloc((size_t)set.n, sizeof *pred);
    const char **ptext = calloc((size_t)set.n, sizeof *ptext);
    size_t *plen = calloc((size_t)set.n, sizeof *plen);
    if (!st || !en || !pred || !ptext || !plen) cli_die(1, "out of memory");
    if (bertc_qa_logits(st, en, &q.m, &f, 0, f.F, q.pad_id, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    if (bertc_qa_postprocess(pred, &set, &f, st, en, &po, &err) != BERTC_OK) cli_die(1, "%s: %s", data, err.msg);
    for (int i = 0; i < set.n; i++) ptext[i] = pred[i].text, plen[i] = pred[i].text_len;
    bertc_qa_totals tot;
    if (bertc_qa_evaluate(&tot, &set, ptext, plen, po.version_2_with_negative, &err) != BERTC_OK)
        cli_die(1, "%s: %s", data, err.msg);
    cJSON *mj = bertc_qa_totals_json(&tot);
    char *mtext = mj ? cJSON_PrintUnformatted(mj) : NULL;
    if (!mtext) cli_die(1, "out of memory");
    char *ptext_json = NULL;
    if (predictions) {
        cJSON *pj = cJSON_CreateObject();
        for (int i = 0; i < set.n; i++) {
            char *a = strndup(pred[i].text, pred[i].text_len);
            if (!pj || !a) cli_die(1, "out of memory");
            cJSON_AddStringToObject(pj, set.ex[i].id, a);
            free(a);
        }
        ptext_json = cJSON_PrintUnformatted(pj);
        cJSON_Delete(pj);
        if (!ptext_json) cli_die(1, "out of memory");
    }
    if (predictions) write_atomic(predictions, ptext_json, "--predictions");
    if (output) write_atomic(output, mtext, "--output");
    puts(mtext);
    fflush(stdout);
    free(mtext);
    free(ptext_json);
    cJSON_Delete(mj);
    bertc_qa_predictions_free(pred, set.n);
    free(pred);
    free(ptext);
    free(plen);
    free(st);
    free(en);
    bertc_qa_features_free(&f);
    qa_close(&q);
    bertc_qa_set_free(&set);
    return 0;
}
