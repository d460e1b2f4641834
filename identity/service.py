"""The shopper rules: what a name or an e-mail address may hold, e-mail normalisation, Argon2 password hashes and HS256
access tokens. No I/O; the caller passes the secret and the clock."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

import jwt
from pwdlib import PasswordHash

ALGORITHM = "HS256"
PINCODE_PATTERN = r"^[0-9]{6}$"
MIN_PASSWORD_LENGTH = 8
# No whitespace, and none of the characters that end or split an address in a header (`a,b@x` is two mailboxes, `a<b@x`
# and `a(b)@x` are mailbox `a`): the address goes into the `To` header and the SMTP envelope as it is.
_ADDRESS_PART = r"""[^@\s<>()\[\],;:"\\]+"""
EMAIL_PATTERN = rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$"
# Unicode categories a name or an e-mail address must not hold: control characters (Cc: C0 and C1, tab, CR, LF, NEL,
# DEL), line and paragraph separators (Zl, Zp), invisible format characters (Cf: bidi overrides that reorder what is
# shown, zero-width spaces, BOMs, soft hyphens), and lone surrogates (Cs, which no UTF-8 store can hold). They break
# e-mail headers, log lines and what other people see, and no name needs them.
_REFUSED_CATEGORIES = {"Cc": "a control character", "Zl": "a line separator", "Zp": "a paragraph separator",
                       "Cf": "an invisible formatting character", "Cs": "a lone surrogate"}
# Except the zero-width non-joiner and joiner, which spell words in Persian and in Indic scripts, and emoji sequences.
_NEEDED_FORMAT_CHARACTERS = frozenset("\u200c\u200d")

_hasher = PasswordHash.recommended()  # Argon2id with the library's current parameters
# Checked when the e-mail is unknown, so a login takes as long whether or not the shopper exists.
_UNKNOWN_USER_HASH = _hasher.hash("no shopper has this password")


class EmailTaken(Exception):
    def __init__(self, email: str) -> None:
        super().__init__(f"a shopper with e-mail {email} exists")
        self.email = email


class InvalidToken(Exception):
    """A bearer token that is malformed, wrongly signed, expired or lacks a subject."""


def printable_text(text: str) -> str:
    """`text` as it is, or ValueError naming its first control, invisible formatting or line-breaking character."""
    for position, character in enumerate(text):
        refused = _REFUSED_CATEGORIES.get(unicodedata.category(character))
        if refused and character not in _NEEDED_FORMAT_CHARACTERS:
            raise ValueError(f"must not contain U+{ord(character):04X} ({refused}) at position {position}: line "
                             "breaks, tabs, control and invisible formatting characters are refused")
    return text


def normalised_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password: str, password_hash: str | None) -> bool:
    """Whether `password` is the one hashed; with no hash (unknown shopper) it spends the same time and says no."""
    if password_hash is None:
        _hasher.verify(password, _UNKNOWN_USER_HASH)
        return False
    return _hasher.verify(password, password_hash)


def issue_token(user_id: str, *, secret: str, minutes: int, now: datetime) -> str:
    claims = {"sub": user_id, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def token_subject(token: str, *, secret: str) -> str:
    """The user_id a valid token was issued to."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("the token has expired") from error
    except jwt.InvalidTokenError as error:
        raise InvalidToken("the token is not valid") from error
    return claims["sub"]
