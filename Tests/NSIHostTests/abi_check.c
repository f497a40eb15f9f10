/*
 * abi_check.c: every error path of nsi.h gives its status code and a message, frees
 * accept NULL, and 4 threads running one plan on one model through the C ABI get the
 * bytes a single run gets. Built and run by HostTests, and under AddressSanitizer by
 * `make test-asan-c`.   abi_check MODEL_DIR
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsi.h"

static int failures = 0, checks = 0;
#define CHECK(cond) do { checks++; if (!(cond)) { failures++; fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, nsi_last_error()); } } while (0)

static const char *script =
    "param prompt: str = \"The capital of France is\"\n"
    "param scale: float = 0.0\n"
    "trace prompt {\n"
    "    model.layers[4].output += scale\n"
    "    save h = model.layers[8].output[0, -1]\n"
    "    save top = model.logits[0, -1].topk(3)\n"
    "}\n";

static nsi_model *model;
static nsi_plan *plan;

static nsi_result *run(const char *params) {
    nsi_result *r = NULL;
    nsi_status s = nsi_run(model, plan, params, NULL, &r);
    CHECK(s == NSI_OK && r != NULL);
    return r;
}

static int same(const nsi_result *a, const nsi_result *b) {
    if (nsi_result_count(a) != nsi_result_count(b)) return 0;
    for (size_t i = 0; i < nsi_result_count(a); i++) {
        if (strcmp(nsi_result_name(a, i), nsi_result_name(b, i)) != 0) return 0;
        if (nsi_result_byte_size(a, i) != nsi_result_byte_size(b, i)) return 0;
        if (memcmp(nsi_result_data(a, i), nsi_result_data(b, i), nsi_result_byte_size(a, i)) != 0) return 0;
    }
    return 1;
}

static const char *thread_params[4] = {
    "{\"scale\": 0.0}", "{\"scale\": 0.5, \"prompt\": \"Hello\"}", "{\"scale\": -1}", "{\"prompt\": \"One, two,\"}"};
static nsi_result *thread_results[4];

static void *worker(void *arg) {
    size_t i = (size_t)arg;
    nsi_status s = nsi_run(model, plan, thread_params[i], NULL, &thread_results[i]);
    if (s != NSI_OK) fprintf(stderr, "thread %zu: %s\n", i, nsi_last_error());
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: abi_check MODEL_DIR\n"); return 2; }

    /* Frees take NULL; accessors of NULL handles give NULL, 0 or -1. */
    nsi_model_free(NULL); nsi_plan_free(NULL); nsi_result_free(NULL); nsi_cancel_free(NULL); nsi_string_free(NULL);
    CHECK(nsi_result_count(NULL) == 0 && nsi_result_name(NULL, 0) == NULL && nsi_result_dtype(NULL, 0) == -1);
    CHECK(strcmp(nsi_dtype_name(NSI_I64), "i64") == 0 && nsi_dtype_size(NSI_I64) == 8 && nsi_dtype_size(42) == 0);
    CHECK(strlen(nsi_version()) >= 5);

    nsi_model *m = (nsi_model *)1;
    CHECK(nsi_model_load(NULL, &m) == NSI_ERR_ARGUMENT && m == NULL);
    CHECK(nsi_model_load("/nonexistent/model", &m) == NSI_ERR_MODEL && m == NULL && strstr(nsi_last_error(), "does not exist"));
    CHECK(nsi_model_load(argv[1], &model) == NSI_OK && model != NULL);
    if (!model) return 1;
    CHECK(strlen(nsi_model_signature_hash(model)) == 64);
    int64_t ids[2] = {504, 414};
    char *decoded = NULL;
    CHECK(nsi_model_decode(model, ids, 2, &decoded) == NSI_OK && decoded && strcmp(decoded, "The E") == 0);
    nsi_string_free(decoded);
    ids[1] = -1;
    CHECK(nsi_model_decode(model, ids, 2, &decoded) == NSI_ERR_ARGUMENT && decoded == NULL);

    /* A script with an error: status, message, diagnostics as JSON. */
    const char *bad = "trace \"Hi\" {\n    save x = model.layers[99].output\n}\n";
    char *diagnostics = NULL;
    nsi_plan *p = (nsi_plan *)1;
    CHECK(nsi_compile(model, bad, strlen(bad), "bad.nsi", NULL, &p, &diagnostics) == NSI_ERR_COMPILE && p == NULL);
    CHECK(diagnostics && strncmp(diagnostics, "[{", 2) == 0 && strstr(diagnostics, "\"line\":2"));
    /* The message is what `nsi check` prints: the diagnostic, its source line, the count. */
    CHECK(strncmp(nsi_last_error(), "error[E", 7) == 0 && strstr(nsi_last_error(), " --> bad.nsi:2:")
          && strstr(nsi_last_error(), "\n1 error in bad.nsi\n"));
    nsi_string_free(diagnostics);
    CHECK(nsi_compile(model, script, strlen(script), NULL, "{\"nope\": ", &p, NULL) == NSI_ERR_PARAM);

    CHECK(nsi_compile(model, script, strlen(script), "check.nsi", NULL, &plan, &diagnostics) == NSI_OK && plan);
    CHECK(diagnostics && strcmp(diagnostics, "[]") == 0);
    nsi_string_free(diagnostics);
    CHECK(strstr(nsi_plan_params_json(plan), "\"name\":\"scale\",\"type\":\"float\",\"binding\":\"run time\"") != NULL);
    /* The review text of `nsi dump`; NULL handles are refused. */
    char *text = NULL;
    CHECK(nsi_plan_dump(model, plan, &text) == NSI_OK && text && strncmp(text, "plan check.nsi for ", 19) == 0 && strstr(text, "saves"));
    nsi_string_free(text);
    CHECK(nsi_plan_dump(NULL, plan, &text) == NSI_ERR_ARGUMENT && text == NULL);

    /* Plan bytes: round trip, damage, truncation. */
    size_t n = 0;
    const unsigned char *bytes = nsi_plan_bytes(plan, &n);
    CHECK(bytes && n > 16);
    CHECK(nsi_plan_from_bytes(model, bytes, n, &p) == NSI_OK && p);
    nsi_plan_free(p);
    unsigned char *damaged = malloc(n);
    memcpy(damaged, bytes, n);
    damaged[n / 2] ^= 0xFF;
    CHECK(nsi_plan_from_bytes(model, damaged, n, &p) == NSI_ERR_PLAN && p == NULL && strlen(nsi_last_error()) > 0);
    CHECK(nsi_plan_from_bytes(model, bytes, n / 2, &p) == NSI_ERR_PLAN && p == NULL);
    CHECK(nsi_plan_from_bytes(model, "NSI", 3, &p) == NSI_ERR_PLAN && p == NULL);
    free(damaged);

    /* Params: malformed JSON, unknown name, wrong type, a string parsed by type. */
    nsi_result *r = (nsi_result *)1;
    CHECK(nsi_run(model, plan, "{\"scale\": ", NULL, &r) == NSI_ERR_PARAM && r == NULL);
    CHECK(nsi_run(model, plan, "[1, 2]", NULL, &r) == NSI_ERR_PARAM);
    CHECK(nsi_run(model, plan, "{\"sacle\": 1}", NULL, &r) == NSI_ERR_PARAM && strstr(nsi_last_error(), "sacle"));
    CHECK(nsi_run(model, plan, "{\"prompt\": 3}", NULL, &r) == NSI_ERR_PARAM && strstr(nsi_last_error(), "needs a str"));
    CHECK(nsi_run(model, plan, "{\"scale\": \"x\"}", NULL, &r) == NSI_ERR_PARAM);
    CHECK(nsi_run(model, plan, "{\"scale\": [[1, 2], [3]]}", NULL, &r) == NSI_ERR_PARAM);
    CHECK(nsi_run(NULL, plan, NULL, NULL, &r) == NSI_ERR_ARGUMENT);

    /* Cancellation before the run: the run stops with NSI_ERR_CANCELLED. */
    nsi_cancel *cancel = nsi_cancel_new();
    nsi_cancel_trigger(cancel);
    CHECK(nsi_run(model, plan, NULL, cancel, &r) == NSI_ERR_CANCELLED && r == NULL);
    nsi_cancel_free(cancel);

    /* Results: accessors, out of range, find, JSON. */
    nsi_result *alone[4];
    for (size_t i = 0; i < 4; i++) alone[i] = run(thread_params[i]);
    nsi_result *a = alone[0];
    CHECK(nsi_result_count(a) == 3);
    CHECK(strcmp(nsi_result_name(a, 0), "h") == 0 && nsi_result_dtype(a, 0) == NSI_F32 && nsi_result_rank(a, 0) == 1);
    CHECK(nsi_result_shape(a, 0)[0] == 576 && nsi_result_byte_size(a, 0) == 576 * 4);
    CHECK(nsi_result_find(a, "top.indices") == 2 && nsi_result_dtype(a, 2) == NSI_I64 && nsi_result_find(a, "nope") == -1);
    CHECK(nsi_result_name(a, 3) == NULL && nsi_result_data(a, 3) == NULL && nsi_result_dtype(a, 3) == -1);
    CHECK(strstr(nsi_result_json(a), "The capital of France is") != NULL);
    CHECK(!same(alone[0], alone[1]));

    /* 4 threads at once, one plan, one model: what each gets alone. */
    pthread_t threads[4];
    for (size_t i = 0; i < 4; i++) pthread_create(&threads[i], NULL, worker, (void *)i);
    for (size_t i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    for (size_t i = 0; i < 4; i++) {
        CHECK(thread_results[i] && same(thread_results[i], alone[i]));
        nsi_result_free(thread_results[i]);
        nsi_result_free(alone[i]);
    }

    nsi_plan_free(plan);
    nsi_model_free(model);
    printf("abi_check: %d of %d checks passed\n", checks - failures, checks);
    return failures ? 1 : 0;
}
