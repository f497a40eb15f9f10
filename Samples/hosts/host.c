/*
 * host.c: embeds nsi through its C ABI. Loads a model, compiles a script, runs the plan
 * (and the same plan decoded from its bytes), prints each saved tensor's name, dtype,
 * shape and first values.
 *
 *   host MODEL_DIR SCRIPT.nsi [PARAMS_JSON] [--dump FILE]
 *
 * --dump writes every value of every tensor to FILE, one tensor per line:
 * `name dtype d0,d1,... v0 v1 ...` (floats with 9 significant digits: exact for f32).
 * Build: see Samples/hosts/Makefile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsi.h"

static char *read_file(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (text && fread(text, 1, (size_t)n, f) != (size_t)n) { free(text); text = NULL; }
    fclose(f);
    if (text) { text[n] = 0; *length = (size_t)n; }
    return text;
}

/* Element i of a result tensor as a double (f16/bf16 are not printed). */
static double element(nsi_dtype dtype, const void *data, size_t i) {
    switch (dtype) {
    case NSI_F32: return ((const float *)data)[i];
    case NSI_I32: return ((const int32_t *)data)[i];
    case NSI_I64: return (double)((const int64_t *)data)[i];
    case NSI_U8: return ((const uint8_t *)data)[i];
    default: return 0;
    }
}

static void print_value(FILE *out, nsi_dtype dtype, const void *data, size_t i) {
    if (dtype == NSI_F32) fprintf(out, "%.9g", (double)((const float *)data)[i]);
    else fprintf(out, "%.0f", element(dtype, data, i));
}

static void print_results(const nsi_result *result, FILE *dump) {
    for (size_t i = 0; i < nsi_result_count(result); i++) {
        nsi_dtype dtype = nsi_result_dtype(result, i);
        size_t rank = nsi_result_rank(result, i);
        const int64_t *shape = nsi_result_shape(result, i);
        const void *data = nsi_result_data(result, i);
        size_t count = nsi_result_byte_size(result, i) / nsi_dtype_size(dtype);
        printf("%s: %s[", nsi_result_name(result, i), nsi_dtype_name(dtype));
        for (size_t d = 0; d < rank; d++) printf("%s%lld", d ? ", " : "", (long long)shape[d]);
        printf("]");
        for (size_t k = 0; k < count && k < 6; k++) { printf(" "); print_value(stdout, dtype, data, k); }
        printf("%s\n", count > 6 ? " ..." : "");
        if (dump) {
            fprintf(dump, "%s %s ", nsi_result_name(result, i), nsi_dtype_name(dtype));
            for (size_t d = 0; d < rank; d++) fprintf(dump, "%s%lld", d ? "," : "", (long long)shape[d]);
            for (size_t k = 0; k < count; k++) { fprintf(dump, " "); print_value(dump, dtype, data, k); }
            fprintf(dump, "\n");
        }
    }
}

int main(int argc, char **argv) {
    const char *dump_path = NULL, *args[3] = {NULL, NULL, NULL};
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) dump_path = argv[++i];
        else if (n < 3) args[n++] = argv[i];
    }
    if (n < 2) {
        fprintf(stderr, "usage: host MODEL_DIR SCRIPT.nsi [PARAMS_JSON] [--dump FILE]\n");
        return 2;
    }
    const char *model_dir = args[0], *script_path = args[1], *params = args[2];
    printf("nsi %s\n", nsi_version());

    nsi_model *model = NULL;
    if (nsi_model_load(model_dir, &model) != NSI_OK) {
        fprintf(stderr, "error: %s\n", nsi_last_error());
        return 1;
    }

    size_t length = 0;
    char *source = read_file(script_path, &length);
    if (!source) {
        fprintf(stderr, "error: cannot read %s\n", script_path);
        nsi_model_free(model);
        return 1;
    }
    nsi_plan *plan = NULL;
    char *diagnostics = NULL;
    nsi_status status = nsi_compile(model, source, length, script_path, NULL, &plan, &diagnostics);
    free(source);
    if (status != NSI_OK) {
        fprintf(stderr, "error %d: %s\ndiagnostics: %s\n", status, nsi_last_error(), diagnostics);
        nsi_string_free(diagnostics);
        nsi_model_free(model);
        return 1;
    }
    nsi_string_free(diagnostics);

    /* The plan's bytes make the same plan again (as a service would cache them). */
    size_t plan_length = 0;
    const void *bytes = nsi_plan_bytes(plan, &plan_length);
    nsi_plan *decoded = NULL;
    if (nsi_plan_from_bytes(model, bytes, plan_length, &decoded) != NSI_OK) {
        fprintf(stderr, "error: %s\n", nsi_last_error());
        nsi_plan_free(plan);
        nsi_model_free(model);
        return 1;
    }
    nsi_plan_free(plan);
    printf("plan: %zu bytes, params %s\n", plan_length, nsi_plan_params_json(decoded));

    nsi_result *result = NULL;
    status = nsi_run(model, decoded, params, NULL, &result);
    if (status != NSI_OK) {
        fprintf(stderr, "error %d: %s\n", status, nsi_last_error());
        nsi_plan_free(decoded);
        nsi_model_free(model);
        return 1;
    }
    FILE *dump = dump_path ? fopen(dump_path, "w") : NULL;
    if (dump_path && !dump) fprintf(stderr, "warning: cannot write %s\n", dump_path);
    print_results(result, dump);
    if (dump) fclose(dump);

    nsi_result_free(result);
    nsi_plan_free(decoded);
    nsi_model_free(model);
    return 0;
}
