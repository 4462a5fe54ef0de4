import pytest

from kardashev import errors


def test_every_error_has_a_code_and_keeps_its_message():
    for name in errors.__all__:
        cls = getattr(errors, name)
        if not isinstance(cls, type):
            continue  # errors.examples, the message helper
        exc = cls("something named is wrong")
        assert isinstance(exc, errors.KardashevError)
        assert exc.code == cls.default_code
        assert str(exc) == "something named is wrong"


def test_code_can_be_overridden_and_input_errors_are_value_errors():
    exc = errors.SubmissionError("duplicated id 'a'", code="duplicate_ids")
    assert exc.code == "duplicate_ids"
    with pytest.raises(ValueError):
        raise exc


def test_examples_keep_a_message_to_one_short_line():
    assert errors.examples(["a", "b"]) == "'a', 'b'"
    columns = [f"col_{i:02d}" for i in range(50)]
    assert errors.examples(columns) == "'col_00', 'col_01', 'col_02', 'col_03', 'col_04' (+45 more)"
    assert errors.examples(columns, limit=1) == "'col_00' (+49 more)"
