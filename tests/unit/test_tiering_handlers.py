"""tiering's use cases on the in-memory fakes: which snapshots are decided, which decisions are
written and announced, what a lost write or a failed announcement leaves, and what activating
a rule set rewrites."""

import pytest

from services.tiering import handlers, views
from services.tiering.handlers import ChangedMeanwhile
from services.tiering.rules.ruleset import InvalidRuleSet, parse_ruleset
from services.tiering.storage import BUNDLED_RULESETS
from shared.batches import Batch
from shared.versioned import ATTEMPTS, WRITE_ID
from tests.support.events import jilin_uscc
from tests.support.fakes.tiering import InMemoryRuleSets, InMemoryTiers
from tests.support.snapshots import firm, revenue_series

JL_2025 = (BUNDLED_RULESETS / "jl-2025.yaml").read_text(encoding="utf-8")
GAZELLE = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)  # exactly 20% a year
LARGER_GAZELLE = revenue_series(3e7, 3.6e7, 4.32e7, 5.184e7)  # the same growth, other checks
GROWING = revenue_series(2e7, 2.3e7, 2.7e7, 3.2e7)  # about 17% a year: a gazelle only at 15%
FLAT = revenue_series(2e7, 2e7, 2e7, 2e7)


def snapshot(code, version=1, revenues=GROWING):
    return firm(founded="2012-01-01", reports=revenues) | {"uscc": code, "version": version}


def lower_growth_bar(ruleset_id="jl-2025", version=2):
    """jl-2025 with the gazelle's growth bar at 15%: GROWING firms become gazelles."""
    return parse_ruleset(
        JL_2025.replace("\nversion: 1\n", f"\nversion: {version}\n")
        .replace("\nid: jl-2025\n", f"\nid: {ruleset_id}\n")
        .replace("op: ge, value: 0.20}", "op: ge, value: 0.15}")
    )


@pytest.fixture
def tiers():
    return InMemoryTiers()


@pytest.fixture
def rulesets():
    return InMemoryRuleSets(parse_ruleset(JL_2025))


def classify(tiers, rulesets, snapshots, announce=None):
    """One batch through the use case: the changes announced, and the batch's failures."""
    announced = []
    batch = Batch(snapshots)
    handlers.classify_snapshots(tiers, rulesets, batch, "jl-2025", announce or announced.extend)
    return announced, batch.failures


def classified(tiers, rulesets, snapshots):
    announced, failures = classify(tiers, rulesets, snapshots)
    assert failures == {}
    return announced


def moves(changes):
    return [(c["uscc"], c["seq"], c["from"], c["to"]) for c in changes]


def dispatch_fails(changes):
    raise ConnectionError("the broker went away")


def database_fails(changes):
    raise ConnectionError("the database went away")


def test_a_move_is_stored_recorded_indexed_announced_and_marked_announced(tiers, rulesets):
    code = jilin_uscc()
    announced = classified(tiers, rulesets, [snapshot(code, 1, GAZELLE)])
    assert moves(announced) == [(code, 1, "none", "gazelle")]
    assert tiers.change(code, 1) == announced[0]
    stored = tiers.stored(code)
    assert (stored["tier"], stored["seq"], stored["announced_seq"]) == ("gazelle", 1, 1)
    assert tiers.tier_index[code] == {"unit": "220100", "tier": "gazelle"}


def test_a_first_decision_without_a_move_is_stored_and_announces_nothing(tiers, rulesets):
    code = jilin_uscc()
    assert classified(tiers, rulesets, [snapshot(code, 1, GROWING)]) == []
    assert (tiers.stored(code)["tier"], tiers.stored(code)["seq"]) == ("none", 0)
    assert tiers.tier_index[code]["tier"] == "none"


def test_an_older_snapshot_writes_and_announces_nothing(tiers, rulesets):
    code = jilin_uscc()
    classified(tiers, rulesets, [snapshot(code, 3, GROWING)])
    written = tiers.stored(code)
    assert classified(tiers, rulesets, [snapshot(code, 2, GAZELLE)]) == []
    assert tiers.stored(code) == written


def test_in_a_batch_the_newest_snapshot_of_a_firm_decides(tiers, rulesets):
    code = jilin_uscc()
    batch = [snapshot(code, 2, FLAT), snapshot(code, 3, GAZELLE), snapshot(code, 1, FLAT)]
    assert moves(classified(tiers, rulesets, batch)) == [(code, 1, "none", "gazelle")]
    assert tiers.stored(code)["version"] == 3


def test_a_tier_change_is_announced_once_and_an_unchanged_decision_not_rewritten(tiers, rulesets):
    code = jilin_uscc()
    assert len(classified(tiers, rulesets, [snapshot(code, 1, GAZELLE)])) == 1
    written = tiers.stored(code)
    assert classified(tiers, rulesets, [snapshot(code, 1, GAZELLE)]) == []  # redelivered
    assert tiers.stored(code) == written
    assert classified(tiers, rulesets, [snapshot(code, 2, LARGER_GAZELLE)]) == []  # no move
    assert tiers.stored(code)["version"] == 2


def test_a_redelivered_snapshot_announces_the_change_whose_dispatch_failed(tiers, rulesets):
    code = jilin_uscc()
    with pytest.raises(ConnectionError):
        classify(tiers, rulesets, [snapshot(code, 1, GAZELLE)], dispatch_fails)
    assert (tiers.stored(code)["seq"], tiers.stored(code)["announced_seq"]) == (1, 0)
    assert classified(tiers, rulesets, [snapshot(code, 1, GAZELLE)]) == [tiers.change(code, 1)]
    assert tiers.stored(code)["announced_seq"] == 1
    assert classified(tiers, rulesets, [snapshot(code, 1, GAZELLE)]) == []


def test_a_newer_snapshot_announces_an_unannounced_change_before_its_own(tiers, rulesets):
    code = jilin_uscc()
    with pytest.raises(ConnectionError):
        classify(tiers, rulesets, [snapshot(code, 1, GAZELLE)], dispatch_fails)
    announced = classified(tiers, rulesets, [snapshot(code, 2, FLAT)])
    assert moves(announced) == [(code, 1, "none", "gazelle"), (code, 2, "gazelle", "none")]


def test_a_change_is_stored_with_its_firms_decision_and_recorded_after_a_crash(tiers, rulesets):
    """A decision stored without its change could never announce it: the change is stored in
    the same write, so when the process dies before adding it to the history, the redelivered
    snapshot adds it and announces it."""
    code = jilin_uscc()
    tiers.add_changes = database_fails
    with pytest.raises(ConnectionError):
        classify(tiers, rulesets, [snapshot(code, 1, GAZELLE)])
    del tiers.add_changes
    assert (tiers.stored(code)["seq"], tiers.change(code, 1)) == (1, None)
    announced = classified(tiers, rulesets, [snapshot(code, 1, GAZELLE)])
    assert moves(announced) == [(code, 1, "none", "gazelle")]
    assert tiers.change(code, 1) == announced[0]
    assert (tiers.stored(code)["announced_seq"], tiers.stored(code)["unannounced"]) == (1, {})


def test_a_newer_snapshot_records_and_announces_a_change_a_crash_left_unrecorded(tiers, rulesets):
    code = jilin_uscc()
    tiers.add_changes = database_fails
    with pytest.raises(ConnectionError):
        classify(tiers, rulesets, [snapshot(code, 1, GAZELLE)])
    del tiers.add_changes
    announced = classified(tiers, rulesets, [snapshot(code, 2, FLAT)])
    assert moves(announced) == [(code, 1, "none", "gazelle"), (code, 2, "gazelle", "none")]
    assert [tiers.change(code, seq) for seq in (1, 2)] == announced


def test_a_redelivered_snapshot_mends_an_index_copy_left_behind(tiers, rulesets):
    code = jilin_uscc()
    classified(tiers, rulesets, [snapshot(code, 1, GAZELLE)])
    tiers.tier_index[code] = {"unit": None, "tier": "none"}  # a crash before the index write
    classified(tiers, rulesets, [snapshot(code, 1, GAZELLE)])
    assert tiers.tier_index[code] == {"unit": "220100", "tier": "gazelle"}


def test_a_write_lost_to_another_process_is_decided_again_on_what_it_stored(tiers, rulesets):
    code = jilin_uscc()
    other = tiers.another_process()
    tiers.firms.meanwhile(lambda: classified(other, rulesets, [snapshot(code, 1, GROWING)]))
    announced = classified(tiers, rulesets, [snapshot(code, 2, GAZELLE)])
    assert moves(announced) == [(code, 1, "none", "gazelle")]
    assert (tiers.stored(code)["version"], tiers.stored(code)["tier"]) == (2, "gazelle")


def test_a_lost_write_leaves_the_change_the_other_process_announced(tiers, rulesets):
    """This batch decided the firm's first move on its own snapshot; the other process stored
    and announced that move on another one meanwhile. Decided again, this batch moves nothing
    and must leave the history entry that was announced."""
    code = jilin_uscc()
    other, theirs = tiers.another_process(), []
    tiers.firms.meanwhile(
        lambda: theirs.extend(classified(other, rulesets, [snapshot(code, 1, GAZELLE)]))
    )
    assert classified(tiers, rulesets, [snapshot(code, 2, LARGER_GAZELLE)]) == []
    assert tiers.change(code, 1) == theirs[0]


def test_a_write_that_wins_records_its_own_change_not_the_one_it_beat(tiers, rulesets):
    """The other process decided the firm's first move on its own snapshot, and this batch
    stored and announced that move on another one before the other's write: the other records
    and announces nothing, and the history holds the change announced."""
    code = jilin_uscc()
    other, ours = tiers.another_process(), []

    def this_batch_first(keys):
        other.firms.another_writer = None
        ours.extend(classified(tiers, rulesets, [snapshot(code, 2, LARGER_GAZELLE)]))

    other.firms.another_writer = this_batch_first
    assert classified(other, rulesets, [snapshot(code, 1, GAZELLE)]) == []
    assert moves(ours) == [(code, 1, "none", "gazelle")]
    assert tiers.change(code, 1) == ours[0]
    assert tiers.stored(code)["version"] == 2


def test_a_firm_that_keeps_losing_fails_and_only_the_others_are_announced(tiers, rulesets):
    busy, calm = jilin_uscc(), jilin_uscc()
    other = tiers.another_process()
    for version in range(1, 1 + ATTEMPTS):
        tiers.firms.meanwhile(
            lambda v=version: classified(other, rulesets, [snapshot(busy, v, GROWING)])
        )
    batch = [snapshot(busy, 9, GAZELLE), snapshot(calm, 1, GAZELLE), snapshot(busy, 8, GAZELLE)]
    announced, failures = classify(tiers, rulesets, batch)
    assert moves(announced) == [(calm, 1, "none", "gazelle")]
    assert sorted(failures) == [0, 2]
    assert all(isinstance(exc, ChangedMeanwhile) for exc in failures.values())
    assert (tiers.stored(busy)["version"], tiers.tier_index[busy]["tier"]) == (ATTEMPTS, "none")


@pytest.fixture
def province(tiers, rulesets):
    """Two growing firms and a flat one, none of them a tier under jl-2025 version 1."""
    growing = [jilin_uscc(), jilin_uscc()]
    flat = jilin_uscc()
    snapshots = [snapshot(code, 1, GROWING) for code in growing] + [snapshot(flat, 1, FLAT)]
    classified(tiers, rulesets, snapshots)
    return growing, flat


def tokens(tiers):
    return {code: document[WRITE_ID] for code, document in tiers.firms.documents.items()}


def test_reevaluation_rewrites_and_announces_only_the_firms_that_move(tiers, rulesets, province):
    growing, flat = province
    rulesets.store(lower_growth_bar())
    before, announced = tokens(tiers), []
    report = handlers.reevaluate(tiers, rulesets, "jl-2025", announced.extend, batch_size=2)
    assert report == {"firms": 3, "changed": 2}
    assert sorted(moves(announced)) == sorted((c, 1, "none", "gazelle") for c in growing)
    after = tokens(tiers)
    assert after[flat] == before[flat]
    assert all(after[code] != before[code] for code in growing)
    assert all(tiers.stored(code)["announced_seq"] == 1 for code in growing)
    assert [tiers.tier_index[code]["tier"] for code in (*growing, flat)] == [
        "gazelle",
        "gazelle",
        "none",
    ]


def test_a_second_reevaluation_rewrites_and_announces_nothing(tiers, rulesets, province):
    rulesets.store(lower_growth_bar())
    handlers.reevaluate(tiers, rulesets, "jl-2025", lambda changes: None)
    before, announced = tokens(tiers), []
    report = handlers.reevaluate(tiers, rulesets, "jl-2025", announced.extend)
    assert (report, announced, tokens(tiers)) == ({"firms": 3, "changed": 0}, [], before)


def newer_snapshot_while_saving(tiers, rulesets, code, revenues):
    """Another process stores a newer snapshot of the firm between the re-evaluation's read of
    it and its write."""
    other, save_batch = tiers.another_process(), tiers.save_batch

    def newer_snapshot_first(pairs, changes, held):
        classified(other, rulesets, [snapshot(code, 2, revenues)])
        return save_batch(pairs, changes, held)

    tiers.save_batch = newer_snapshot_first


def test_reevaluation_does_not_set_back_a_firm_with_a_newer_snapshot(tiers, rulesets, province):
    """The newer snapshot wins: neither the firm's record nor its index copy goes back to the
    re-evaluated decision."""
    [code, _], _ = province
    rulesets.store(lower_growth_bar())
    newer_snapshot_while_saving(tiers, rulesets, code, FLAT)
    handlers.reevaluate(tiers, rulesets, "jl-2025", lambda changes: None)
    stored = tiers.stored(code)
    assert (stored["version"], stored["tier"]) == (2, "none")
    assert tiers.tier_index[code]["tier"] == "none"


def test_reevaluation_announces_no_move_it_did_not_store(tiers, rulesets, province):
    """The move decided on the older snapshot was not stored: announcing it (and marking it
    announced) would tell the unit of a tier the firm does not hold, and hide its next real
    move, whose seq would count as announced already."""
    [code, other_growing], _ = province
    rulesets.store(lower_growth_bar())
    newer_snapshot_while_saving(tiers, rulesets, code, FLAT)
    announced = []
    report = handlers.reevaluate(tiers, rulesets, "jl-2025", announced.extend)
    assert [c["uscc"] for c in announced] == [other_growing]
    assert report == {"firms": 3, "changed": 1}
    assert tiers.stored(code)["announced_seq"] == 0
    next_move = classified(tiers, rulesets, [snapshot(code, 3, GAZELLE)])
    assert moves(next_move) == [(code, 1, "none", "gazelle")]


def test_a_reevaluation_stores_no_move_over_the_one_another_stored(tiers, rulesets, province):
    """Two re-evaluations decide the same moves; the second to write finds them stored: it
    neither stores, records nor announces its own, and the history holds those announced."""
    growing, _ = province
    rulesets.store(lower_growth_bar())
    other, save_batch, theirs = tiers.another_process(), tiers.save_batch, []

    def the_other_first(pairs, changes, held):
        handlers.reevaluate(other, rulesets, "jl-2025", theirs.extend)
        return save_batch(pairs, changes, held)

    tiers.save_batch = the_other_first
    ours = []
    assert handlers.reevaluate(tiers, rulesets, "jl-2025", ours.extend) == {
        "firms": 3,
        "changed": 0,
    }
    assert ours == [] and sorted(c["uscc"] for c in theirs) == sorted(growing)
    assert all(tiers.change(c["uscc"], 1) == c for c in theirs)


def test_activating_a_rule_set_makes_it_decide_every_firm(tiers, rulesets, province):
    growing, _ = province
    rulesets.store(lower_growth_bar("jl-2026", version=1))
    announced = []
    report = handlers.activate_ruleset(tiers, rulesets, "jl-2026", "jl-2025", announced.extend)
    assert report == {"ruleset": "jl-2026", "firms": 3, "changed": 2}
    assert sorted(c["uscc"] for c in announced) == sorted(growing)
    assert {document["ruleset"] for document in tiers.firms.documents.values()} == {"jl-2026"}


def test_a_simulation_counts_who_would_move_and_changes_nothing(tiers, rulesets, province):
    growing, _ = province
    before, index = tokens(tiers), dict(tiers.tier_index)
    found = views.simulate(tiers, rulesets, lower_growth_bar("jl-2026", version=1), "jl-2025")
    assert (found["before"], found["after"], found["moved"]) == (
        {"none": 3},
        {"gazelle": 2, "none": 1},
        2,
    )
    assert sorted(m["uscc"] for m in found["movers"]) == sorted(growing)
    assert (tokens(tiers), tiers.tier_index, rulesets.active) == (before, index, {"22": "jl-2025"})


def test_a_rule_set_that_does_not_parse_is_not_stored(rulesets):
    with pytest.raises(InvalidRuleSet):
        handlers.load_ruleset(rulesets, JL_2025.replace("measure: growth", "measure: growht"))
    assert rulesets.get("jl-2025").version == 1
    assert handlers.load_ruleset(rulesets, lower_growth_bar().source).version == 2
    assert rulesets.get("jl-2025").version == 2 and rulesets.active == {"22": "jl-2025"}
