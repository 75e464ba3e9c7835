"""The alerts written by hand: the tracker's own, RabbitMQ's node alarms (from its Prometheus
plugin, so they work on docker-compose too) and MongoDB's (from the Percona exporter beside
each member on Kubernetes; the MongoDB community operator publishes no alert pack)."""

from __future__ import annotations

from typing import Any

from scripts.monitoring.rules import alert, group
from scripts.monitoring.timescale import Timescale

# Work queues only (`<service>.ingress`, `evt-<source>-<event>--<service>.<method>`), not their
# .retry.<ms>ms delay queues or .dead parking queues.
WORK_QUEUES = r'queue=~".+\\.ingress|evt-[^.]+\\.[^.]+"'
# Error ratio of the entrypoints no objective covers (events, RPC, timers): API calls have the
# api-availability objective. Below this many calls in the window the ratio says nothing.
ERROR_RATIO_MIN_CALLS = 20


def tracker(t: Timescale) -> dict[str, Any]:
    calls = 'tracker_entrypoint_duration_seconds_count{kind!="http"}'
    errors = 'tracker_entrypoint_errors_total{kind!="http"}'
    deliveries = "tracker_alert_deliveries_total"
    return group(
        "tracker",
        [
            alert(
                "TrackerQueueWithoutConsumer",
                f"sum by (vhost, queue) (rabbitmq_queue_consumers{{{WORK_QUEUES}}}) == 0",
                for_=t.duration("5m"),
                severity="critical",
                summary="No consumer on {{ $labels.queue }}",
                description="""Events on this queue are not being processed: its service is
                not running, or cannot reach the broker.""",
                page="queues",
            ),
            alert(
                "TrackerEventBacklogOld",
                f"max by (service, queue) (tracker_queue_oldest_event_age_seconds) "
                f"> {t.seconds(300)}",
                for_=t.duration("5m"),
                severity="warning",
                summary="Events wait over 5 minutes in {{ $labels.queue }}",
                description="""The oldest event {{ $labels.service }} holds from
                {{ $labels.queue }} entered it {{ $value | humanizeDuration }} ago: the
                service is stuck or slower than what arrives.""",
                page="queues",
            ),
            alert(
                "TrackerEventsStalled",
                f"""(time() - max by (service) (tracker_last_event_processed_timestamp_seconds)
                > {t.seconds(3600)}) and on (service) label_replace(sum by (queue)
                (rabbitmq_queue_messages_ready{{queue=~".+\\\\.ingress"}}) > 0,
                "service", "$1", "queue", "(.+)\\\\.ingress")""",
                for_=t.duration("10m"),
                severity="warning",
                summary="{{ $labels.service }} has events waiting but processed none for an hour",
                description="""Events wait in {{ $labels.service }}.ingress and the service
                has processed none for an hour, counted from its last start if it processed
                none since.""",
                page="queues",
            ),
            alert(
                "TrackerDeadLettersGrowing",
                f"max by (queue) (delta(tracker_dead_letters_parked[{t.duration('15m')}])) > 0",
                for_=t.duration("5m"),
                severity="warning",
                summary="Messages are being parked in {{ $labels.queue }}.dead",
                description="""Events failed every retry and were parked. Fix the cause, then
                `tracker ingress replay <service>` (ingress) or move them back from the dead
                queue.""",
                page="dead-letters",
            ),
            alert(
                "TrackerDependencyDown",
                "tracker_dependency_up == 0",
                for_=t.duration("2m"),
                severity="critical",
                summary="{{ $labels.service }} cannot reach its {{ $labels.dependency }}",
                description="""The background check of {{ $labels.instance }} has failed for
                2 minutes: the pod reports not ready, its events are retried and then
                parked.""",
                page="dependencies",
            ),
            alert(
                "TrackerErrorRatioHigh",
                f"""(sum by (service, kind) (rate({errors}[{t.duration("5m")}]))
                / sum by (service, kind) (rate({calls}[{t.duration("5m")}])) > 0.05)
                and on (service, kind) sum by (service, kind)
                (increase({calls}[{t.duration("5m")}])) >= {ERROR_RATIO_MIN_CALLS}""",
                for_=t.duration("10m"),
                severity="warning",
                summary="More than 5% of {{ $labels.service }}'s {{ $labels.kind }} calls fail",
                description=f"""Error ratio {{{{ $value | humanizePercentage }}}} of event,
                RPC or timer entrypoints (API calls have their own objective), counted only
                with at least {ERROR_RATIO_MIN_CALLS} calls in 5 minutes.""",
                page="errors",
            ),
            alert(
                "TrackerNotificationsFailing",
                f"""sum by (channel) (rate({deliveries}{{outcome=~"retried|dead_lettered"}}
                [{t.duration("15m")}])) > 0 unless sum by (channel)
                (rate({deliveries}{{outcome="sent"}}[{t.duration("15m")}])) > 0""",
                for_=t.duration("15m"),
                severity="warning",
                summary="Every {{ $labels.channel }} alert delivery fails",
                description="""Deliveries are retried with back-off, then dead; check the
                SMTP relay or webhook receivers.""",
                page="notifications",
            ),
            alert(
                "TrackerNotificationsDeadLettered",
                f"""sum by (channel) (increase({deliveries}{{outcome="dead_lettered"}}
                [{t.duration("1h")}])) > 0""",
                severity="warning",
                summary="{{ $labels.channel }} alert deliveries gave up after their last attempt",
                description="""A unit did not get an alert after every retry (about 3 hours):
                find the delivery with its reason and send it again.""",
                page="notifications",
            ),
            alert(
                "TrackerServiceNotScraped",
                'up{job="tracker"} == 0 or absent(up{job="tracker"})',
                for_=t.duration("5m"),
                severity="critical",
                summary="A tracker service is not being scraped",
                description="""{{ $labels.job }} {{ $labels.instance }} did not answer
                /metrics for 5 minutes.""",
                page="scraping",
            ),
        ],
    )


def rabbitmq(t: Timescale) -> dict[str, Any]:
    alarms = " or ".join(
        f'label_replace(rabbitmq_alarms_{metric} > 0, "alarm", "{name}", "", "")'
        for metric, name in (
            ("memory_used_watermark", "memory"),
            ("free_disk_space_watermark", "disk"),
            ("file_descriptor_limit", "file_descriptors"),
        )
    )
    return group(
        "rabbitmq",
        [
            alert(
                "RabbitMQResourceAlarm",
                alarms,
                for_=t.duration("1m"),
                severity="critical",
                summary="RabbitMQ {{ $labels.instance }} raised its {{ $labels.alarm }} alarm",
                description="""While a resource alarm is on, the node blocks every publisher:
                no event is accepted (POST /v1/events answers 503 once its confirms time
                out).""",
                page="rabbitmq",
            ),
            alert(
                "RabbitMQNodeDown",
                'up{job="rabbitmq"} == 0',
                for_=t.duration("2m"),
                severity="critical",
                summary="RabbitMQ {{ $labels.instance }} does not answer its metrics",
                description="""A broker node is down or unreachable; with three nodes the
                quorum queues keep working on the other two.""",
                page="rabbitmq",
            ),
        ],
    )


def mongodb(t: Timescale) -> dict[str, Any]:
    optime = "mongodb_rs_members_optimeDate"  # milliseconds
    backup = 'kube_cronjob_status_last_successful_time{cronjob="mongodb-backup"}'
    return group(
        "mongodb",
        [
            alert(
                "MongoDBDown",
                "mongodb_up == 0",
                for_=t.duration("2m"),
                severity="critical",
                summary="The exporter beside {{ $labels.instance }} cannot reach its mongod",
                description="""A replica set member is down or refuses the metrics user; with
                three members the set keeps a primary while two answer.""",
                page="mongodb",
            ),
            alert(
                "MongoDBNoPrimary",
                """count by (set) (mongodb_rs_members_state) unless count by (set)
                (mongodb_rs_members_state{member_state="PRIMARY"})""",
                for_=t.duration("1m"),
                severity="critical",
                summary="Replica set {{ $labels.set }} has no primary",
                description="""No member is primary: every write fails, so events are retried
                and then parked, and the API answers 500 for writes.""",
                page="mongodb",
            ),
            alert(
                "MongoDBReplicationLag",
                f"""max by (set, name) ((max by (set) ({optime}{{member_state="PRIMARY"}})
                - on (set) group_right min by (set, name)
                ({optime}{{member_state="SECONDARY"}})) / 1000) > {t.seconds(30)}""",
                for_=t.duration("5m"),
                severity="warning",
                summary="{{ $labels.name }} lags its primary by {{ $value }} s",
                description="""A secondary is behind: it would lose recent writes if it were
                elected, and a lag longer than the oplog window needs a full resync.""",
                page="mongodb",
            ),
            alert(
                "MongoDBMemberUnhealthy",
                "max by (set, name) (mongodb_rs_members_health) == 0",
                for_=t.duration("5m"),
                severity="warning",
                summary="Member {{ $labels.name }} of {{ $labels.set }} is unhealthy",
                description="""The replica set sees this member as down: the set runs on two
                members, so one more failure stops writes.""",
                page="mongodb",
            ),
            alert(
                "MongoDBBackupMissing",
                f"time() - max({backup}) > {t.seconds(2 * 86400)}",
                for_=t.duration("1h"),
                severity="warning",
                summary="No MongoDB backup succeeded for two days",
                description="""The nightly mongodump CronJob has not succeeded for two days
                (kube-state-metrics' kube_cronjob_status_last_successful_time).""",
                page="mongodb",
            ),
        ],
    )
