"""The shopper rules without services: password hashes, access tokens, e-mail normalisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from identity.service import InvalidToken, hash_password, issue_token, normalised_email, password_matches, token_subject

pytestmark = pytest.mark.unit
SECRET = "a-test-secret-of-at-least-32-bytes!!"
NOW = datetime.now(UTC)


def test_password_is_stored_as_an_argon2id_hash_that_verifies():
    stored = hash_password("correct horse battery")

    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert password_matches("correct horse battery", stored)
    assert not password_matches("correct horse batterY", stored)


def test_unknown_shopper_never_matches_a_password():
    assert not password_matches("correct horse battery", None)


def test_token_names_the_shopper_it_was_issued_to():
    token = issue_token("user-1", secret=SECRET, minutes=60, now=NOW)

    assert token_subject(token, secret=SECRET) == "user-1"


def test_expired_token_is_refused():
    token = issue_token("user-1", secret=SECRET, minutes=5, now=NOW - timedelta(minutes=10))

    with pytest.raises(InvalidToken, match="expired"):
        token_subject(token, secret=SECRET)


def test_token_signed_with_another_secret_is_refused():
    token = issue_token("user-1", secret="another-secret-of-at-least-32-bytes", minutes=60, now=NOW)

    with pytest.raises(InvalidToken):
        token_subject(token, secret=SECRET)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c"])
def test_malformed_token_is_refused(garbage):
    with pytest.raises(InvalidToken):
        token_subject(garbage, secret=SECRET)


def test_email_is_compared_trimmed_and_lowercased():
    assert normalised_email("  Asha.Rao@Example.COM ") == "asha.rao@example.com"
