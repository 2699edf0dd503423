"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_default = PasswordHasher()
# Tests hash thousands of passwords: the cheapest parameters argon2 accepts, for tests only.
_fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_hasher = _default


def use_fast_hashing(enabled: bool) -> None:
    global _hasher
    _hasher = _fast if enabled else _default


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
