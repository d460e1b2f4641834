"""The shopper rules: e-mail normalisation, Argon2 password hashes and HS256 access tokens. No I/O; the caller passes
the secret and the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt
from pwdlib import PasswordHash

ALGORITHM = "HS256"
PINCODE_PATTERN = r"^[0-9]{6}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHash.recommended()  # Argon2id with the library's current parameters
# Checked when the e-mail is unknown, so a login takes as long whether or not the shopper exists.
_UNKNOWN_USER_HASH = _hasher.hash("no shopper has this password")


class EmailTaken(Exception):
    def __init__(self, email: str) -> None:
        super().__init__(f"a shopper with e-mail {email} exists")
        self.email = email


class InvalidToken(Exception):
    """A bearer token that is malformed, wrongly signed, expired or lacks a subject."""


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
