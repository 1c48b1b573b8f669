/* cmd_info.c: `bertc info`: what a model folder holds (architecture, parameters,
 * vocabulary, task, labels and the checks made when loading it). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "../src/classifier.h"
#include "../src/cpu_dispatch.h"
#include "../src/heads.h"
#include "../src/ops_bf16.h"
#include "../src/ops_int8.h"
#include "commands.h"
#include "flags.h"

int cmd_info(int argc, char **argv) {
    cli_flag fl[] = {
        {"model", "all-MiniLM-L6-v2", "model folder or cached model name", 0, 0, 0},
        {"json", NULL, "print one JSON object instead of text", CLI_BOOL, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("info", "", NULL, fl, argc, argv, NULL));
    hf_load_opts lo;
    hf_load_opts_default(&lo);
    hf_model m = {0};
    bertc_err err = {0};
    if (hf_model_load(&m, cli_str(fl, "model"), &lo, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    bert_tokenizer *tok = NULL;
    if (hf_model_tokenizer(&tok, &m, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    const bert_config *c = &m.cfg;
    size_t sizes[BERT_NUM_PARAM_TENSORS];
    bert_param_sizes(sizes, c);
    size_t emb = sizes[BERT_WTE] + sizes[BERT_WPE] + sizes[BERT_WTT];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "folder", m.dir);
    int distil = c->model_type == BERT_ARCH_DISTILBERT;
    cJSON_AddStringToObject(j, "model_type", distil ? "distilbert" : "bert");
    cJSON_AddStringToObject(j, "problem_type",
                            c->problem_type == BERT_PROBLEM_MULTI_LABEL ? "multi_label_classification"
                                                                        : "single_label_classification");
    cJSON_AddNumberToObject(j, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(j, "num_hidden_layers", c->num_layers);
    cJSON_AddNumberToObject(j, "num_attention_heads", c->num_heads);
    cJSON_AddNumberToObject(j, "intermediate_size", c->intermediate_size);
    cJSON_AddNumberToObject(j, "max_position_embeddings", c->max_position);
    cJSON_AddNumberToObject(j, "type_vocab_size", c->type_vocab_size);
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(j, "vocab_tokens", bert_tokenizer_vocab_size(tok));
    cJSON_AddNumberToObject(j, "parameters", (double)m.num_params);
    cJSON_AddNumberToObject(j, "embedding_parameters", (double)emb);
    cJSON_AddStringToObject(j, "dtype", m.source_dtype);
    cJSON_AddBoolToObject(j, "do_lower_case", m.tok.do_lower_case);
    cJSON_AddNumberToObject(j, "model_max_length", m.tok.model_max_length);
    cJSON *labels = cJSON_CreateArray();
    for (int i = 0; i < c->num_labels; i++) cJSON_AddItemToArray(labels, cJSON_CreateString(c->id2label[i]));
    cJSON_AddItemToObject(j, "labels", labels);
    cJSON_AddBoolToObject(j, "trained_classifier", !m.new_head);
    cJSON_AddStringToObject(j, "task", bert_head_of(c->task)->name);
    cJSON_AddStringToObject(j, "head", bert_head_of(c->task)->arch_class[c->model_type]);
    cJSON_AddStringToObject(j, "checks", m.checks);
    /* The kernels this process runs on (src/cpu_dispatch.h). */
    cpu_dispatch_info cpu;
    cpu_dispatch_get(&cpu);
    cJSON *jc = cJSON_AddObjectToObject(j, "cpu");
    cJSON_AddStringToObject(jc, "build", cpu.build);
    cJSON_AddStringToObject(jc, "compiled", cpu.compiled);
    cJSON_AddStringToObject(jc, "kernels", cpu.kernels);
    cJSON_AddStringToObject(jc, "level", cpu.level_name);
    cJSON_AddStringToObject(jc, "cpu_level", cpu_level_name(cpu.cpu_level));
    cJSON_AddStringToObject(jc, "cpu_flags", cpu.cpu_flags);
    cJSON_AddStringToObject(jc, "bertc_cpu", cpu.forced);
    cJSON_AddStringToObject(jc, "note", cpu.note);
    cJSON_AddStringToObject(jc, "sgemm", cpu_sgemm_desc());
    /* what --precision auto means here, and the kernels each precision would run on */
    int autop = bert_precision_resolve(BERT_PREC_AUTO);
    int has_bf16 = bert_bf16_available(), has_int8 = bert_int8_available();
    cJSON_AddStringToObject(j, "precision_auto", bert_precision_name(autop));
    cJSON_AddBoolToObject(j, "bf16_available", has_bf16);
    cJSON_AddBoolToObject(j, "int8_available", has_int8);
    cJSON_AddStringToObject(j, "onednn_isa", int8_isa());
    cJSON_AddStringToObject(j, "int8_kernel", int8_kernel());
    cJSON_AddNumberToObject(j, "int8_weight_bits", int8_weight_qmax() == 127 ? 8 : 7);
    if (cli_bool(fl, "json")) {
        char *s = cJSON_PrintUnformatted(j);
        puts(s);
        free(s);
    } else {
        printf("folder        %s\n", m.dir);
        printf("architecture  %s: %d layers, hidden %d, %d heads, intermediate %d, %d positions, %d token types\n",
               distil ? "DistilBERT" : "BERT", c->num_layers, c->hidden_size, c->num_heads, c->intermediate_size,
               c->max_position, c->type_vocab_size);
        printf("parameters    %.2fM (%.2fM in embeddings), stored as %s\n", m.num_params / 1e6, emb / 1e6,
               m.source_dtype);
        printf("vocabulary    %d tokens (config vocab_size %d), %s\n", bert_tokenizer_vocab_size(tok), c->vocab_size,
               m.tok.do_lower_case ? "uncased" : "cased");
        printf("max length    %d\n", m.tok.model_max_length > 0 ? m.tok.model_max_length : c->max_position);
        printf("task          %s (%s head%s)\n", bert_head_of(c->task)->name, bert_head_of(c->task)->arch_class[c->model_type],
               m.folder_task < 0 ? "; config.json names no head, so text classification" : "");
        printf("labels        %d%s:", c->num_labels, c->problem_type == BERT_PROBLEM_MULTI_LABEL ? " (multi-label)" : "");
        for (int i = 0; i < c->num_labels; i++) printf(" %s", c->id2label[i]);
        printf("%s\n", m.new_head ? "  (no classifier in the folder: a new head would be initialised)" : "");
        printf("checked       %s\n", m.checks);
        printf("cpu           %s\n", cpu.cpu_flags);
        printf("kernels       %s (%s build, compiled: %s; level %s%s%s%s)%s%s\n", cpu.kernels, cpu.build, cpu.compiled,
               cpu.level_name, cpu.forced[0] ? ", BERTC_CPU=" : "", cpu.forced,
               cpu.level < cpu.cpu_level ? ", lowered" : "", cpu.note[0] ? "; " : "", cpu.note);
        printf("sgemm         %s\n", cpu_sgemm_desc());
        printf("precision     auto = %s on this CPU (%s); int8 %s (product: %s, %d-bit weights); oneDNN kernels: %s\n",
               bert_precision_name(autop), has_bf16 ? "AVX512-BF16 present" : "no AVX512-BF16 or AMX",
               has_int8 ? "available" : "unavailable", int8_kernel(), int8_weight_qmax() == 127 ? 8 : 7, int8_isa());
    }
    cJSON_Delete(j);
    bert_tokenizer_free(tok);
    hf_model_free(&m);
    return 0;
}
