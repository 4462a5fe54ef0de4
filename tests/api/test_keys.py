import pytest

from kardashev.api.keys import (
    SCOPES,
    generate_key,
    hash_secret,
    parse_authorization,
    parse_scopes,
    verify_secret,
)
from kardashev.errors import AuthenticationError, InvalidInputError


def test_generated_key_verifies_and_hides_its_secret():
    key = generate_key(["upload", "read"], pepper="pep")
    assert key.scopes == ("read", "upload")  # canonical order
    assert key.public_id.startswith("kdk_") and len(key.public_id) == 24
    assert len(key.secret) >= 40
    assert key.secret not in repr(key) and key.secret not in key.secret_hash
    assert verify_secret(key.secret, salt=key.salt, secret_hash=key.secret_hash, pepper="pep")
    assert not verify_secret(key.secret, salt=key.salt, secret_hash=key.secret_hash, pepper="other")
    assert not verify_secret(key.secret + "x", salt=key.salt, secret_hash=key.secret_hash, pepper="pep")
    assert not verify_secret(key.secret, salt="0" * 32, secret_hash=key.secret_hash, pepper="pep")
    assert key.token == f"{key.public_id}${key.secret}"


def test_keys_are_unique_and_salted():
    keys = [generate_key(["read"]) for _ in range(50)]
    assert len({k.public_id for k in keys}) == 50
    assert len({k.salt for k in keys}) == 50
    # same secret, different salt -> different hash
    assert hash_secret("s", "a") != hash_secret("s", "b")


def test_hash_matches_an_independent_hmac():
    import hashlib
    import hmac

    expected = hmac.new(b"pepper", b"salt\x00secret", hashlib.sha256).hexdigest()
    assert hash_secret("secret", "salt", pepper="pepper") == expected


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [("read", ("read",)), ("stake,read", ("read", "stake")), (["admin"], ("admin",)), (SCOPES, SCOPES)],
)
def test_parse_scopes(scopes, expected):
    assert parse_scopes(scopes) == expected


@pytest.mark.parametrize("scopes", [[], ["root"], "read,everything", 5])
def test_parse_scopes_rejects(scopes):
    with pytest.raises(InvalidInputError) as info:
        parse_scopes(scopes)
    assert info.value.code == "invalid_scope"


def test_parse_authorization():
    assert parse_authorization("Token kdk_abc$s3cr$t") == ("kdk_abc", "s3cr$t")
    assert parse_authorization("bearer kdk_abc$x") == ("kdk_abc", "x")
    for bad, code in [
        (None, "missing_credentials"),
        ("", "missing_credentials"),
        ("Basic dXNlcjpwYXNz", "malformed_credentials"),
        ("Token nodollar", "malformed_credentials"),
        ("Token $secret", "malformed_credentials"),
        ("Token public$", "malformed_credentials"),
        ("Token " + "a" * 300, "malformed_credentials"),
    ]:
        with pytest.raises(AuthenticationError) as info:
            parse_authorization(bad)
        assert info.value.code == code
        if bad and " " in bad:  # the credential part is never echoed back
            assert bad.split(" ", 1)[1] not in info.value.message
