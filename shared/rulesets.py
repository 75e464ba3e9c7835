"""Rule sets kept as versioned data in a service's database: the YAML text of each rule set
loaded (the newest version of each id), every version ever loaded (so a decision or finding can
be explained under the version that made it), and their parsed forms cached in memory.

tiering (tier rules, active per region) and incubators (incubator rules, one active for the
province) keep theirs this way; each says how its texts are parsed and where its bundled ones
are.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.domain import clock
from shared.mongo import Repository

CACHE_SECONDS = 5.0  # a rule set is read again at most this often (activation elsewhere)


class Versioned(Protocol):
    """What a parsed rule set has (read-only: rule sets are frozen dataclasses)."""

    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def source(self) -> str: ...


R = TypeVar("R", bound=Versioned)


class RuleSetTexts(Repository, Generic[R]):
    """The stored rule sets of one kind: `texts` (newest of each id), `versions` (all)."""

    def __init__(
        self, db: Database, parse: Callable[[str], R], bundled: Path, collection: str = "rulesets"
    ):
        super().__init__(db)
        self.parse, self.bundled, self.collection = parse, bundled, collection
        self._parsed: dict[tuple[str, int], R] = {}
        self._recent: dict[str, tuple[float, R]] = {}

    @property
    def texts(self) -> Collection[dict[str, Any]]:
        return self.db[self.collection]

    @property
    def versions(self) -> Collection[dict[str, Any]]:
        return self.db[f"{self.collection.removesuffix('s')}_versions"]

    @property
    def settings(self) -> Collection[dict[str, Any]]:
        return self.db["settings"]

    def bundled_rulesets(self) -> list[R]:
        return [
            self.parse(p.read_text(encoding="utf-8")) for p in sorted(self.bundled.glob("*.yaml"))
        ]

    def install_missing(self) -> None:
        """Store the rule sets shipped in the repository that are not loaded yet."""
        for ruleset in self.bundled_rulesets():
            if self.texts.count_documents({"_id": ruleset.id}, limit=1) == 0:
                with suppress(DuplicateKeyError):
                    self.store(ruleset)

    def store(self, ruleset: R) -> None:
        """Load a rule set (a version older than the one loaded is refused)."""
        stored = self.texts.find_one({"_id": ruleset.id})
        if stored and stored["version"] > ruleset.version:
            raise ValueError(
                f"{ruleset.id} version {stored['version']} is loaded; "
                f"version {ruleset.version} is older"
            )
        self.keep_version(ruleset.id, ruleset.version, ruleset.source)
        fields = {"id": ruleset.id, "version": ruleset.version, "text": ruleset.source}
        self.texts.update_one(
            {"_id": ruleset.id}, {"$set": {**fields, "loaded_at": clock.now()}}, upsert=True
        )
        self._recent.pop(ruleset.id, None)

    def get(self, ruleset_id: str, fresh: bool = False) -> R:
        """The loaded rule set, parsed; read again at most every CACHE_SECONDS, so a batch
        costs no round trip for it."""
        read_at, ruleset = self._recent.get(ruleset_id, (0.0, None))
        if ruleset is not None and not fresh and time.monotonic() - read_at <= CACHE_SECONDS:
            return ruleset
        stored = self.texts.find_one({"_id": ruleset_id}) or self.install_bundled(ruleset_id)
        parsed = self.parsed(stored)
        self._recent[ruleset_id] = (time.monotonic(), parsed)
        return parsed

    def parsed(self, stored: dict[str, Any]) -> R:
        key = (stored["id"], stored["version"])
        if key not in self._parsed:
            self._parsed[key] = self.parse(stored["text"])
            self.keep_version(stored["id"], stored["version"], stored["text"])
        return self._parsed[key]

    def install_bundled(self, ruleset_id: str) -> dict[str, Any]:
        """A rule set shipped in the repository, stored on first use (the service may be asked
        before its start-up has installed them)."""
        path = self.bundled / f"{ruleset_id}.yaml"
        if not path.exists():
            raise KeyError(f"no rule set {ruleset_id!r} is loaded")
        with suppress(DuplicateKeyError):
            self.store(self.parse(path.read_text(encoding="utf-8")))
        stored = self.texts.find_one({"_id": ruleset_id})
        if stored is None:  # removed again between storing and reading it back
            raise KeyError(f"no rule set {ruleset_id!r} is loaded")
        return stored

    def keep_version(self, ruleset_id: str, version: int, text: str) -> None:
        document = {"id": ruleset_id, "version": version, "text": text}
        self.versions.replace_one({"_id": f"{ruleset_id}@{version}"}, document, upsert=True)

    def at(self, ruleset_id: str, version: int | None) -> R:
        """The rule set as it was at `version`. A version loaded before versions were kept, and
        replaced since, is not known: the loaded one stands in for it."""
        key = (ruleset_id, version or 0)
        if key not in self._parsed:
            stored = self.versions.find_one({"_id": f"{ruleset_id}@{version}"})
            if stored is None:
                return self.get(ruleset_id)
            self._parsed[key] = self.parse(stored["text"])
        return self._parsed[key]

    def listing(self) -> list[dict[str, Any]]:
        return list(self.texts.find({}, {"_id": False, "text": False}).sort("id", ASCENDING))
