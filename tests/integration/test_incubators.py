"""incubators against the real broker and database: the HTTP API, the life cycle, findings."""

import json
import random

import pytest
import requests
from cloudevents.core.bindings.http import to_binary_event, to_structured_event
from cloudevents.core.v1.event import CloudEvent as SdkEvent
from cloudevents.v1.conversion import to_binary as legacy_to_binary
from cloudevents.v1.conversion import to_structured as legacy_to_structured
from cloudevents.v1.http import CloudEvent as LegacyEvent
from nameko.standalone.rpc import ClusterRpcProxy
from pymongo import MongoClient

from services.incubators import handlers
from services.incubators.findings import finding
from services.incubators.rules import parse_rules
from services.incubators.schemas import EVENT_SCHEMAS
from services.incubators.service import IncubatorsService
from services.incubators.storage import BUNDLED_RULES, Incubators
from services.registry.service import RegistryService
from shared.batches import Batch
from shared.envelope import load_data, parse_envelope
from shared.ingress.topology import REJECTED_QUEUE
from tests.support.events import (
    admission,
    carrier_report,
    cloud_event,
    funding_round,
    graduation,
    incubator,
    jilin_uscc,
    registration,
)
from tests.support.keys import ADMIN_READ
from tests.support.snapshots import firm
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("admin_reads")]

A, B = "JL-INC-0001", "JL-INC-0002"
BATCH = "application/cloudevents-batch+json"
SINGLE = "application/cloudevents+json"
JSON = "application/json"


@pytest.fixture
def service(container_factory, config_for, publisher):
    config = config_for("incubators")
    container_factory(RegistryService, config_for("registry")).start()  # firm counts, facts
    container_factory(IncubatorsService, config).start()
    publisher.publish_events(
        [
            cloud_event("incubator.registered", incubator(A)),
            cloud_event(
                "incubator.registered", incubator(B, grade="national", region_code="220202")
            ),
        ]
    )
    base = f"http://{config['WEB_SERVER_ADDRESS']}"
    wait_for(
        lambda: requests.get(f"{base}/v1/incubators/{B}", headers=ADMIN_READ, timeout=5).ok,
        what="carriers",
    )
    return base, config


class CarrierKeys:
    """Incubator keys from the auth service the incubators service checks them with."""

    def __init__(self, keys):
        self.keys = keys

    def issue(self, incubator_id):
        return self.keys.issue("incubator", incubator_id)

    def revoke(self, key_id):
        return self.keys.call("revoke", key_id)


@pytest.fixture
def carrier_keys(admin_reads, keys):
    return CarrierKeys(keys)


def post(base, key, body, content_type=BATCH):
    headers = {"Content-Type": content_type}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return requests.post(f"{base}/v1/events", data=json.dumps(body), headers=headers, timeout=10)


def source(incubator_id):
    return f"/incubators/{incubator_id}"


def admit(incubator_id, code, **extra):
    return cloud_event(
        "incubator.firm_admitted",
        admission(incubator_id, code, **extra),
        source=source(incubator_id),
    )


def graduate(incubator_id, code, **extra):
    return cloud_event(
        "incubator.firm_graduated",
        graduation(incubator_id, code, **extra),
        source=source(incubator_id),
    )


def incubatees(base, incubator_id):
    body = requests.get(
        f"{base}/v1/incubators/{incubator_id}", headers=ADMIN_READ, timeout=5
    ).json()
    return {i["uscc"] for i in body["current_incubatees"]}, body


def test_authorisation_matrix(service, carrier_keys):
    base, _ = service
    key_a, key_b, revoked = carrier_keys.issue(A), carrier_keys.issue(B), carrier_keys.issue(A)
    carrier_keys.revoke(revoked.split(".")[0].removeprefix("tk_"))
    theirs = jilin_uscc()
    assert post(base, key_b, [admit(B, theirs)]).status_code == 202
    wait_for(lambda: theirs in incubatees(base, B)[0], what="B's admission processed")

    mine = jilin_uscc()
    cases = [
        (None, [admit(A, mine)], 401),
        ("tk_000000000000.wrong", [admit(A, mine)], 401),
        ("not-even-a-key", [admit(A, mine)], 401),
        (revoked, [admit(A, mine)], 401),
        (key_a, [admit(B, mine)], 403),  # another incubator's id
        (key_a, [graduate(A, theirs)], 403),  # a firm A does not incubate
        (key_a, [admit(A, mine), graduate(A, mine)], 202),  # admission first, in one batch
    ]
    for key, body, status in cases:
        response = post(base, key, body)
        assert response.status_code == status, (key, body[0]["type"], response.text)
        if status == 401:
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert response.headers["Content-Type"].startswith("application/problem+json")
        if status == 403:
            assert response.json()["errors"]["0"]


def test_a_batch_with_any_invalid_event_is_refused_whole(service, carrier_keys):
    base, config = service
    key = carrier_keys.issue(A)
    good, code = admit(A, jilin_uscc()), jilin_uscc()
    bad = admit(A, code, admitted_on="2999-01-01")
    worse = {"specversion": "1.0", "type": "incubator.firm_admitted"}
    response = post(base, key, [good, bad, worse])
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"1", "2"} and "data.admitted_on" in errors["1"]
    assert {"id", "source", "time", "data"} <= set(errors["2"])
    assert post(base, key, good, "text/plain").status_code == 415
    broken = requests.post(
        f"{base}/v1/events",
        data="{nope",
        timeout=5,
        headers={"Authorization": f"Bearer {key}", "Content-Type": SINGLE},
    )
    assert broken.status_code == 400
    with MongoClient(config["MONGODB_URI"]) as client:
        assert client[config["MONGODB_DATABASE"]]["accepted_events"].count_documents({}) == 0


def sdk_event(attributes, data, api):
    """An event made and encoded by the official SDK, as an outside client does: its 2.x API
    (`cloudevents.core`), or the 1.x one that 2.x keeps as `cloudevents.v1`."""
    if api == "core":
        return SdkEvent(attributes, data)
    return LegacyEvent(attributes, data)


def send(base, key, headers, body):
    authorised = {**headers, **({"Authorization": f"Bearer {key}"} if key else {})}
    return requests.post(f"{base}/v1/events", data=body, headers=authorised, timeout=10)


def core(encode):
    def encoded(event):
        message = encode(event)
        return message.headers, message.body

    return encoded


SDK_CLIENTS = {  # (API, encoder, attributes beyond type/source/id/time)
    "binary, SDK 2.x default": ("core", core(to_binary_event), {}),
    "binary, application/json": ("core", core(to_binary_event), {"datacontenttype": JSON}),
    "structured": ("core", core(to_structured_event), {}),
    "binary, SDK 1.x to_binary": ("v1", legacy_to_binary, {}),
    "structured, SDK 1.x to_structured": ("v1", legacy_to_structured, {}),
}


@pytest.mark.parametrize("client", SDK_CLIENTS, ids=list(SDK_CLIENTS))
def test_the_official_sdk_posts_events_in_either_content_mode(service, carrier_keys, client):
    """Binary mode (attributes in ce-* headers, percent-encoded; the data as the body) and
    structured mode, as the SDK encodes them, get the same answers and the same effect."""
    base, _ = service
    api, encode, extra = SDK_CLIENTS[client]
    key, code = carrier_keys.issue(A), jilin_uscc()
    event_id = f"入孵 {code}" if api == "core" else f"admit-{code}"  # core percent-encodes
    attributes = {"type": "incubator.firm_admitted", "source": source(A), "id": event_id}
    headers, body = encode(sdk_event(attributes | extra, admission(A, code), api))
    first = send(base, key, headers, body)
    assert first.status_code == 202, first.text
    assert first.json() == {"accepted": [event_id], "duplicates": []}
    assert send(base, key, headers, body).json() == {"accepted": [], "duplicates": [event_id]}
    wait_for(lambda: code in incubatees(base, A)[0], what="the admission applied")

    about_b = {"type": "incubator.firm_graduated", "source": source(B)} | extra
    theirs = sdk_event(about_b, graduation(B, code), api)
    refused = send(base, key, *encode(theirs))
    assert refused.status_code == 403 and refused.json()["errors"]["0"]
    assert send(base, None, headers, body).status_code == 401


def test_binary_mode_names_the_header_or_field_at_fault(service, carrier_keys):
    base, config = service
    key, code = carrier_keys.issue(A), jilin_uscc()
    attributes = {"type": "incubator.firm_admitted", "source": source(A)}
    headers, body = core(to_binary_event)(SdkEvent(attributes, admission(A, code)))
    without_id = {name: value for name, value in headers.items() if name != "ce-id"}
    bad_data = core(to_binary_event)(SdkEvent(attributes, admission(A, code[:-1] + "Z")))
    cases = [  # headers, body, status, the header or field its errors name
        (without_id, body, 422, "ce-id"),
        (headers | {"ce-time": "yesterday"}, body, 422, "ce-time"),
        (headers | {"ce-type": "incubator.firm_adopted"}, body, 422, "ce-type"),
        (*bad_data, 422, "data.uscc"),
        (headers | {"ce-source": "%C0%A0"}, body, 400, "ce-source"),  # overlong UTF-8
        (headers | {"ce-datacontenttype": JSON}, body, 400, "ce-datacontenttype"),
        (headers | {"Content-Type": JSON}, b"{nope", 400, "body"),
        (headers | {"Content-Type": JSON}, b"", 422, "data"),
        (headers | {"Content-Type": "text/plain"}, b"admitted", 415, None),
        (headers | {"Content-Type": "application/xml"}, body, 415, None),
        ({"Content-Type": "application/cloudevents+xml"}, body, 415, None),
    ]
    for sent, content, status, named in cases:
        response = send(base, key, sent, content)
        assert response.status_code == status, (sent, content, response.text)
        assert response.headers["Content-Type"].startswith("application/problem+json")
        errors = response.json().get("errors", {})
        if named:
            assert named in errors.get("0", errors), (named, errors)
    with MongoClient(config["MONGODB_URI"]) as client:
        assert client[config["MONGODB_DATABASE"]]["accepted_events"].count_documents({}) == 0


def test_from_http_through_the_broker_to_state_and_counts(service, carrier_keys):
    base, _ = service
    key = carrier_keys.issue(A)
    firms = [jilin_uscc() for _ in range(3)]
    first = post(base, key, [admit(A, c) for c in firms])
    assert first.status_code == 202 and len(first.json()["accepted"]) == 3
    wait_for(lambda: incubatees(base, A)[0] == set(firms), what="three incubatees")
    single = graduate(A, firms[0])
    assert post(base, key, single, SINGLE).json() == {"accepted": [single["id"]], "duplicates": []}
    assert post(base, key, single, SINGLE).json() == {"accepted": [], "duplicates": [single["id"]]}
    _, body = wait_for(lambda: (r := incubatees(base, A))[0] == set(firms[1:]) and r)
    assert body["counts"] == {"current": 2, "cumulative": 3, "graduated": 1, "exited": 0}
    progress = requests.get(f"{base}/v1/progress", headers=ADMIN_READ, timeout=5).json()
    assert progress["carriers"] == {"actual": 2, "target": 350, "ratio": round(2 / 350, 4)}
    assert progress["incubated_firms"]["actual"] == 3
    assert progress["by_unit"]["220100"]["graduated"] == 1


def test_what_cannot_be_true_is_rejected_with_a_reason(service, publisher, queues):
    """An admission before the firm was founded (the registry knows it, though incubators never
    heard of the firm) is refused; two carriers admitting a firm on one day is a finding."""
    base, config = service
    twice, young = jilin_uscc(), jilin_uscc()
    publisher.publish_events(
        [cloud_event("enterprise.registered", registration(young, founded_on="2021-01-01"))]
    )
    publisher.publish_events([admit(A, twice, admitted_on="2024-03-01")])
    wait_for(lambda: twice in incubatees(base, A)[0])
    with ClusterRpcProxy(config, timeout=30) as cluster:
        wait_for(
            lambda: cluster.registry.founding_dates([young]) == {young: "2021-01-01"},
            what="the registry to know when the young firm was founded",
        )
    publisher.publish_events(
        [admit(B, twice, admitted_on="2024-03-01"), admit(B, young, admitted_on="2020-06-01")]
    )
    rejected = []
    wait_for(
        lambda: rejected.extend(queues.drain(REJECTED_QUEUE)) or len(rejected) == 1,
        what="the rejection",
    )
    reason = json.loads(rejected[0].headers["x-rejection-reason"])["data.admitted_on"][0]
    assert "2020-06-01 is before the firm was founded, on 2021-01-01" in reason
    wait_for(lambda: twice in incubatees(base, B)[0], what="the same-day admission at B, kept")

    def overlaps(body):
        return [f["uscc"] for f in body["findings"] if f["kind"] == "incubations_overlap"]

    _, a = wait_for(lambda: (r := incubatees(base, A)) and overlaps(r[1]) and r, what="a finding")
    assert overlaps(a) == [twice] and young not in incubatees(base, B)[0]


def test_life_cycles_across_carriers_end_the_same_in_any_order(service, publisher):
    """The issue's example: admitted at A, graduated from A, admitted at B; sent in reverse.
    And an end that arrives before its admission is held, then paired."""
    base, _ = service
    code = jilin_uscc()
    publisher.publish_events(
        [
            admit(B, code, admitted_on="2023-06-01"),
            graduate(A, code, graduated_on="2023-03-01"),
            admit(A, code, admitted_on="2022-01-10"),
        ]
    )

    def settled():
        """A's incubation admitted and graduated, and the finding its early end raised
        withdrawn (the life cycle and the findings are stored one after the other)."""
        found = incubatees(base, A)
        if not found or found[1]["counts"]["graduated"] != 1:
            return None
        open_findings = [f for f in found[1]["findings"] if f["status"] == "open"]
        return None if open_findings else found

    _, a = wait_for(settled, what="A's incubation graduated, with no finding open")
    assert a["counts"] == {"current": 0, "cumulative": 1, "graduated": 1, "exited": 0}
    assert code in incubatees(base, B)[0]


def test_findings_are_stored_and_announced(service, publisher, event_collector):
    base, config = service
    announced = event_collector("incubators", "incubator_finding")
    late, poor = jilin_uscc(), jilin_uscc()
    publisher.publish_events(  # the registry knows `late` before incubators hears of it
        [cloud_event("enterprise.registered", registration(late, founded_on="2020-01-01"))]
    )
    publisher.publish_events(
        [
            admit(A, late, admitted_on="2023-06-01"),  # 41 months after founding
            admit(A, poor, admitted_on="2021-01-01"),
            cloud_event("incubator.annual_report", carrier_report(B, fund=1_000_000)),
        ]
    )
    wait_for(lambda: len(incubatees(base, A)[0]) == 2)
    publisher.publish_events([graduate(A, poor, basis="investment")])  # no funding known yet
    publisher.publish_events(  # the registry hears of `poor` after its graduation
        [cloud_event("enterprise.registered", registration(poor, founded_on="2020-06-01"))]
    )

    def findings():
        return incubatees(base, A)[1]["findings"] + incubatees(base, B)[1]["findings"]

    def kinds():
        return sorted(f["kind"] for f in findings())

    wait_for(
        lambda: "graduation_unsupported" in kinds() and "late_admission" in kinds(),
        what="late admission and unsupported graduation",
    )
    assert kinds().count("national_threshold") >= 2  # fund, incubatees, graduates, ...

    with ClusterRpcProxy(config, timeout=30) as cluster:
        assert cluster.incubators.sweep("2026-01-01") == 0  # 2023-06-01 + 48 months not yet
        assert cluster.incubators.sweep("2027-06-02") == 1
        assert cluster.incubators.sweep("2027-06-02") == 0  # found once
    assert "incubation_overdue" in kinds()
    # each finding's current state announced (a finding may have been raised and withdrawn on
    # the way: the order of the registry's facts and the carrier's events is free)
    states = {f"{f['finding_id']}#{f['revision']}" for f in findings()}
    sent = []
    wait_for(
        lambda: sent.extend(announced()) or states <= {s["event_id"] for s in sent},
        what="every finding's state announced",
    )
    assert {s["finding_id"] for s in sent} == {f["finding_id"] for f in findings()}
    assert {f["unit"] for f in sent} == {"220100", "220200"}


def test_a_report_that_came_before_its_carrier_is_checked_when_the_carrier_registers(
    service, publisher
):
    base, config = service
    late = "JL-INC-0009"
    publisher.publish_events([cloud_event("incubator.annual_report", carrier_report(late))])
    with MongoClient(config["MONGODB_URI"]) as client:
        reports = client[config["MONGODB_DATABASE"]]["carrier_reports"]
        wait_for(lambda: reports.count_documents({"incubator_id": late}), what="the report")
    assert not requests.get(f"{base}/v1/incubators/{late}", headers=ADMIN_READ, timeout=5).ok
    publisher.publish_events(
        [cloud_event("incubator.registered", incubator(late, grade="national"))]
    )
    body = wait_for(
        lambda: (
            (r := requests.get(f"{base}/v1/incubators/{late}", headers=ADMIN_READ, timeout=5)).ok
            and r.json()["findings"]
            and r.json()
        ),
        what="the report checked once its carrier is known",
    )
    assert {f["kind"] for f in body["findings"]} == {"national_threshold"}
    assert {f["unit"] for f in body["findings"]} == {"220100"}


RULES = parse_rules((BUNDLED_RULES / "jl-incubators-2025.yaml").read_text(encoding="utf-8"))


def test_of_concurrent_snapshots_of_a_firm_the_newest_is_kept(servers, mongo_database):
    from eventlet.greenpool import GreenPool

    codes = [jilin_uscc() for _ in range(5)]
    snapshots = [
        firm(years=range(2020, 2020 + version // 5 + 1)) | {"uscc": code, "version": version}
        for code in codes
        for version in range(1, 21)
    ]
    random.Random(7).shuffle(snapshots)
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        for code in codes:  # only the facts of firms it incubates are kept
            admitted = Batch([life_cycle_event(admission(A, code, "2024-01-01"))])
            handlers.apply_life_cycles(store, admitted, list(admitted), lambda usccs: {})
        batches = [Batch(snapshots[n : n + 3]) for n in range(0, len(snapshots), 3)]
        list(GreenPool(20).imap(lambda b: handlers.enterprise_updated(store, RULES, b), batches))
        assert all(batch.failures == {} for batch in batches)
        stored = [store.firm(code) for code in codes]
    assert [(s["version"], s["annual_reports"][-1]["year"]) for s in stored] == [(20, 2024)] * 5


def life_cycle_event(data, event_type="incubator.firm_admitted"):
    return load_data(parse_envelope(cloud_event(event_type, data)), EVENT_SCHEMAS[event_type]())


def test_a_finding_is_offered_again_until_it_is_announced(servers, mongo_database):
    """A handler that stored a finding but died before dispatching it (a kill, a broker
    restart) finds it again on the redelivered event, instead of never announcing it."""
    found = finding("late_admission:x", "late_admission", A, None, "admitted late")
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        store.put_carrier(incubator(A) | {"unit": "220100"}, "k")
        ids = {"late_admission:x"}
        first, redelivered = (handlers.sync(store, RULES, ids, [found]) for _ in range(2))
        store.mark_announced(first)
        after_announcement = handlers.sync(store, RULES, ids, [found])
    assert [f["finding_id"] for f in first + redelivered] == ["late_admission:x"] * 2
    assert first[0]["revision"] == redelivered[0]["revision"] == 1
    assert after_announcement == []


def test_a_finding_made_before_its_carrier_is_known_waits_for_its_unit(servers, mongo_database):
    """An admission handled before its carrier's registration (they travel apart) makes a
    finding with no unit to alert: the registration gives it one and announces it."""
    found = finding("late_admission:y", "late_admission", B, None, "admitted late")
    registration = life_cycle_event(incubator(B, region_code="220202"), "incubator.registered")
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        before_carrier = handlers.sync(store, RULES, {"late_admission:y"}, [found])
        on_registration = handlers.on_events(store, RULES, Batch([registration]), dict)
        stored = store.findings_of(B)
    assert before_carrier == []
    assert [(f["finding_id"], f["unit"]) for f in on_registration] == [
        ("late_admission:y", "220200")
    ]
    assert [f["unit"] for f in stored] == ["220200"]


def test_a_finding_is_withdrawn_when_later_data_supports_it_and_raised_again(
    service, publisher, event_collector
):
    """A graduation on the investment basis with no funding known is a finding; the funding
    round that arrives later withdraws it (kept, with when and why, announced as resolved);
    a correction of that round below the bar raises it again."""
    base, _ = service
    announced = event_collector("incubators", "incubator_finding")
    code = jilin_uscc()
    publisher.publish_events(
        [cloud_event("enterprise.registered", registration(code, founded_on="2021-01-01"))]
    )
    publisher.publish_events(
        [
            admit(A, code, admitted_on="2021-06-01"),
            graduate(A, code, graduated_on="2024-05-01", basis="investment"),
        ]
    )

    def finding():
        found = incubatees(base, A)[1]["findings"]
        return next((f for f in found if f["kind"] == "graduation_unsupported"), None)

    raised = wait_for(finding, what="the unsupported graduation")
    assert raised["status"] == "open" and raised["ruleset"] == "jl-incubators-2025@1"

    def round_of(amount, event_id):
        data = funding_round(code, "A-1", date="2023-09-01", amount=amount, currency="CNY")
        return cloud_event("enterprise.funding_round", data, event_id=event_id)

    publisher.publish_events([round_of(6_000_000.0, "round-1")])
    resolved = wait_for(lambda: (f := finding()) and f["status"] == "resolved" and f)
    assert resolved["resolved_at"] and "supports the basis" in resolved["resolution"]
    publisher.publish_events([round_of(4_000_000.0, "round-1-corrected")])
    again = wait_for(lambda: (f := finding()) and f["status"] == "open" and f)
    assert again["revision"] == 3
    states = []
    wait_for(
        lambda: (
            states.extend(
                (f["status"], f["event_id"])
                for f in announced()
                if f["kind"] == "graduation_unsupported"
            )
            or len(states) == 3
        ),
        what="three announcements",
    )
    assert [s for s, _ in states] == ["open", "resolved", "open"]
    assert len({event_id for _, event_id in states}) == 3  # an alert of its own for each
