"""API keys: each maps to one role; compared in constant time, never logged."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

from api.config import ROLES, Settings


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's role, a name that is safe to record, and the plants the key is
    limited to (None: every plant)."""

    role: str
    name: str
    plants: frozenset[str] | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"

    def may_use(self, plant_id: str) -> bool:
        return self.plants is None or plant_id in self.plants


@dataclass(frozen=True)
class _Key:
    role: str
    name: str
    secret: bytes
    plants: frozenset[str] | None


def _role_and_plants(text: str) -> tuple[str, frozenset[str] | None]:
    """``planner`` → every plant; ``planner@A`` or ``sales@A+B`` → those plants only."""
    role, at, plants = text.partition("@")
    if not at:
        return role, None
    named = frozenset(p.strip() for p in plants.split("+") if p.strip())
    if not named:
        raise ValueError(f"no plant after '@' in {text!r} (write role@PLANT or role@PLANT_A+PLANT_B)")
    return role.strip(), named


class KeyRing:
    """The configured keys. Entries are ``role:KEY`` or ``role:name:KEY``; ``role@A+B:...`` limits the
    key to plants A and B.

    A key containing ``:`` must be written ``role:name:KEY`` (the key is all after the second
    ``:``); as ``role:KEY`` its first part would be read as the name.
    """

    def __init__(self, entries: list[str]):
        self._keys: list[_Key] = []
        per_role: dict[str, int] = {}
        for entry in entries:
            # role:KEY or role:name:KEY; the key is everything after the name, ':' included
            parts = [p.strip() for p in entry.strip().split(":", 2)]
            if len(parts) < 2 or not parts[-1]:
                continue
            (role, plants), secret = _role_and_plants(parts[0]), parts[-1]
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r} in PAICHAN_API_KEYS (roles: {', '.join(ROLES)})")
            per_role[role] = per_role.get(role, 0) + 1
            name = parts[1] if len(parts) == 3 else f"key{per_role[role]}"  # nothing of the secret
            self._keys.append(_Key(role, name, secret.encode(), plants))

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        entries = [e for e in settings.api_keys.split(",") if e.strip()]
        if settings.api_keys_file:
            lines = Path(settings.api_keys_file).read_text(encoding="utf-8").splitlines()
            entries += [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        return cls(entries)

    def __len__(self) -> int:
        return len(self._keys)

    def identify(self, presented: str | None) -> Caller | None:
        """The caller a key belongs to; every configured key is compared, in constant time."""
        if not presented:
            return None
        offered = presented.encode()
        found = None
        for key in self._keys:
            if hmac.compare_digest(offered, key.secret) and found is None:
                found = Caller(key.role, key.name, key.plants)
        return found
