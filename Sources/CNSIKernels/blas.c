// OpenBLAS's kernel set, read and chosen through the symbols it exports. Debian's
// OpenBLAS is built with DYNAMIC_ARCH: it picks a kernel set at load from its own table
// of known processors, and on processors newer than that table it falls back to the
// generic SSE3 set ("Prescott"), several times slower. Its exported
// gotoblas_dynamic_quit/init re-run that choice, which honours OPENBLAS_CORETYPE.
#define _GNU_SOURCE
#include "nsi_kernels.h"
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void *symbol(const char *name) { return dlsym(RTLD_DEFAULT, name); }

static void copy_out(char *out, size_t size, const char *s) {
    if (size == 0) return;
    strncpy(out, s ? s : "", size - 1);
    out[size - 1] = 0;
}

int nsi_blas_core_name(char *out, size_t size) {
    char *(*corename)(void) = (char *(*)(void))symbol("openblas_get_corename");
    copy_out(out, size, corename ? corename() : "");
    return corename != NULL;
}

int nsi_blas_config(char *out, size_t size) {
    char *(*config)(void) = (char *(*)(void))symbol("openblas_get_config");
    copy_out(out, size, config ? config() : "");
    return config != NULL;
}

int nsi_blas_can_switch(void) {
    return symbol("gotoblas_dynamic_init") && symbol("gotoblas_dynamic_quit") && symbol("openblas_get_corename");
}

int nsi_blas_switch(const char *core) {
    void (*init)(void) = (void (*)(void))symbol("gotoblas_dynamic_init");
    void (*quit)(void) = (void (*)(void))symbol("gotoblas_dynamic_quit");
    if (!init || !quit || !core) return 0;
    // The variable is read once, by init; the caller's value (if any) is put back.
    const char *previous = getenv("OPENBLAS_CORETYPE");
    char *saved = previous ? strdup(previous) : NULL;
    setenv("OPENBLAS_CORETYPE", core, 1);
    quit();
    init();
    if (saved) { setenv("OPENBLAS_CORETYPE", saved, 1); free(saved); }
    else unsetenv("OPENBLAS_CORETYPE");
    char now[32];
    nsi_blas_core_name(now, sizeof now);
    return strcasecmp(now, core) == 0;
}
