/*
 * nsi.h: the C ABI of nsi, an embeddable compiler and VM for intervention scripts
 * (.nsi) on transformer language models. Link with libnsic (swift build --product nsic).
 *
 * Lifecycle: load a model once (nsi_model_load); compile a script (nsi_compile) or
 * decode a compiled plan (nsi_plan_from_bytes) once; run the plan any number of times
 * (nsi_run), each run giving a result whose tensors are read in place; free each
 * handle with its own free function. docs/embedding.md has the whole story.
 *
 * Ownership: every handle is created by exactly one function and released by exactly
 * one free function; the caller owns it in between. Every free function accepts NULL.
 * A `const char *` or data pointer returned by an accessor belongs to the handle it
 * came from and stays valid until that handle is freed; only the diagnostics string of
 * nsi_compile and the text of nsi_plan_dump are the caller's, released with nsi_string_free.
 *
 * Threads: a model and a plan are immutable once made; any number of threads may use
 * them at once (nsi_compile, nsi_plan_from_bytes and nsi_run on one model from many
 * threads). A result is immutable and may be read from any thread. nsi_cancel_trigger
 * may be called from any thread while the run it was passed to goes on. A handle may
 * not be freed while another thread uses it. nsi_last_error is per thread.
 *
 * Errors: every function that can fail returns an nsi_status; NSI_OK (0) is success.
 * On failure the out-parameter is set to NULL and nsi_last_error() describes the error
 * on the calling thread.
 */
#ifndef NSI_H
#define NSI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
typedef int nsi_status;
enum {
    NSI_OK = 0,
    NSI_ERR_ARGUMENT = 1,  /* a NULL or otherwise invalid argument */
    NSI_ERR_MODEL = 2,     /* the model folder could not be loaded */
    NSI_ERR_COMPILE = 3,   /* the script has errors: nsi_last_error() is `nsi check`'s text, the diagnostics JSON lists them */
    NSI_ERR_PLAN = 4,      /* plan bytes damaged or of another format; a plan run on another model */
    NSI_ERR_PARAM = 5,     /* params JSON malformed; a param unknown, fixed at compile time or of the wrong type */
    NSI_ERR_RUN = 6,       /* the run stopped on a value of its own (an index out of range, an empty prompt) */
    NSI_ERR_CANCELLED = 7, /* the run was cancelled with nsi_cancel_trigger */
    NSI_ERR_LIMIT = 8,     /* the run passed a limit: deadline, memory, tokens, instructions, positions */
    NSI_ERR_INTERNAL = 9   /* a bug in nsi */
};

/* Element types of result tensors. */
typedef int nsi_dtype;
enum {
    NSI_F32 = 0,
    NSI_F16 = 1,
    NSI_BF16 = 2,
    NSI_I32 = 3,
    NSI_I64 = 4,
    NSI_U8 = 5  /* also booleans, as 0 and 1 */
};

typedef struct nsi_model nsi_model;    /* a loaded model folder */
typedef struct nsi_plan nsi_plan;      /* a checked, verified plan for one model */
typedef struct nsi_result nsi_result;  /* what one run saved */
typedef struct nsi_cancel nsi_cancel;  /* stops a run from another thread */

/* The library's version, "MAJOR.MINOR.PATCH". Static; never freed. */
const char *nsi_version(void);

/* What this machine gives nsi's kernels, as lines of text (the output of `nsi doctor`):
 * the CPU and its features, the BLAS library and the kernel set every product runs, the
 * thread count. The first call makes the kernel choice if no product has run yet; call it
 * before other threads of the host call into the same BLAS. Static; never freed. */
const char *nsi_system_info(void);

/* The message of the most recent failed call on this thread ("" if none). Valid until
 * the next failing call on this thread. */
const char *nsi_last_error(void);

/* Name of a dtype ("f32", "i64", ...), or "?" for an unknown value. Static. */
const char *nsi_dtype_name(nsi_dtype dtype);
/* Bytes per element of a dtype, or 0 for an unknown value. */
size_t nsi_dtype_size(nsi_dtype dtype);

/* Loads a Hugging Face model folder (config.json, *.safetensors, tokenizer.json). The
 * weights are memory-mapped read-only and shared by every run. Free with nsi_model_free. */
nsi_status nsi_model_load(const char *directory, nsi_model **out_model);
void nsi_model_free(nsi_model *model);
/* The model signature's hash: plans run only on a model with the same hash. Owned by the model. */
const char *nsi_model_signature_hash(const nsi_model *model);

/* The text of `count` token ids, as the model's tokenizer decodes them (special tokens
 * included): a plot's axis labels, a generation's text. On success *out_text is the
 * caller's, freed with nsi_string_free; an id outside the vocabulary is NSI_ERR_ARGUMENT. */
nsi_status nsi_model_decode(const nsi_model *model, const int64_t *ids, size_t count, char **out_text);

/* Compiles `length` bytes of script text against `model`. `path` (may be NULL) names
 * the script in diagnostics and is where its load(...) paths are resolved from.
 * `params_json` (may be NULL) fixes compile-time params: a JSON object such as
 * {"layer": 5}. On success *out_plan is a plan to free with nsi_plan_free. If
 * `diagnostics_json` is not NULL it receives a JSON array of every diagnostic (errors
 * and warnings; "[]" when there are none), to free with nsi_string_free. */
nsi_status nsi_compile(const nsi_model *model, const char *source, size_t length, const char *path,
                       const char *params_json, nsi_plan **out_plan, char **diagnostics_json);

/* Decodes and verifies plan bytes (a .nsb file of `nsi compile`) against `model`.
 * The bytes are copied; free the plan with nsi_plan_free. */
nsi_status nsi_plan_from_bytes(const nsi_model *model, const void *bytes, size_t length, nsi_plan **out_plan);
/* The plan's bytes: sets *length and returns a pointer owned by the plan. */
const void *nsi_plan_bytes(const nsi_plan *plan, size_t *length);
/* The plan's params as a JSON array of {"name", "type", "binding" ("compile time" or
 * "run time"), "value" (text or null)}. Owned by the plan. */
const char *nsi_plan_params_json(const nsi_plan *plan);
/* The plan's review text, as `nsi dump` prints it: params, each block's batch, hooks in
 * forward order, where the pass stops, saves, memory and cost. `model` is the one the
 * plan was made for. On success *out_text is the caller's, freed with nsi_string_free. */
nsi_status nsi_plan_dump(const nsi_model *model, const nsi_plan *plan, char **out_text);
void nsi_plan_free(nsi_plan *plan);

/* A cancellation token: pass it to nsi_run, trigger it from any thread. One token may
 * serve several runs; it cannot be reset. Free with nsi_cancel_free after the runs end. */
nsi_cancel *nsi_cancel_new(void);
void nsi_cancel_trigger(nsi_cancel *cancel);
void nsi_cancel_free(nsi_cancel *cancel);

/* Runs `plan` on `model`. `params_json` (may be NULL) binds run-time params: a JSON
 * object of strings, numbers, booleans, or nested arrays of numbers for tensor params,
 * e.g. {"prompt": "The capital of France is", "scale": 0.5}. `cancel` may be NULL.
 * On success *out_result holds the results; free with nsi_result_free. */
nsi_status nsi_run(const nsi_model *model, const nsi_plan *plan, const char *params_json, nsi_cancel *cancel,
                   nsi_result **out_result);

/* The saved tensors, in save order: a topk save gives "key.values" and "key.indices",
 * numbers are rank-0 tensors, booleans u8 (the names `nsi run` writes). Index i runs
 * over 0 ..< nsi_result_count. Out of range: NULL, -1 or 0. Every pointer is owned by
 * the result and valid until nsi_result_free; data is contiguous, row-major, aligned. */
size_t nsi_result_count(const nsi_result *result);
const char *nsi_result_name(const nsi_result *result, size_t i);
nsi_dtype nsi_result_dtype(const nsi_result *result, size_t i);
size_t nsi_result_rank(const nsi_result *result, size_t i);
const int64_t *nsi_result_shape(const nsi_result *result, size_t i);
const void *nsi_result_data(const nsi_result *result, size_t i);
size_t nsi_result_byte_size(const nsi_result *result, size_t i);
/* The index of the tensor named `name`, or -1. */
int64_t nsi_result_find(const nsi_result *result, const char *name);
/* Everything but the tensor values, as JSON: prompts, token ids, generated text, saved
 * strings, dtypes and shapes (the sidecar `nsi run` writes). Owned by the result. */
const char *nsi_result_json(const nsi_result *result);
void nsi_result_free(nsi_result *result);

/* Frees a string the caller owns (the diagnostics of nsi_compile, the texts of nsi_plan_dump and nsi_model_decode). */
void nsi_string_free(char *string);

#ifdef __cplusplus
}
#endif

#endif /* NSI_H */
