"""Drain the outbox into Odoo: batched, retried, idempotent.

A batch is closed when ``batch_size`` items are pending or the oldest
pending item is ``batch_age_s`` old, and sent to ``ingest``. Per item:

* ``accepted`` or ``duplicate``: marked sent (``duplicate`` is what a retry
  of a batch whose reply was lost gets, so nothing is doubled);
* ``rejected``: marked rejected with Odoo's reason, kept in the store, logged
  once per reason and never retried automatically
  (``python -m connector requeue-rejected`` puts them back);
* any other answer: left pending.

Alert items (``alert_raised``, ``alert_active``, ``alert_cleared``) do not
wait for a batch to close: as soon as one is pending (the pipeline wakes the
pusher after each commit that queued items), the pending alert items are
sent, oldest first, ahead of the older bulk items (aggregates, snapshots),
which keep batching by size and age. An alert's items stay in their order
(raise, active, clear), and every item is still committed to the outbox
before it is pushed and carries its idempotency key.

When Odoo is unreachable the items stay pending and the pusher retries with
exponential backoff and jitter, capped at ``retry_max_s``: a backlog builds
up and drains when Odoo returns, in order.

When Odoo answers a batch with an error (a server-side exception, not a
per-item rejection), the batch is halved until the failing item is alone.
That item is retried ``max_item_attempts`` times; it is then set aside as
rejected only if the items after it go through (so the error is the item's,
not Odoo's). An access error never rejects anything: it waits for an
administrator.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..store import OutboxRow, Store
from ..util import LogOnce
from .items import ALERT_ACTIVE, ALERT_CLEARED, ALERT_RAISED
from .odoo_client import OdooAuthError, OdooClient, OdooError, OdooUnreachableError

log = logging.getLogger(__name__)

#: Item types pushed at once, ahead of the batched ones (all the alert types,
#: so that an alert's raise, active and clear keep their order).
URGENT_TYPES = (ALERT_RAISED, ALERT_ACTIVE, ALERT_CLEARED)


@dataclass(slots=True)
class PushResult:
    """Outcome of one :meth:`Pusher.push_once`."""

    sent: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: bool = False
    error: str = ""


def backoff_delay(
    failures: int, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with jitter: between half and all of ``base * 2**(n-1)``.

    Examples
    --------
    >>> [backoff_delay(n, 1.0, 60.0, rng=lambda: 1.0) for n in (1, 2, 3, 7, 20)]
    [1.0, 2.0, 4.0, 60.0, 60.0]
    >>> backoff_delay(3, 1.0, 60.0, rng=lambda: 0.0)
    2.0
    """
    if failures <= 0:
        return 0.0
    delay = min(cap, base * 2.0 ** min(failures - 1, 62))
    return delay * (0.5 + 0.5 * rng())


class Pusher:
    """Move outbox items to Odoo.

    Parameters
    ----------
    store : Store
        A store opened for this pusher (its own connection).
    client : OdooClient
        JSON-RPC client.
    batch_size : int
        Most items per ``ingest`` call.
    batch_age_s : float
        Age of the oldest pending item that closes a smaller batch.
    retry_base_s, retry_max_s : float
        Backoff after failures.
    max_item_attempts : int
        Server errors a lone item may cause before it can be set aside.
    clock : callable
        Current epoch time.
    urgent_types : sequence of str
        Item types sent as soon as they are pending, ahead of the others.
    rng : callable
        Uniform random number in [0, 1) for the jitter.
    """

    def __init__(
        self,
        store: Store,
        client: OdooClient,
        batch_size: int = 500,
        batch_age_s: float = 2.0,
        retry_base_s: float = 1.0,
        retry_max_s: float = 60.0,
        max_item_attempts: int = 5,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        urgent_types: Sequence[str] = URGENT_TYPES,
    ) -> None:
        self.store = store
        self.client = client
        self.batch_size = batch_size
        self.batch_age_s = batch_age_s
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.max_item_attempts = max_item_attempts
        self.clock = clock
        self.rng = rng
        self.urgent_types = tuple(urgent_types)
        self.log_once = LogOnce(log)
        self._wake = threading.Event()
        self.failures_ = 0
        self.batch_limit_ = batch_size
        self.suspect_: int | None = None
        self.suspect_errors_ = 0
        self.odoo_ok_: bool | None = None
        self.last_ok_at_: float | None = None
        self.last_error_ = ""
        self.sent_total_ = 0
        self.rejected_total_ = 0

    def wake(self) -> None:
        """Tell the pusher that new items were committed."""
        self._wake.set()

    def next_delay(self) -> float:
        """Backoff before the next try after the current run of failures."""
        return backoff_delay(self.failures_, self.retry_base_s, self.retry_max_s, self.rng)

    # -- one batch -----------------------------------------------------------

    def urgent_pending(self) -> bool:
        """Whether an item of :attr:`urgent_types` waits to be sent."""
        return self.store.has_pending(self.urgent_types)

    def _rows(self) -> tuple[list[OutboxRow], bool]:
        """Pick the next batch; the flag says it is a probe past the suspect.

        The batch holds only urgent items while any is pending.
        """
        lane = self.urgent_types if self.urgent_pending() else None
        if self.suspect_ is None:
            return self.store.fetch_pending(self.batch_limit_, lane), False
        rows = self.store.fetch_pending(self.batch_limit_ + 1, lane)
        suspect = [r for r in rows if r.id == self.suspect_]
        if not suspect:
            if lane is not None:  # the suspect is a bulk item: alerts first, keep it
                return rows[: self.batch_limit_], False
            # sent or requeued meanwhile
            self.suspect_, self.suspect_errors_ = None, 0
            return rows[: self.batch_limit_], False
        if self.suspect_errors_ < self.max_item_attempts:
            return suspect, False
        others = [r for r in rows if r.id != self.suspect_][:1]
        if not others and lane is not None:  # a lone urgent suspect: probe with a bulk item
            others = [r for r in self.store.fetch_pending(2) if r.id != self.suspect_][:1]
        return (others, True) if others else (suspect, False)

    def push_once(self) -> PushResult:
        """Send one batch of pending items, if any, and record the outcome."""
        rows, probe = self._rows()
        if not rows:
            return PushResult()
        ids = [r.id for r in rows]
        try:
            results = self.client.ingest([r.to_rpc() for r in rows])
        except OdooUnreachableError as exc:
            return self._failed(ids, exc, "unreachable")
        except OdooError as exc:
            if isinstance(exc, OdooAuthError) or exc.is_access_problem:
                return self._failed(ids, exc, "access")
            return self._server_error(rows, exc, probe)
        return self._accepted(rows, results, probe)

    def _failed(self, ids: list[int], exc: Exception, kind: str) -> PushResult:
        self.failures_ += 1
        self.last_error_ = str(exc)
        self.store.bump_attempts(ids, str(exc))
        if self.odoo_ok_ is not False:
            pending, _ = self.store.pending_stats()
            what = {
                "unreachable": "is unreachable",
                "access": "refuses the connector's access",
            }.get(kind, "answers ingest with an error")
            log.warning(
                "Odoo %s (%s); %d items wait in the outbox, retrying with backoff",
                what,
                exc,
                pending,
            )
        self.odoo_ok_ = False
        return PushResult(failed=True, error=str(exc))

    def _server_error(self, rows: list[OutboxRow], exc: OdooError, probe: bool) -> PushResult:
        ids = [r.id for r in rows]
        if probe:  # the items after the suspect fail too: Odoo's problem
            self.suspect_, self.suspect_errors_ = None, 0
            self.batch_limit_ = self.batch_size
            self.log_once(
                f"server:{exc.name}",
                "Odoo answers ingest with an error for every item (%s); retrying with backoff",
                exc,
            )
            return self._failed(ids, exc, "error")
        if len(rows) > 1:
            self.batch_limit_ = max(1, len(rows) // 2)
            self.log_once(
                "bisect",
                "Odoo answered a batch of %d with an error (%s); halving batches to find the item",
                len(rows),
                exc,
            )
        else:
            if self.suspect_ == rows[0].id:
                self.suspect_errors_ += 1
            else:
                self.suspect_, self.suspect_errors_ = rows[0].id, 1
        return self._failed(ids, exc, "error")

    def _accepted(
        self, rows: list[OutboxRow], results: list[dict[str, object]], probe: bool
    ) -> PushResult:
        out = PushResult()
        sent: list[int] = []
        rejected: list[tuple[int, str]] = []
        odd: list[int] = []
        for row, res in zip(rows, results, strict=True):
            status = res.get("status")
            if status in ("accepted", "duplicate"):
                sent.append(row.id)
                out.duplicates += status == "duplicate"
            elif status == "rejected":
                rejected.append((row.id, str(res.get("reason") or "rejected")))
            else:
                odd.append(row.id)
        if probe and self.suspect_ is not None:
            rejected.append(
                (
                    self.suspect_,
                    f"server error {self.suspect_errors_} "
                    f"times while other items were accepted: "
                    f"{self.last_error_}",
                )
            )
            log.error("outbox item %d set aside as rejected: %s", self.suspect_, self.last_error_)
            self.suspect_, self.suspect_errors_ = None, 0
        elif self.suspect_ is not None and self.suspect_ in sent:
            self.suspect_, self.suspect_errors_ = None, 0
        with self.store.transaction():
            self.store.mark_sent(sent, self.clock())
            self.store.mark_rejected(rejected)
            if odd:
                self.store.bump_attempts(odd, "unknown status in ingest reply")
        for _, reason in rejected:
            self.log_once(f"rejected:{reason[:80]}", "Odoo rejected an item: %s", reason)
        if odd:
            self.log_once(
                "odd-status",
                "ingest answered an unknown status for %d items; they stay pending",
                len(odd),
            )
        if self.odoo_ok_ is False:
            pending, _ = self.store.pending_stats()
            log.info("Odoo reachable again; %d items still pending", pending)
        self.odoo_ok_ = True
        self.failures_ = 0
        self.last_ok_at_ = self.clock()
        self.batch_limit_ = min(self.batch_size, self.batch_limit_ * 2)
        out.sent = len(sent)
        out.rejected = len(rejected)
        self.sent_total_ += out.sent
        self.rejected_total_ += out.rejected
        return out

    # -- loop ----------------------------------------------------------------

    def due(self) -> bool:
        """Whether a batch is closed now (by size or by age, or an urgent
        item is pending)."""
        pending, oldest = self.store.pending_stats()
        if not pending:
            return False
        age = self.clock() - (oldest if oldest is not None else self.clock())
        return pending >= self.batch_limit_ or age >= self.batch_age_s or self.urgent_pending()

    def run(self, stop: threading.Event) -> None:
        """Push until *stop* is set (run it in its own thread)."""
        while not stop.is_set():
            self._wake.clear()
            pending, oldest = self.store.pending_stats()
            if not pending:
                self._wake.wait(0.25)
                continue
            age = self.clock() - (oldest if oldest is not None else self.clock())
            if pending < self.batch_limit_ and age < self.batch_age_s and not self.urgent_pending():
                self._wake.wait(min(self.batch_age_s - age, 0.25))
                continue
            try:
                result = self.push_once()
            except Exception:  # keep the thread alive; the items stay pending
                log.exception("pusher error")
                self.failures_ += 1
                result = PushResult(failed=True)
            if result.failed:
                stop.wait(self.next_delay())

    def flush(self, timeout: float) -> int:
        """Push everything pending now, for at most *timeout* seconds.

        Returns
        -------
        int
            Items still pending afterwards.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending, _ = self.store.pending_stats()
            if not pending:
                return 0
            if self.push_once().failed:
                break
        return self.store.pending_stats()[0]
