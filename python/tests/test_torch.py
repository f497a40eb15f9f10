"""torch: Results.to_torch views the run's memory, and torch tensors bind tensor params
as numpy arrays do. Scripts/test-python installs torch and names it in NSI_TEST_REQUIRE,
so these fail there, rather than skip, without it."""
import os

import numpy as np
import pytest

from conftest import SAMPLES, optional

TENSOR_PARAM = """param v: f32[576]
param prompt: str = "The capital of France is"
trace prompt {
    model.layers[5].output[:, -1] += v
    save h = model.layers[5].output[0, -1]
}
"""


@pytest.fixture(scope="module")
def torch():
    return optional("torch")


def test_to_torch_shares_the_numpy_views_memory(model, torch):
    r = model.run(os.path.join(SAMPLES, "attention_pattern.nsi"))
    assert r["pattern"].dtype == np.float32
    t = r.to_torch("pattern")
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    assert tuple(t.shape) == r["pattern"].shape
    assert t.data_ptr() == r["pattern"].ctypes.data          # the same memory, no copy
    assert np.array_equal(t.numpy(), r["pattern"])
    everything = r.to_torch()
    assert list(everything) == list(r)
    for name, tensor in everything.items():
        assert tensor.data_ptr() == r[name].ctypes.data, name
        assert tensor.numpy().dtype == r[name].dtype and np.array_equal(tensor.numpy(), r[name]), name


def test_to_torch_keeps_integer_dtypes(model, torch):
    r = model.run('generate "Once upon a time" (max_tokens = 3) {\n    save ids = result.ids\n}\n')
    t = r.to_torch("ids")
    assert t.dtype == torch.int64 and tuple(t.shape) == r["ids"].shape == (1, 7)
    assert t.tolist() == r["ids"].tolist()


def test_a_torch_tensor_param_binds_as_the_numpy_array_does(model, torch):
    plan = model.compile(TENSOR_PARAM)
    v = np.linspace(-1, 1, 576, dtype=np.float32)
    with_numpy = plan.run(v=v)["h"]
    assert not np.array_equal(with_numpy, plan.run(v=np.zeros(576, dtype=np.float32))["h"])
    # A plain tensor, one that needs grad (detached), others of other dtypes: the same run.
    for tensor in (torch.from_numpy(v.copy()), torch.tensor(v, requires_grad=True), torch.tensor(v, dtype=torch.float64)):
        assert plan.run(v=tensor)["h"].tobytes() == with_numpy.tobytes(), tensor.dtype
    # From a script, a torch tensor is a run-time param as an array is.
    assert model.run(TENSOR_PARAM, v=torch.from_numpy(v))["h"].tobytes() == with_numpy.tobytes()


def test_a_bfloat16_tensor_param_binds_as_its_float32_values(model, torch):
    # numpy has no bfloat16: the tensor's own values are what the run gets.
    plan = model.compile(TENSOR_PARAM)
    v = torch.linspace(-1, 1, 576, dtype=torch.bfloat16)
    assert plan.run(v=v)["h"].tobytes() == plan.run(v=v.float().numpy())["h"].tobytes()
