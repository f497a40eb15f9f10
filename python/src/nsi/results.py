"""What one run saved: a mapping of names to numpy arrays, with the run's facts."""
import ctypes
import json
import re
import struct
from collections.abc import Mapping

import numpy as np

from . import _native, errors

# The C ABI's dtype codes (nsi.h) and safetensors' names, to numpy. bf16 has no numpy
# type: it is widened to float32 (a copy).
_CODES = {0: "f32", 1: "f16", 2: "bf16", 3: "i32", 4: "i64", 5: "u8"}
_SAFETENSORS = {"F32": "f32", "F16": "f16", "BF16": "bf16", "I32": "i32", "I64": "i64", "U8": "u8", "BOOL": "u8"}
_NUMPY = {"f32": np.float32, "f16": np.float16, "i32": np.int32, "i64": np.int64, "u8": np.uint8}
_INDEXED = re.compile(r"^(.*)\.(\d+)$")


def _bf16_to_f32(raw, shape):
    widened = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
    return widened.view(np.float32).reshape(shape)


class _NativeBuffer:
    """Keeps a native result alive while any array viewing its memory lives."""

    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        handle, self.handle = self.handle, None
        if handle:
            _native.free("nsi_result_free", handle)


class Results(Mapping):
    """A run's saved values by name, in save order, as read-only numpy arrays.

    Arrays of a local run are views of the memory the run wrote (no copy); they keep it
    alive. An indexed save (`save lens[l] = ...`) gives `lens.0`, `lens.1`, ...; `stack`
    joins them. A topk save gives `key.values` and `key.indices`. The run's facts (the
    prompts, their token ids, generated ids and text, timings) are in `facts`, the JSON
    sidecar `nsi run --out` writes."""

    def __init__(self, arrays, facts, model=None):
        self._arrays = arrays
        self.facts = facts
        self.model = model

    @classmethod
    def native(cls, handle, model=None):
        lib = _native.lib()
        owner = _NativeBuffer(handle)
        arrays = {}
        for i in range(lib.nsi_result_count(handle)):
            name = lib.nsi_result_name(handle, i).decode()
            kind = _CODES[lib.nsi_result_dtype(handle, i)]
            shape = tuple(lib.nsi_result_shape(handle, i)[d] for d in range(lib.nsi_result_rank(handle, i)))
            size = lib.nsi_result_byte_size(handle, i)
            address = lib.nsi_result_data(handle, i)
            if size == 0:
                arrays[name] = np.zeros(shape, dtype=_NUMPY.get(kind, np.float32))
                continue
            buffer = (ctypes.c_char * size).from_address(address)
            buffer._owner = owner  # the buffer keeps the native result
            if kind == "bf16":
                array = _bf16_to_f32(buffer, shape)
            else:
                array = np.frombuffer(buffer, dtype=_NUMPY[kind]).reshape(shape)
            array.flags.writeable = False
            arrays[name] = array
        facts = json.loads(lib.nsi_result_json(handle).decode())
        return cls(arrays, facts, model)

    @classmethod
    def from_safetensors(cls, data, facts=None, model=None):
        """Results from a safetensors file's bytes (what `nsi run --out` and a server's
        /results write), viewed in place; `facts` is the JSON sidecar."""
        data = memoryview(bytes(data) if not isinstance(data, (bytes, bytearray, memoryview)) else data)
        if len(data) < 8:
            raise errors.NSIError("not a safetensors file: fewer than 8 bytes")
        (length,) = struct.unpack("<Q", data[:8])
        if length > len(data) - 8:
            raise errors.NSIError(f"not a safetensors file: a header of {length} bytes in a file of {len(data)}")
        try:
            header = json.loads(bytes(data[8:8 + length]).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise errors.NSIError(f"not a safetensors file: its header is not JSON ({error})") from None
        body = data[8 + length:]
        entries = sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                         key=lambda kv: kv[1]["data_offsets"][0])
        arrays = {}
        for name, entry in entries:
            kind = _SAFETENSORS.get(entry.get("dtype"))
            begin, end = entry["data_offsets"]
            shape = tuple(entry["shape"])
            if kind is None or not 0 <= begin <= end <= len(body):
                raise errors.NSIError(f"safetensors entry {name}: dtype {entry.get('dtype')} or offsets out of range")
            raw = body[begin:end]
            array = _bf16_to_f32(raw, shape) if kind == "bf16" else np.frombuffer(raw, dtype=_NUMPY[kind]).reshape(shape)
            array.flags.writeable = False
            arrays[name] = array
        order = list((facts or {}).get("saves", {}).keys())
        if order and set(order) == set(arrays):
            arrays = {name: arrays[name] for name in order}
        return cls(arrays, facts or {}, model)

    # Mapping
    def __getitem__(self, name):
        try:
            return self._arrays[name]
        except KeyError:
            raise KeyError(f"{name!r} was not saved; saved: {', '.join(self._arrays) or 'nothing'}") from None

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self):
        return len(self._arrays)

    def __repr__(self):
        items = ", ".join(f"{k}: {_describe(v)}" for k, v in list(self._arrays.items())[:8])
        more = f", ... ({len(self) - 8} more)" if len(self) > 8 else ""
        return f"<nsi.Results {items}{more}>"

    def _repr_html_(self):
        from .display import results_html
        return results_html(self)

    # Indexed saves
    def indexed(self):
        """Each indexed save's base name with its indices, in order: {"lens": [0, 1, ...]}."""
        groups = {}
        for name in self._arrays:
            match = _INDEXED.match(name)
            if match:
                groups.setdefault(match.group(1), []).append(int(match.group(2)))
        return {base: sorted(indices) for base, indices in groups.items()}

    def stack(self, name):
        """The values saved as name.0, name.1, ... stacked along a new first axis, in
        index order (the indices must run 0..n-1 without gaps)."""
        indices = self.indexed().get(name)
        if not indices:
            raise KeyError(f"no indexed save named {name!r}; indexed saves: {', '.join(self.indexed()) or 'none'}")
        if indices != list(range(len(indices))):
            raise ValueError(f"{name} has indices {indices}, not 0..{len(indices) - 1}")
        return np.stack([self._arrays[f"{name}.{i}"] for i in indices])

    def to_torch(self, name=None):
        """A torch tensor of one value (sharing its memory: do not write to it), or a
        dict of them all when `name` is None. Needs torch."""
        try:
            import torch
        except ImportError:
            raise ImportError("Results.to_torch needs torch (pip install torch)") from None
        import warnings

        def convert(array):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # read-only memory, shared on purpose
                return torch.from_numpy(array)

        if name is not None:
            return convert(self[name])
        return {k: convert(v) for k, v in self._arrays.items()}

    # Facts
    @property
    def blocks(self):
        return self.facts.get("blocks", [])

    @property
    def prompts(self):
        """Every block's prompts, in order."""
        return [p for b in self.blocks for p in b.get("prompts", [])]

    @property
    def token_ids(self):
        """Every block's prompts' token ids, in order."""
        return [ids for b in self.blocks for ids in b.get("token_ids", [])]

    @property
    def generated_ids(self):
        return [ids for b in self.blocks for ids in b.get("generated_ids", [])]

    @property
    def generated_text(self):
        """The text each generate block wrote, per prompt."""
        return [t for b in self.blocks for t in b.get("generated_text", [])]

    @property
    def tokens(self):
        """The first prompt's tokens as text (a plot's labels); None without a model."""
        if self.model is None or not self.token_ids:
            return None
        return self.model.token_strings(self.token_ids[0])


def _describe(array):
    return f"{array.dtype}{list(array.shape)}"
