"""MongoDB access for nameko services: one client per container, indexes ensured at start-up."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from nameko.extensions import SharedExtension
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database

from shared.injection import Injects

URI_KEY = "MONGODB_URI"
DATABASE_KEY = "MONGODB_DATABASE"
TIMEOUT_KEY = "MONGODB_TIMEOUT_MS"
DEFAULT_URI = "mongodb://127.0.0.1:27017/"
# Bulk writes go in commands of at most BULK_CHUNK operations. Stock FerretDB 1.24 kept a SQLite
# connection open for every statement of an update command until the command ended, from a pool
# of 100, so more than ~100 updates at once (in one command or across concurrent ones) stalled
# every client; the FerretDB that scripts/stack.sh builds closes each one when its statement is
# done. Commands of 50 were the fix before that patch and cost MongoDB little.
BULK_CHUNK = 50
# `_id: {$in}` reads go in lists of at most ID_IN_LIMIT ids: the FerretDB that scripts/stack.sh
# builds answers that many from its _id index (scripts/ferretdb/id_in_pushdown.go) and reads the
# whole collection for a longer list.
ID_IN_LIMIT = 500


def connect(config: dict[str, Any]) -> MongoClient:
    timeout_ms = int(config.get(TIMEOUT_KEY, 5000))
    return MongoClient(
        config.get(URI_KEY, DEFAULT_URI),
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms * 4, 20000),
        tz_aware=True,
        appname=str(config.get("SERVICE_NAME", "tracker")),
    )


class MongoConnection(SharedExtension):
    """The container's one MongoClient and its database (named by `MONGODB_DATABASE`).

    Created on first use: nameko sets extensions up concurrently, so users may ask before
    this extension's own `setup` would have run.
    """

    _client: MongoClient | None = None

    @property
    def client(self) -> MongoClient:
        if self._client is None:
            self._client = connect(self.container.config)
        return self._client

    @property
    def db(self) -> Database:
        name = self.container.config.get(DATABASE_KEY, f"tracker_{self.container.service_name}")
        return self.client[name]

    def ping(self) -> None:
        self.client.admin.command("ping")

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    kill = stop


class Repository:
    """Base of the storage classes: a database handle and the indexes the class needs.

    Documents looked up one at a time on a hot path use their natural key as `_id` and are
    found by it: MongoDB indexes `_id` always, and the local FerretDB (SQLite) uses an index
    for `_id` and for nothing else (scripts/stack.sh), so any other lookup is a full scan there.
    """

    def __init__(self, db: Database):
        self.db = db

    def ensure_indexes(self) -> None:
        """Create the indexes this repository relies on (idempotent)."""


def bulk_write(collection: Collection, operations: list[Any], chunk: int = BULK_CHUNK) -> int:
    """Unordered bulk write in commands of `chunk`; the number of documents matched."""
    matched = 0
    for start in range(0, len(operations), chunk):
        result = collection.bulk_write(operations[start : start + chunk], ordered=False)
        matched += result.matched_count
    return matched


def id_chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """These ids, sorted and without repeats, in lists of at most ID_IN_LIMIT."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), ID_IN_LIMIT):
        yield wanted[start : start + ID_IN_LIMIT]


def find_by_ids(
    collection: Collection,
    ids: Iterable[str],
    where: dict[str, Any] | None = None,
    fields: dict[str, bool] | None = None,
) -> Iterator[dict[str, Any]]:
    """The documents with these `_id`s that match `where`, in reads of at most ID_IN_LIMIT."""
    for chunk in id_chunks(ids):
        yield from collection.find({"_id": {"$in": chunk}, **(where or {})}, fields)


def pack(value: Any) -> str:
    """A part of a document that no query looks into, as JSON text: FerretDB (SQLite) writes a
    6 KB nested document in 3.3 ms and the same as text in 0.7 ms (measured); MongoDB does not
    mind either way."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def unpack(text: str) -> Any:
    return json.loads(text)


R = TypeVar("R", bound=Repository)


class RepositoryProvider(Injects[R]):
    """Injects a `Repository` subclass (R) bound to the container's database: subclasses derive
    from `RepositoryProvider[R]` and set `repository_class = R`."""

    connection = MongoConnection()
    repository_class: type[R]
    repository: R

    def setup(self) -> None:
        self.repository = self.repository_class(self.connection.db)

    def start(self) -> None:
        self.repository.ensure_indexes()

    def get_dependency(self, worker_ctx: Any) -> R:
        return self.repository
