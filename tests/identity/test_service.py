"""The shopper rules without services: password hashes, access tokens, e-mail normalisation, what text may hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from identity.service import (
    InvalidToken,
    hash_password,
    issue_token,
    normalised_email,
    password_matches,
    printable_text,
    token_subject,
)

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


@pytest.mark.parametrize(("text", "refused"), [
    ("Asha\nRao", "U+000A"), ("Asha\rRao", "U+000D"), ("Asha\tRao", "U+0009"), ("Asha\x00Rao", "U+0000"),
    ("Asha\x1cRao", "U+001C"), ("Asha\x7fRao", "U+007F"), ("Asha\x85Rao", "U+0085"), ("Asha\u2028Rao", "U+2028"),
    ("Asha\u2029Rao", "U+2029"), ("Asha \u202eoaR", "U+202E"), ("Asha\u2066Rao", "U+2066"), ("Asha\u200bRao", "U+200B"),
    ("\ufeffAsha", "U+FEFF"), ("Asha\u00adRao", "U+00AD"), ("Asha\ud800Rao", "U+D800"),
])
def test_text_with_a_control_invisible_or_line_breaking_character_is_refused(text, refused):
    with pytest.raises(ValueError, match=refused.replace("+", "\\+")):
        printable_text(text)


@pytest.mark.parametrize("text", [
    "Asha Rao", "आशा राव", "علی\u200cزاده", "ക്\u200dഷ", "José Ñandú-O'Brien", "李小龍", "Asha\u00a0Rao",
    "\U0001F469\u200d\U0001F467", "山田\u3000花子",
])
def test_names_in_any_script_with_their_joiners_and_spaces_are_accepted(text):
    assert printable_text(text) == text
