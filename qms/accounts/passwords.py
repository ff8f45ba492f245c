"""Password hashing with scrypt (memory-hard, from the standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from qms.errors import FieldError, ValidationFailed
from qms.i18n import Text

# 2**14 rounds with a block size of 8 use 16 MiB per hash: costly to guess in bulk, quick to check.
_N, _R, _P = 2**14, 8, 1
_MAXMEM = 64 * 1024 * 1024
MIN_LENGTH = 12
MAX_LENGTH = 1024


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)


def check_strength(password: str, *, user_name: str, field: str = "password") -> None:
    """Refuse a password that is short, overlong, or the user's own name."""
    problem = None
    if len(password) < MIN_LENGTH:
        problem = Text("Write at least %(min_length)s characters.", min_length=MIN_LENGTH)
    elif len(password) > MAX_LENGTH:
        problem = Text("Write at most %(max_length)s characters.", max_length=MAX_LENGTH)
    elif user_name.lower() in password.lower():
        problem = Text("Choose a password that does not contain the user name.")
    if problem:
        raise ValidationFailed(
            Text("The password cannot be used: choose another."), [FieldError(field, problem)]
        )


def hash_password(password: str) -> str:
    """Return `scrypt$n$r$p$salt$hash`, the form a password is stored in."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Say whether the password matches the stored hash (in constant time).

    With no stored hash a dummy hash is computed all the same, so that an unknown user name takes
    as long to refuse as a wrong password.
    """
    if stored is None:
        _scrypt(password, b"0" * 16, _N, _R, _P)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
