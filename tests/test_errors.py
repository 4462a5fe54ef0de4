import pytest

from kardashev import errors


def test_every_error_has_a_code_and_keeps_its_message():
    for name in errors.__all__:
        cls = getattr(errors, name)
        exc = cls("something named is wrong")
        assert isinstance(exc, errors.KardashevError)
        assert exc.code == cls.default_code
        assert str(exc) == "something named is wrong"


def test_code_can_be_overridden_and_input_errors_are_value_errors():
    exc = errors.SubmissionError("duplicated id 'a'", code="duplicate_ids")
    assert exc.code == "duplicate_ids"
    with pytest.raises(ValueError):
        raise exc
