#!/usr/bin/env python3
"""host.py: embeds nsi from Python through its C ABI (ctypes), with numpy arrays that
view the results' memory in place (no copy).

    python3 host.py LIBNSIC MODEL_DIR SCRIPT.nsi [PARAMS_JSON] [--dump FILE]

LIBNSIC is the path of libnsic.so (swift build --product nsic; it lies in
`swift build --show-bin-path`). Prints each saved tensor's name, dtype, shape and first
values; --dump writes every value as Samples/hosts/host.c does.
"""
import ctypes
import sys

import numpy as np

NSI_OK = 0
DTYPES = {0: np.float32, 1: np.float16, 3: np.int32, 4: np.int64, 5: np.uint8}  # bf16 (2) has no numpy type


class NSIError(Exception):
    def __init__(self, status, message):
        super().__init__(f"nsi error {status}: {message}")
        self.status = status


class Library:
    """The functions of nsi.h, typed."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        P, S, C = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p
        sigs = {
            "nsi_version": (C, []),
            "nsi_last_error": (C, []),
            "nsi_dtype_name": (C, [ctypes.c_int]),
            "nsi_model_load": (ctypes.c_int, [C, ctypes.POINTER(P)]),
            "nsi_model_free": (None, [P]),
            "nsi_compile": (ctypes.c_int, [P, C, S, C, C, ctypes.POINTER(P), ctypes.POINTER(P)]),
            "nsi_plan_params_json": (C, [P]),
            "nsi_plan_free": (None, [P]),
            "nsi_run": (ctypes.c_int, [P, P, C, P, ctypes.POINTER(P)]),
            "nsi_result_count": (S, [P]),
            "nsi_result_name": (C, [P, S]),
            "nsi_result_dtype": (ctypes.c_int, [P, S]),
            "nsi_result_rank": (S, [P, S]),
            "nsi_result_shape": (ctypes.POINTER(ctypes.c_int64), [P, S]),
            "nsi_result_data": (P, [P, S]),
            "nsi_result_byte_size": (S, [P, S]),
            "nsi_result_json": (C, [P]),
            "nsi_result_free": (None, [P]),
            "nsi_string_free": (None, [P]),
        }
        for name, (res, args) in sigs.items():
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args
        self.lib = lib

    def check(self, status):
        if status != NSI_OK:
            raise NSIError(status, self.lib.nsi_last_error().decode())


class Result:
    """One run's results. Each array from `arrays()` is a read-only view of memory the
    result owns, and holds a reference to the result: the result is freed when it and
    every array are gone."""

    def __init__(self, nsi, handle):
        self.nsi, self.handle = nsi, handle
        self.json = nsi.lib.nsi_result_json(handle).decode()

    def arrays(self):
        lib, out = self.nsi.lib, {}
        for i in range(lib.nsi_result_count(self.handle)):
            name = lib.nsi_result_name(self.handle, i).decode()
            dtype = DTYPES[lib.nsi_result_dtype(self.handle, i)]
            shape = tuple(lib.nsi_result_shape(self.handle, i)[d] for d in range(lib.nsi_result_rank(self.handle, i)))
            size = lib.nsi_result_byte_size(self.handle, i)
            address = lib.nsi_result_data(self.handle, i)
            buffer = (ctypes.c_char * size).from_address(address)
            buffer.owner = self  # the array keeps the buffer, the buffer keeps the result
            array = np.frombuffer(buffer, dtype=dtype).reshape(shape)
            array.flags.writeable = False
            assert array.ctypes.data == address, "the array is not a view of the result"
            out[name] = array
        return out

    def __del__(self):
        self.nsi.lib.nsi_result_free(self.handle)


def main(argv):
    dump = None
    if "--dump" in argv:
        k = argv.index("--dump")
        dump = argv[k + 1]
        argv = argv[:k] + argv[k + 2:]
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    library, model_dir, script = argv[1], argv[2], argv[3]
    params = argv[4] if len(argv) > 4 else None
    nsi = Library(library)
    lib = nsi.lib
    print("nsi", lib.nsi_version().decode())

    model = ctypes.c_void_p()
    nsi.check(lib.nsi_model_load(model_dir.encode(), ctypes.byref(model)))
    plan = ctypes.c_void_p()
    diagnostics = ctypes.c_void_p()
    source = open(script, "rb").read()
    status = lib.nsi_compile(model, source, len(source), script.encode(), None, ctypes.byref(plan), ctypes.byref(diagnostics))
    if diagnostics.value:
        text = ctypes.string_at(diagnostics.value).decode()
        lib.nsi_string_free(diagnostics)
        if status != NSI_OK:
            print("diagnostics:", text, file=sys.stderr)
    nsi.check(status)
    print("params:", lib.nsi_plan_params_json(plan).decode())

    handle = ctypes.c_void_p()
    nsi.check(lib.nsi_run(model, plan, params.encode() if params else None, None, ctypes.byref(handle)))
    arrays = Result(nsi, handle).arrays()
    for name, a in arrays.items():
        first = " ".join(str(x) for x in a.reshape(-1)[:6])
        print(f"{name}: {a.dtype}{list(a.shape)} {first}{' ...' if a.size > 6 else ''}")
    if dump:
        with open(dump, "w") as f:
            for name, a in arrays.items():
                kind = lib.nsi_dtype_name({np.dtype(v): k for k, v in DTYPES.items()}[a.dtype]).decode()
                values = (f"{x:.9g}" for x in a.reshape(-1)) if a.dtype == np.float32 else (str(int(x)) for x in a.reshape(-1))
                f.write(" ".join([name, kind, ",".join(map(str, a.shape))] + list(values)) + "\n")

    del arrays  # the last reference to the result's arrays: the result is freed here
    lib.nsi_plan_free(plan)
    lib.nsi_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
