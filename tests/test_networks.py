"""The flat parameter layout and the two forward passes (torch for training, numpy for evaluation)."""

import numpy as np
import pytest
import torch

from bayesprune.networks import MLPSpec, forward, forward_numpy, resolve_device, sparse_bytes


def test_layout_names_and_offsets():
    spec = MLPSpec((4, 12, 3))
    names = spec.param_names()
    assert spec.n_params == len(names) == 4 * 12 + 12 + 12 * 3 + 3
    assert names[0] == "layer0.weight[0,0]" and names[1] == "layer0.weight[0,1]"
    assert names[48] == "layer0.bias[0]" and names[-1] == "layer1.bias[2]"
    assert spec.param_is_bias().sum() == 15
    assert (spec.param_layer() == 1).sum() == 12 * 3 + 3


def test_unflatten_is_row_major_per_layer():
    spec = MLPSpec((2, 3, 1))
    theta = np.arange(spec.n_params, dtype=float)
    (w0, b0), (w1, b1) = spec.unflatten(theta)
    assert w0.tolist() == [[0, 1], [2, 3], [4, 5]] and b0.tolist() == [6, 7, 8]
    assert w1.tolist() == [[9, 10, 11]] and b1.tolist() == [12]


@pytest.mark.parametrize(
    ("hidden", "output"), [("sigmoid", "identity"), ("tanh", "sigmoid"), ("relu", "identity")]
)
@pytest.mark.parametrize("sizes", [(3, 5, 4, 2), (3, 5, 2), (6, 7, 1)])  # numpy, compiled
def test_numpy_and_torch_forward_agree(hidden, output, sizes):
    rng = np.random.default_rng(0)
    spec = MLPSpec(sizes, hidden, output)
    theta, x = rng.normal(size=(7, spec.n_params)) * 3, rng.normal(size=(9, sizes[0]))
    expected = forward(spec, torch.from_numpy(theta), torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(forward_numpy(spec, theta, x, chunk=3), expected, atol=1e-12)
    np.testing.assert_allclose(forward_numpy(spec, theta[2], x), expected[2], atol=1e-12)


def test_sigmoid_does_not_overflow():
    spec = MLPSpec((1, 1), "sigmoid", "sigmoid")
    out = forward_numpy(spec, np.array([1000.0, 0.0]), np.array([[1.0], [-1.0]]))
    assert np.isfinite(out).all() and out[0, 0] == 1.0 and out[1, 0] == 0.0


def test_bad_specs_are_rejected():
    with pytest.raises(ValueError, match="hidden_activation"):
        MLPSpec((2, 3, 1), "softplus")
    with pytest.raises(ValueError, match="sizes"):
        MLPSpec((2,))


def test_sparse_bytes_picks_the_smallest_format():
    assert sparse_bytes(1, 100)["best"] == 8  # one value + one int32 index (COO)
    assert sparse_bytes(60, 100)["best"] == 60 * 4 + 13  # values + 100-bit mask
    assert sparse_bytes(100, 100)["best"] == 400  # dense


def test_cuda_request_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        assert resolve_device("cuda") == "cuda"
    else:
        with pytest.raises(RuntimeError, match="no CUDA device"):
            resolve_device("cuda")
    assert resolve_device("auto") in ("cpu", "cuda")
