"""tiering's storage and batch re-evaluation on the real database, without the service."""

from datetime import UTC, datetime, timedelta

import pytest
from pymongo import MongoClient

from services.tiering import handlers, views
from services.tiering.decisions import decide
from services.tiering.rules.ruleset import parse_ruleset
from services.tiering.storage import BUNDLED_RULESETS, RuleSets, Tiers
from shared.batches import Batch
from tests.support.events import jilin_uscc
from tests.support.snapshots import firm, revenue_series

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 1, tzinfo=UTC)
GROWING = revenue_series(2e7, 2.3e7, 2.7e7, 3.2e7)  # about 17% a year: no gazelle at 20%
GAZELLE = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)  # exactly 20% a year
LARGER_GAZELLE = revenue_series(3e7, 3.6e7, 4.32e7, 5.184e7)  # the same growth, other checks


@pytest.fixture
def stores(servers, mongo_database):
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        db = client[mongo_database]
        tiers, rulesets = Tiers(db), RuleSets(db)
        tiers.ensure_indexes()
        rulesets.install_defaults("jl-2025")
        yield tiers, rulesets


def snapshot(code, version=1, revenues=GROWING):
    return firm(founded="2012-01-01", reports=revenues) | {"uscc": code, "version": version}


def on_snapshots(tiers, rulesets, snapshots, announce=lambda changes: None):
    """One batch through tiering's use case; every snapshot must be handled."""
    batch = Batch(snapshots)
    handlers.classify_snapshots(tiers, rulesets, batch, "jl-2025", announce)
    assert batch.failures == {}


def lower_gazelle_bar(rulesets):
    """jl-2025 version 2, with the gazelle's growth bar at 15%: GROWING firms become gazelles."""
    text = (BUNDLED_RULESETS / "jl-2025.yaml").read_text(encoding="utf-8")
    lower_bar = text.replace("\nversion: 1\n", "\nversion: 2\n").replace(
        "op: ge, value: 0.20}", "op: ge, value: 0.15}"
    )
    rulesets.store(parse_ruleset(lower_bar))
    rulesets.set_active(rulesets.get("jl-2025", fresh=True))


def test_an_older_snapshot_never_replaces_a_newer_one(stores):
    tiers, rulesets = stores
    ruleset, code = rulesets.get("jl-2025"), jilin_uscc()
    newer, _ = decide(None, ruleset, snapshot(code, version=3), NOW)
    on_snapshots(tiers, rulesets, [snapshot(code, version=3)])
    on_snapshots(tiers, rulesets, [snapshot(code, version=2)])
    on_snapshots(tiers, rulesets, [snapshot(code, version=1), snapshot(code, version=2)])
    stored = tiers.get(code)
    assert stored["version"] == 3 and stored["snapshot"]["version"] == 3
    assert stored["summary"] == newer["summary"] and stored["watch"] == newer["watch"]


def test_in_one_batch_the_newest_snapshot_of_a_firm_decides(stores):
    tiers, rulesets = stores
    code = jilin_uscc()
    gazelle = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)
    announced = []
    on_snapshots(
        tiers,
        rulesets,
        [snapshot(code, 2, gazelle), snapshot(code, 1), snapshot(code, 3, gazelle)],
        announced.extend,
    )
    assert tiers.get(code)["version"] == 3
    assert [(c["seq"], c["to"]) for c in announced] == [(1, "gazelle")]


def test_re_evaluation_in_batches_moves_each_firm_once_and_announces_in_order(stores):
    """More firms than one bulk command holds (FerretDB hangs on >100 updates in one), in
    batches smaller than the province so that writing overlaps evaluating."""
    tiers, rulesets = stores
    codes = sorted(jilin_uscc() for _ in range(130))
    on_snapshots(tiers, rulesets, [snapshot(code) for code in codes])
    assert tiers.counts(None) == {"none": 130}

    lower_gazelle_bar(rulesets)
    announced = []
    report = handlers.reevaluate(tiers, rulesets, "jl-2025", announced.extend, batch_size=40)

    assert report == {"firms": 130, "changed": 130}
    assert sorted(c["uscc"] for c in announced) == codes
    assert {(c["from"], c["to"], c["seq"]) for c in announced} == {("none", "gazelle", 1)}
    assert tiers.counts(None) == {"gazelle": 130}
    assert tiers.transitions() == {"none→gazelle": 130}
    assert all(tiers.get(code)["announced_seq"] == 1 for code in codes)

    again = handlers.reevaluate(tiers, rulesets, "jl-2025", announced.extend, batch_size=40)
    assert again == {"firms": 130, "changed": 0} and len(announced) == 130


def test_a_re_evaluation_does_not_set_back_a_firm_with_a_newer_snapshot(stores):
    """A snapshot stored between a re-evaluation's read of a firm and its write wins: neither
    the firm's record nor its tier index copy goes back to the re-evaluated decision, and the
    move decided there is not among the moves stored (those to announce)."""
    tiers, rulesets = stores
    raced, calm = sorted(jilin_uscc() for _ in range(2))
    on_snapshots(tiers, rulesets, [snapshot(raced, 1), snapshot(calm, 1)])
    lower_gazelle_bar(rulesets)
    read = next(tiers.batches(10))  # what the re-evaluation read
    flat = revenue_series(2e7, 2e7, 2e7, 2e7)
    on_snapshots(tiers, rulesets, [snapshot(raced, 2, flat)])
    ruleset = rulesets.get("jl-2025")
    decided = [decide(previous, ruleset, previous["snapshot"], NOW) for previous in read]
    assert [change["to"] for _, change in decided] == ["gazelle", "gazelle"]
    pairs = [(record, previous) for (record, _), previous in zip(decided, read, strict=True)]
    stored = tiers.save_batch(pairs, [change for _, change in decided], tiers.index_copies())
    assert [change["uscc"] for change in stored] == [calm]
    assert (tiers.get(raced)["version"], tiers.get(raced)["tier"]) == (2, "none")
    assert tiers.counts(None) == {"none": 1, "gazelle": 1}


def test_a_tier_index_left_behind_by_a_crash_is_mended(stores):
    """A process killed (or a database gone) between a firm's write and its tier index's
    leaves the counts wrong: the redelivered snapshot, a newer one or a re-evaluation mends
    them, even though the firm's tier itself does not move."""
    tiers, rulesets = stores
    code = jilin_uscc()
    gazelle = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)

    def classify_as_sent(version):
        on_snapshots(tiers, rulesets, [snapshot(code, version, gazelle)])
        return tiers.counts(None)

    def left_behind():
        tiers.tier_index.replace_one({"_id": code}, {"unit": None, "tier": "none"})

    first = classify_as_sent(1)
    left_behind()
    redelivered = classify_as_sent(1)
    left_behind()
    newer = classify_as_sent(2)
    left_behind()
    handlers.reevaluate(tiers, rulesets, "jl-2025", lambda changes: None)
    assert [first, redelivered, newer, tiers.counts(None)] == [{"gazelle": 1}] * 4


def test_a_change_left_by_a_dead_attempt_is_replaced_by_the_one_announced(stores):
    """An attempt of an earlier version of tiering, which recorded a change before storing the
    firm, and died before storing it, left an entry for that seq, decided on its own snapshot; a
    newer snapshot decides that seq again, maybe otherwise: the history must hold what is
    announced."""
    tiers, rulesets = stores
    ruleset, code = rulesets.get("jl-2025"), jilin_uscc()
    gazelle = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)
    _, change = decide(None, ruleset, snapshot(code, 1, gazelle), NOW)
    tiers.add_changes([change | {"to": "eaglet", "to_label": "雏鹰", "checks": []}])  # died
    announced = []
    on_snapshots(tiers, rulesets, [snapshot(code, 2, gazelle)], announced.extend)
    stored = tiers.change(code, 1)
    assert [(c["to"], c["checks"]) for c in announced] == [("gazelle", stored["checks"])]
    assert stored["to"] == "gazelle"


def test_a_write_lost_to_another_process_leaves_the_change_that_one_announced(stores):
    """This process decided a firm's first move on its snapshot; another one (another replica)
    stored and announced that move on another snapshot between this one's read and its write.
    Decided again on what the other stored, this one moves nothing, and the history keeps the
    entry announced."""
    tiers, rulesets = stores
    other, code, theirs = Tiers(tiers.db), jilin_uscc(), []
    read = tiers.decisions.read

    def read_then_the_other_process(keys):
        found = read(keys)
        if not theirs:
            on_snapshots(other, rulesets, [snapshot(code, 1, GAZELLE)], theirs.extend)
        return found

    tiers.decisions.read = read_then_the_other_process
    ours = []
    on_snapshots(tiers, rulesets, [snapshot(code, 2, LARGER_GAZELLE)], ours.extend)
    assert (ours, [(c["seq"], c["to"]) for c in theirs]) == ([], [(1, "gazelle")])
    assert tiers.change(code, 1) == theirs[0]
    stored = tiers.get(code)
    assert (stored["version"], stored["seq"], stored["announced_seq"]) == (2, 1, 1)
    assert stored["unannounced"] == {}


def test_a_change_stored_with_its_decision_is_recorded_and_announced_after_a_crash(stores):
    """The process dies between storing a firm's decision and adding its change to the
    history: the decision holds the change (the firm's history shows it), and the redelivered
    snapshot records it, announces it and drops it from the decision."""
    tiers, rulesets = stores
    code = jilin_uscc()

    def database_gone(changes):
        raise ConnectionError("the database went away")

    tiers.add_changes = database_gone
    with pytest.raises(ConnectionError):
        on_snapshots(tiers, rulesets, [snapshot(code, 1, GAZELLE)])
    del tiers.add_changes
    assert (tiers.get(code)["seq"], tiers.change(code, 1)) == (1, None)
    assert [c["to"] for c in tiers.history_of(tiers.get(code))] == ["gazelle"]
    announced = []
    on_snapshots(tiers, rulesets, [snapshot(code, 1, GAZELLE)], announced.extend)
    assert [(c["seq"], c["to"]) for c in announced] == [(1, "gazelle")]
    assert tiers.change(code, 1) == announced[0]
    assert tiers.firms.find_one({"_id": code})["unannounced"] == {}


def test_a_re_evaluation_stores_no_move_over_one_another_stored_from_the_same_seq(stores):
    """Two re-evaluations decide the same firm's move from the same record: the second to
    write stores, records and returns (to announce) nothing, and the history keeps the first."""
    tiers, rulesets = stores
    code = jilin_uscc()
    on_snapshots(tiers, rulesets, [snapshot(code, 1)])
    lower_gazelle_bar(rulesets)
    read, ruleset = next(tiers.batches(10)), rulesets.get("jl-2025")

    def save_decided_at(now):
        decided = [decide(previous, ruleset, previous["snapshot"], now) for previous in read]
        pairs = [(record, previous) for (record, _), previous in zip(decided, read, strict=True)]
        return tiers.save_batch(pairs, [change for _, change in decided], tiers.index_copies())

    first = save_decided_at(NOW)
    assert [(c["seq"], c["to"], c["at"]) for c in first] == [(1, "gazelle", NOW.isoformat())]
    assert save_decided_at(NOW + timedelta(hours=1)) == []
    assert tiers.change(code, 1) == first[0]
    assert tiers.get(code)["unannounced"] == {"1": first[0]}


def test_a_firm_decided_under_a_replaced_version_is_explained_under_it(stores):
    """Versions of a rule set are kept: a firm the re-evaluation has not reached yet is
    explained under the version that decided it, not the one loaded since."""
    tiers, rulesets = stores
    code = jilin_uscc()
    gazelle = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)  # exactly 20% a year
    on_snapshots(tiers, rulesets, [snapshot(code, 1, gazelle)])
    text = (BUNDLED_RULESETS / "jl-2025.yaml").read_text(encoding="utf-8")
    rulesets.store(
        parse_ruleset(
            text.replace("\nversion: 1\n", "\nversion: 2\n").replace(
                "op: ge, value: 0.20}", "op: ge, value: 0.30}"
            )
        )
    )
    assert rulesets.get("jl-2025", fresh=True).version == 2
    assert rulesets.at("jl-2025", 1).version == 1
    record = tiers.get(code)
    view = views.tier_or_none(tiers, rulesets, code, "jl-2025")
    assert (view["tier"], record["ruleset_version"]) == ("gazelle", 1)
    growth = next(c for c in view["checks"] if "CAGR" in c["condition"] and c["tier"] == "gazelle")
    assert growth["passed"] and "0.2" in growth["required"]
