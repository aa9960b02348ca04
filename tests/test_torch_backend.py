"""convlib._torch: device handling (shared with convlib's nn functions) and the torch method."""
import numpy as np
import pytest
import scipy.signal

torch = pytest.importorskip("torch")

from convlib._torch import convolve_torch, resolve_device, tf32_disabled, to_numpy, to_tensor  # noqa: E402

CUDA = torch.cuda.is_available()
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(not CUDA, reason="CUDA not available")])]


@pytest.mark.parametrize("device", [None, "cpu", "CPU", torch.device("cpu")])
def test_cpu_spellings_resolve_to_the_cpu(device):
    assert resolve_device(device) == torch.device("cpu")


@pytest.mark.skipif(CUDA, reason="this machine has CUDA: the request would succeed")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3", torch.device("cuda")])
def test_cuda_without_cuda_is_a_value_error_naming_the_device(device):
    with pytest.raises(ValueError, match=r"device='cuda(:\d)?' was requested but CUDA is not available"):
        resolve_device(device)


@pytest.mark.skipif(not CUDA, reason="CUDA not available")
def test_cuda_index_beyond_the_device_count_is_a_value_error():
    with pytest.raises(ValueError, match="CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize("device,exception", [("gpu", ValueError), ("meta", ValueError), (0, TypeError)])
def test_unknown_devices_are_refused(device, exception):
    with pytest.raises(exception, match="device"):
        resolve_device(device)


@pytest.mark.parametrize("device", DEVICES)
def test_to_tensor_copies_so_numpy_input_is_never_shared(device):
    array = np.arange(4.0)
    tensor = to_tensor(array, resolve_device(device))
    tensor += 1
    np.testing.assert_array_equal(array, np.arange(4.0))
    np.testing.assert_array_equal(to_numpy(tensor), np.arange(1.0, 5.0))
    assert to_tensor(array, resolve_device(device), dtype=np.float32).dtype == torch.float32


def test_tf32_is_off_inside_and_restored_after():
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cudnn.allow_tf32 = True
    try:
        with tf32_disabled():
            assert torch.backends.cudnn.allow_tf32 is False
            assert torch.backends.cuda.matmul.allow_tf32 is False
        assert torch.backends.cudnn.allow_tf32 is True
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int32, np.uint8, np.complex64])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_torch_keeps_scipy_dtype_and_values(mode, dtype, device):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, (7, 6)).astype(dtype)
    h = rng.integers(0, 5, (3, 2)).astype(dtype)
    result = convolve_torch(x, h, mode, device=device)
    # scipy's N-D direct code has no float16 loop: take its float64 result, cast to the scipy dtype
    expected = scipy.signal.convolve(x.astype(complex), h.astype(complex), mode, method="direct")
    expected = expected.real.astype(np.result_type(x, h)) if x.dtype.kind != "c" else expected.astype(x.dtype)
    assert isinstance(result, np.ndarray) and result.dtype == expected.dtype
    np.testing.assert_allclose(result.astype(complex), expected.astype(complex), rtol=1e-3)


@pytest.mark.parametrize("device", DEVICES)
def test_float64_stays_float64_precision_on_the_device(device):
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal(1000), rng.standard_normal(31)
    result = convolve_torch(x, h, "same", device=device)
    np.testing.assert_allclose(result, scipy.signal.convolve(x, h, "same"), rtol=0, atol=1e-12)


def test_four_dimensional_arrays_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="1-, 2- and 3-D"):
        convolve_torch(np.ones((2, 2, 2, 2)), np.ones((1, 1, 1, 1)), "full")


def test_torch_is_not_imported_by_importing_convlib():
    import subprocess
    import sys

    code = "import sys, convlib; convlib.convolve([1, 2], [3]); convlib.fftconvolve([1.0], [2.0]); " \
           "print('torch' in sys.modules, 'scipy' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["False", "False"]
