"""MongoDB storage of tiering: firms' current tiers with their latest snapshot, tier history,
and the rule sets (loaded texts and which one is active for which region)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.tiering.rules.ruleset import RuleSet, parse_ruleset
from shared import clock
from shared.locks import KeyedLocks
from shared.mongo import Repository, RepositoryProvider

BUNDLED_RULESETS = Path(__file__).resolve().parent / "rulesets"
ACTIVE_CACHE_SECONDS = 5.0


class Tiers(Repository):
    def __init__(self, db: Any):
        super().__init__(db)
        self.locks = KeyedLocks()  # one writer per firm at a time: see shared/locks.py

    @property
    def firms(self):  # type: ignore[no-untyped-def]
        return self.db["firms"]

    @property
    def history(self):  # type: ignore[no-untyped-def]
        return self.db["tier_history"]

    @property
    def tier_index(self):  # type: ignore[no-untyped-def]
        return self.db["tier_index"]

    def ensure_indexes(self) -> None:
        self.firms.create_index([("unit", ASCENDING), ("tier", ASCENDING)])
        self.history.create_index([("uscc", ASCENDING), ("seq", ASCENDING)])

    def get(self, uscc: str) -> dict[str, Any] | None:
        return self.firms.find_one({"_id": uscc}, {"_id": False})

    def history_of(self, uscc: str) -> list[dict[str, Any]]:
        return list(self.history.find({"uscc": uscc}, {"_id": False}).sort("seq", ASCENDING))

    def change(self, uscc: str, seq: int) -> dict[str, Any] | None:
        return self.history.find_one({"_id": f"{uscc}:{seq}"}, {"_id": False})

    def save(self, record: dict[str, Any], change: dict[str, Any] | None) -> bool:
        """Store the change (once) and then the record, unless a newer snapshot is stored."""
        if change is not None:
            self.add_changes([change])
        result = self.firms.update_one(
            {"_id": record["uscc"], "version": {"$lte": record["version"]}},
            {"$set": record},
            upsert=False,
        )
        if not result.matched_count:
            try:
                self.firms.insert_one({"_id": record["uscc"], **record})
            except DuplicateKeyError:
                return False  # a newer snapshot is stored
        self.index([record])
        return True

    def index(self, records: list[dict[str, Any]]) -> None:
        """A small copy of (unit, tier) per firm, so counting never reads the big records."""
        if records:
            self.tier_index.bulk_write(
                [ReplaceOne({"_id": r["uscc"]}, {"unit": r["unit"], "tier": r["tier"]},
                            upsert=True) for r in records], ordered=False)

    def add_changes(self, changes: list[dict[str, Any]]) -> None:
        if not changes:
            return
        try:
            self.history.insert_many([{"_id": f"{c['uscc']}:{c['seq']}", **c} for c in changes],
                                     ordered=False)
        except BulkWriteError as exc:  # already recorded by an earlier attempt: fine
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise

    def mark_announced(self, uscc: str, seq: int) -> None:
        self.firms.update_one(
            {"_id": uscc, "announced_seq": {"$lt": seq}}, {"$set": {"announced_seq": seq}}
        )

    def mark_announced_many(self, announced: list[tuple[str, int]]) -> None:
        if announced:
            self.firms.bulk_write(
                [
                    UpdateOne(
                        {"_id": u, "announced_seq": {"$lt": s}}, {"$set": {"announced_seq": s}}
                    )
                    for u, s in announced
                ],
                ordered=False,
            )

    def batches(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """Every firm, `size` at a time, from one cursor (a round trip per batch, not per firm)."""
        batch: list[dict[str, Any]] = []
        for record in self.firms.find({}, {"_id": False}).batch_size(size):
            batch.append(record)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def save_batch(self, records: list[dict[str, Any]], changes: list[dict[str, Any]]) -> int:
        """Re-evaluated records in one bulk write, each only if its snapshot is still current."""
        self.add_changes(changes)
        if not records:
            return 0
        result = self.firms.bulk_write(
            [UpdateOne({"_id": r["uscc"], "version": r["version"]},
                       {"$set": {k: v for k, v in r.items() if k != "snapshot"}})
             for r in records],  # the snapshot did not change: do not send it again
            ordered=False,
        )
        self.index(records)
        return result.matched_count

    def counts(self, unit: str | None) -> dict[str, int]:
        match = {"unit": unit} if unit else {}
        rows = self.tier_index.aggregate(
            [{"$match": match}, {"$group": {"_id": "$tier", "n": {"$sum": 1}}}]
        )
        return {row["_id"]: row["n"] for row in rows}

    def transitions(self) -> dict[str, int]:
        rows = self.history.aggregate([{"$group": {"_id": {"from": "$from", "to": "$to"},
                                                   "n": {"$sum": 1}}}])
        return {f"{row['_id']['from']}→{row['_id']['to']}": row["n"] for row in rows}

    def watchlist(self, unit: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"watch": {"$ne": None}}
        if unit:
            query["unit"] = unit
        if after:
            query["uscc"] = {"$gt": after}
        fields = {
            "_id": False,
            "uscc": True,
            "name": True,
            "unit": True,
            "tier": True,
            "tier_label": True,
            "watch": True,
        }
        return list(self.firms.find(query, fields).sort("uscc", ASCENDING).limit(limit))


class RuleSets(Repository):
    """Loaded rule sets and the active one per region prefix, cached briefly in memory."""

    def __init__(self, db: Any):
        super().__init__(db)
        self._parsed: dict[tuple[str, int], RuleSet] = {}
        self._active: tuple[float, dict[str, str]] = (0.0, {})

    @property
    def texts(self):  # type: ignore[no-untyped-def]
        return self.db["rulesets"]

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.db["settings"]

    def install_bundled(self, default_id: str) -> None:
        """Load the repository's rule sets when absent; activate the default if none is."""
        for path in sorted(BUNDLED_RULESETS.glob("*.yaml")):
            ruleset = parse_ruleset(path.read_text(encoding="utf-8"))
            if self.texts.count_documents({"_id": ruleset.id}, limit=1) == 0:
                self.store(ruleset)
        if not self.active_map(fresh=True):
            self.set_active(self.get(default_id))

    def store(self, ruleset: RuleSet) -> None:
        stored = self.texts.find_one({"_id": ruleset.id})
        if stored and stored["version"] > ruleset.version:
            raise ValueError(
                f"{ruleset.id} version {stored['version']} is loaded; "
                f"version {ruleset.version} is older"
            )
        self.texts.update_one(
            {"_id": ruleset.id},
            {
                "$set": {
                    "id": ruleset.id,
                    "version": ruleset.version,
                    "text": ruleset.source,
                    "loaded_at": clock.now(),
                }
            },
            upsert=True,
        )

    def get(self, ruleset_id: str) -> RuleSet:
        stored = self.texts.find_one({"_id": ruleset_id})
        if stored is None:
            stored = self.install_bundled_one(ruleset_id)
        key = (stored["id"], stored["version"])
        if key not in self._parsed:
            self._parsed[key] = parse_ruleset(stored["text"])
        return self._parsed[key]

    def install_bundled_one(self, ruleset_id: str) -> dict[str, Any]:
        """A rule set shipped in the repository, stored on first use (the service may be asked
        before its start-up has installed them)."""
        path = BUNDLED_RULESETS / f"{ruleset_id}.yaml"
        if not path.exists():
            raise KeyError(f"no rule set {ruleset_id!r} is loaded")
        with suppress(DuplicateKeyError):
            self.store(parse_ruleset(path.read_text(encoding="utf-8")))
        return self.texts.find_one({"_id": ruleset_id})

    def listing(self) -> list[dict[str, Any]]:
        return list(self.texts.find({}, {"_id": False, "text": False}).sort("id", ASCENDING))

    def active_map(self, fresh: bool = False) -> dict[str, str]:
        loaded_at, active = self._active
        if fresh or time.monotonic() - loaded_at > ACTIVE_CACHE_SECONDS:
            document = self.settings.find_one({"_id": "active_rulesets"}) or {}
            active = document.get("by_region", {})
            self._active = (time.monotonic(), active)
        return active

    def set_active(self, ruleset: RuleSet) -> None:
        active = {**self.active_map(fresh=True), **{r: ruleset.id for r in ruleset.regions}}
        self.settings.update_one(
            {"_id": "active_rulesets"}, {"$set": {"by_region": active}}, upsert=True
        )
        self._active = (time.monotonic(), active)

    def for_region(
        self, region_code: str | None, default_id: str, candidate: RuleSet | None = None
    ) -> RuleSet:
        """The active rule set with the longest region prefix matching the firm's code (as if
        `candidate` were active too, for simulations)."""
        active = dict(self.active_map())
        if candidate is not None:
            active.update({region: candidate.id for region in candidate.regions})
        matches = [prefix for prefix in active if region_code and region_code.startswith(prefix)]
        chosen = active[max(matches, key=len)] if matches else default_id
        return candidate if candidate is not None and chosen == candidate.id else self.get(chosen)


class TierStore(RepositoryProvider):
    repository_class = Tiers


class RuleSetStore(RepositoryProvider):
    repository_class = RuleSets

    def start(self) -> None:
        super().start()
        self.repository.install_bundled(
            self.container.config.get("TIERING_DEFAULT_RULESET", "jl-2025")
        )
