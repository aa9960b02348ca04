"""convlib._validation: every check names the argument and what was expected."""
import numpy as np
import pytest

from convlib._convolve import METHODS, check_method
from convlib._shapes import mode_window
from convlib._validation import (
    BOUNDARIES,
    MODES,
    as_int_tuple,
    as_numeric_array,
    check_boundary,
    check_device,
    check_mode,
    check_same_ndim,
    valid_swap_needed,
)


@pytest.mark.parametrize("mode", MODES)
def test_known_modes_pass_through(mode):
    assert check_mode(mode) == mode


@pytest.mark.parametrize("method", METHODS)
def test_known_methods_pass_through(method):
    assert check_method(method) == method


@pytest.mark.parametrize("alias,canonical", [("fill", "fill"), ("wrap", "wrap"), ("circular", "wrap"),
                                             ("symm", "symm"), ("symmetric", "symm")])
def test_boundary_aliases_map_to_scipy_canonical_names(alias, canonical):
    assert check_boundary(alias) == canonical
    assert BOUNDARIES[alias] == canonical


@pytest.mark.parametrize("check,name,bad", [(check_mode, "mode", "Full"), (check_method, "method", "gpu"),
                                            (check_boundary, "boundary", "reflect")])
def test_unknown_choice_is_a_value_error_listing_the_options(check, name, bad):
    with pytest.raises(ValueError, match=rf"{name} must be one of .*got '{bad}'"):
        check(bad)


@pytest.mark.parametrize("check,name", [(check_mode, "mode"), (check_method, "method"), (check_boundary, "boundary")])
def test_non_string_choice_is_a_type_error(check, name):
    with pytest.raises(TypeError, match=f"{name} must be a string"):
        check(1)


@pytest.mark.parametrize("value,expected_kind", [([1, 2], "i"), ([True], "b"), ([1.5], "f"), ([1j], "c"),
                                                 (np.uint8([3]), "u")])
def test_numeric_arrays_are_accepted_and_not_copied(value, expected_kind):
    array = as_numeric_array(value, "x")
    assert array.dtype.kind == expected_kind
    if isinstance(value, np.ndarray):
        assert array is value


@pytest.mark.parametrize("value", [["a"], np.array([1], dtype=object), np.array(["2020-01-01"], dtype="M8[D]")])
def test_non_numeric_arrays_are_a_type_error_naming_the_argument(value):
    with pytest.raises(TypeError, match="kernel must hold numbers"):
        as_numeric_array(value, "kernel")


def test_empty_arrays_are_refused_unless_allowed():
    with pytest.raises(ValueError, match=r"x must not be empty; got an array of shape \(2, 0\)"):
        as_numeric_array(np.ones((2, 0)), "x")
    assert as_numeric_array([], "x", allow_empty=True).size == 0


def test_ragged_input_is_a_value_error_naming_the_argument():
    with pytest.raises(ValueError, match="h must be a rectangular array"):
        as_numeric_array([[1, 2], [3]], "h")


def test_device_strings_are_normalised_and_other_types_refused():
    assert check_device(" CUDA:0 ") == "cuda:0"
    assert check_device(None) is None
    with pytest.raises(ValueError, match="empty string"):
        check_device("  ")
    with pytest.raises(TypeError, match="device must be None"):
        check_device(1.0)


def test_torch_device_objects_are_accepted_without_conversion():
    torch = pytest.importorskip("torch")
    device = torch.device("cpu")
    assert check_device(device) is device


def test_dimensionality_mismatch_names_both_arguments():
    with pytest.raises(ValueError, match="image.ndim=2 and kernel.ndim=3"):
        check_same_ndim(np.ones((2, 2)), np.ones((1, 1, 1)), ("image", "kernel"))
    check_same_ndim(np.ones(3), np.ones(5))  # no error


@pytest.mark.parametrize("shape1,shape2,expected", [((5,), (3,), False), ((3,), (5,), True), ((4, 4), (4, 4), False),
                                                    ((2, 3), (4, 5), True)])
def test_valid_swap_rule_matches_scipy(shape1, shape2, expected):
    import scipy.signal

    assert valid_swap_needed("valid", shape1, shape2) == expected
    larger, smaller = (shape2, shape1) if expected else (shape1, shape2)
    scipy_shape = scipy.signal.convolve(np.ones(shape1), np.ones(shape2), "valid").shape
    assert scipy_shape == tuple(a - b + 1 for a, b in zip(larger, smaller))
    assert valid_swap_needed("full", shape1, shape2) is False


def test_valid_swap_with_axes_only_compares_those_axes():
    assert valid_swap_needed("valid", (5, 1), (3, 9), axes=[0]) is False
    with pytest.raises(ValueError, match="at least as large"):
        valid_swap_needed("valid", (5, 1), (3, 9))


@pytest.mark.parametrize("n", [1, 2, 5, 8])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 9])
@pytest.mark.parametrize("mode", MODES)
def test_mode_window_cuts_numpy_full_convolution_like_scipy(n, k, mode):
    import scipy.signal

    if mode == "valid" and k > n:
        return  # the caller swaps first
    x, h = np.arange(1.0, n + 1), np.arange(2.0, k + 2) ** 2
    ((start, length),) = mode_window((n,), (k,), mode)
    np.testing.assert_allclose(np.convolve(x, h)[start:start + length], scipy.signal.convolve(x, h, mode))


def test_int_tuples_expand_scalars_and_check_each_entry():
    assert as_int_tuple(np.int64(3), "stride", length=3, minimum=1) == (3, 3, 3)
    assert as_int_tuple([0, 2], "padding", length=2) == (0, 2)
    with pytest.raises(ValueError, match="stride must be a positive integer; got 0"):
        as_int_tuple((1, 0), "stride", length=2, minimum=1)
    with pytest.raises(TypeError, match="padding must be an integer"):
        as_int_tuple(1.5, "padding", length=2)
    with pytest.raises(ValueError, match="a sequence of 2 ints; got 3 values"):
        as_int_tuple((1, 1, 1), "dilation", length=2, minimum=1)
