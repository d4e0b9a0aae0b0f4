"""What `GET /metrics` reports, in Prometheus's text format: requests and their ack latency, deliveries,
rate-limit waits, and the outbox as the database holds it at the moment of the scrape.

Each app instance has a registry of its own (tests build many apps in one process); nothing is
registered in prometheus_client's global one. docs/OPERATIONS.md lists the names and what they mean.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError

from bot.clock import Clock
from bot.services.delivery import DeliveryResult
from storage import outbox as outbox_store
from storage.db import SessionFactory

log = logging.getLogger(__name__)

# Fine below a second, where a healthy ack lands, and around the platform's 3 s deadline.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 10.0)


class Metrics:
    """The app's metrics. It is the DeliveryService's observer (bot.services.delivery.DeliveryObserver)."""

    def __init__(self, *, sessions: SessionFactory, clock: Clock) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "extramile_slack_requests",
            "Requests to Slack's endpoint (POST /slack/events) answered, by kind and HTTP status.",
            ["kind", "status"],
            registry=self.registry,
        )
        self._ack_seconds = Histogram(
            "extramile_slack_ack_seconds",
            "Seconds from a request's arrival to its answer (the ack Slack waits at most 3 s for), by kind.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self._deliveries = Counter(
            "extramile_deliveries",
            "What became of outbox rows the delivery loop took, by kind and result.",
            ["kind", "result"],
            registry=self.registry,
        )
        self._wait_seconds = Counter(
            "extramile_delivery_rate_limit_wait_seconds",
            "Seconds the platform told us to wait (Retry-After) when it refused a send, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.registry.register(OutboxCollector(sessions=sessions, clock=clock))

    def request_answered(self, kind: str, status: int, seconds: float) -> None:
        self._requests.labels(kind=kind, status=str(status)).inc()
        self._ack_seconds.labels(kind=kind).observe(seconds)

    def delivered(self, kind: str, result: DeliveryResult) -> None:
        self._deliveries.labels(kind=kind, result=result).inc()

    def told_to_wait(self, kind: str, seconds: float) -> None:
        self._wait_seconds.labels(kind=kind).inc(seconds)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The scrape's body and content type (OpenMetrics when the scraper asks for it). Queries the
        database: call it off the event loop."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type


class OutboxCollector(Collector):
    """The outbox by kind and status, and the age of the longest-waiting due row, read at each scrape
    (one grouped query): every replica reports the same shared numbers."""

    def __init__(self, *, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def describe(self) -> Iterable[Metric]:
        # Names only: the registry checks them at registration without querying the database.
        return [_database_up(), _rows(), _oldest_due_age()]

    def collect(self) -> Iterable[Metric]:
        now = self._clock.now()
        up = _database_up()
        try:
            with self._sessions() as session:
                counts = outbox_store.count_by_kind(session, now=now)
        except DBAPIError as error:
            log.warning("metrics: the database did not answer: %s", type(error).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        rows = _rows()
        # Every status of every kind seen, zeros included: a count that drops to nothing reads 0,
        # instead of a series that disappears.
        kinds = sorted({kind for kind, _ in counts.rows})
        statuses = outbox_store.STATUSES + tuple(
            sorted({status for _, status in counts.rows} - set(outbox_store.STATUSES))
        )
        for kind in kinds:
            for status in statuses:
                rows.add_metric([kind, status], counts.rows.get((kind, status), 0))
        age = _oldest_due_age()
        waited = (now - counts.oldest_due_at).total_seconds() if counts.oldest_due_at is not None else 0.0
        age.add_metric([], max(waited, 0.0))
        return [up, rows, age]


def _database_up() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "extramile_database_up", "1 when the database answered this scrape's outbox query, else 0."
    )


def _rows() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "extramile_outbox_rows",
        "Outbox rows in the database (every workspace), by kind and status.",
        labels=["kind", "status"],
    )


def _oldest_due_age() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "extramile_outbox_oldest_due_age_seconds",
        "Seconds since the longest-waiting due row fell due (0 when nothing is due): how far behind "
        "delivery is.",
    )
