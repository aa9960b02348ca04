"""convlib.claims: the checks behind the book's sentences about its own outputs."""
import numpy as np
import pytest

from convlib.claims import ClaimError, claim, claim_close


def test_a_true_claim_passes_silently():
    assert claim(np.array_equal([60, 290], np.array([60, 290])), "peaks at 60 and 290") is None


def test_a_false_claim_fails_with_the_sentence():
    with pytest.raises(ClaimError, match="the text says: the scores are equal"):
        claim(3.91 == 5.01, "the scores are equal")


def test_a_claim_error_is_an_assertion_error():
    with pytest.raises(AssertionError):
        claim(False, "anything")


def test_a_claim_needs_its_sentence():
    with pytest.raises(TypeError, match="statement"):
        claim(True, "")


def test_an_array_condition_must_be_reduced_first():
    with pytest.raises(ValueError, match="truth value"):
        claim(np.array([True, False]), "all are true")


def test_claim_close_accepts_the_rounding_of_the_printed_digits():
    claim_close(1.0404, 1.04, "h sums to 1.04", atol=0.005)
    with pytest.raises(ClaimError, match=r"h sums to 1 \(computed 1.0404, stated 1\)"):
        claim_close(1.0404, 1.0, "h sums to 1", atol=0.005)


def test_claim_close_rejects_negative_tolerances():
    with pytest.raises(ValueError, match="atol"):
        claim_close(1.0, 1.0, "one is one", atol=-1)
