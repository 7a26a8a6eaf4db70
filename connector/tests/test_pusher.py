"""Odoo client and outbox pusher against a fake JSON-RPC Odoo.

The fake (``conftest.FakeOdoo``) imitates only the replies that matter to
the pusher: accepted / duplicate / rejected per item, errors, outages and
lost replies. The end-to-end test against a real Odoo is separate.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from connector.push.items import OutboxItem
from connector.push.odoo_client import (
    OdooAuthError,
    OdooClient,
    OdooError,
    OdooUnreachableError,
)
from connector.push.pusher import Pusher, backoff_delay
from connector.store import Store, open_store
from connector.tests.conftest import FakeOdoo
from devkit.util import free_port, wait_until


def client_for(fake: FakeOdoo, key: str = FakeOdoo.API_KEY) -> OdooClient:
    return OdooClient(fake.url, "cmms", "connector", key, timeout=5)


def items(n: int, start: int = 0, type_: str = "alert_raised", **data: object) -> list[OutboxItem]:
    return [
        OutboxItem(f"k{i:05d}", type_, "2026-11-22T08:00:00Z", {"tag": "PT-101", **data})
        for i in range(start, start + n)
    ]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "s.sqlite3")


def make_pusher(store: Store, fake: FakeOdoo, **kw: Any) -> Pusher:
    opts = {
        "batch_size": 50,
        "batch_age_s": 0.0,
        "retry_base_s": 0.01,
        "retry_max_s": 0.05,
        "max_item_attempts": 3,
    }
    opts.update(kw)
    return Pusher(store, client_for(fake), **opts)  # type: ignore[arg-type]


def statuses(store: Store) -> dict[str, int]:
    c = store.counts()
    return {k: c[f"outbox_{k}"] for k in ("pending", "sent", "rejected")}


# -- client -------------------------------------------------------------------


def test_client_reads_config_and_ingests(fake_odoo: FakeOdoo) -> None:
    client = client_for(fake_odoo)
    assert client.get_connector_config()["version"] == "v1"
    assert client.uid_ == 2
    res = client.ingest([i.to_rpc() for i in items(2)])
    assert [r["status"] for r in res] == ["accepted", "accepted"]
    assert [r["status"] for r in client.ingest([items(1)[0].to_rpc()])] == ["duplicate"]


def test_client_wrong_key_is_an_auth_error(fake_odoo: FakeOdoo) -> None:
    with pytest.raises(OdooAuthError):
        client_for(fake_odoo, key="wrong").get_connector_config()


def test_client_unreachable_vs_error(fake_odoo: FakeOdoo) -> None:
    dead = OdooClient(f"http://127.0.0.1:{free_port()}", "cmms", "c", "k", timeout=2)
    with pytest.raises(OdooUnreachableError):
        dead.get_connector_config()
    fake_odoo.down = 1
    with pytest.raises(OdooUnreachableError, match="HTTP 503"):
        client_for(fake_odoo).get_connector_config()
    fake_odoo.error_all = True
    with pytest.raises(OdooError) as info:
        client_for(fake_odoo).ingest([items(1)[0].to_rpc()])
    assert not isinstance(info.value, OdooUnreachableError)
    assert info.value.name == "builtins.KeyError"


# -- pusher -----------------------------------------------------------------------


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert backoff_delay(0, 1.0, 60.0) == 0.0
    highs = [backoff_delay(n, 1.0, 60.0, rng=lambda: 0.999999) for n in range(1, 9)]
    assert [round(h) for h in highs] == [1, 2, 4, 8, 16, 32, 60, 60]
    lows = [backoff_delay(n, 1.0, 60.0, rng=lambda: 0.0) for n in range(1, 9)]
    assert lows == [h / 2 for h in [1, 2, 4, 8, 16, 32, 60, 60]]


def test_accepted_items_are_marked_sent(store: Store, fake_odoo: FakeOdoo) -> None:
    store.add_outbox(items(120))
    pusher = make_pusher(store, fake_odoo)
    assert pusher.flush(5) == 0
    assert statuses(store) == {"pending": 0, "sent": 120, "rejected": 0}
    assert fake_odoo.ingest_calls() == [50, 50, 20]
    assert sorted(fake_odoo.accepted) == [f"k{i:05d}" for i in range(120)]


def test_rejected_item_is_flagged_kept_and_not_retried(
    store: Store, fake_odoo: FakeOdoo, caplog: pytest.LogCaptureFixture
) -> None:
    store.add_outbox(items(2) + items(2, start=2, reject=True) + items(1, start=4))
    pusher = make_pusher(store, fake_odoo)
    result = pusher.push_once()
    assert (result.sent, result.rejected) == (3, 2)
    assert statuses(store) == {"pending": 0, "sent": 3, "rejected": 2}
    assert store.execute("SELECT key, reason FROM outbox WHERE status='rejected'") == [
        ("k00002", "unknown tag"),
        ("k00003", "unknown tag"),
    ]
    assert sum("rejected an item" in r.message for r in caplog.records) == 1
    assert pusher.push_once().sent == 0 and len(fake_odoo.ingest_calls()) == 1


def test_odoo_down_builds_a_backlog_then_drains_without_loss_or_doubles(
    store: Store, fake_odoo: FakeOdoo
) -> None:
    fake_odoo.down = 6
    store.add_outbox(items(30))
    pusher = make_pusher(store, fake_odoo, batch_size=10)
    stop = threading.Event()
    thread = threading.Thread(target=pusher.run, args=(stop,))
    thread.start()
    try:
        # more items arrive while Odoo is down
        store.add_outbox(items(30, start=30))
        pusher.wake()
        assert wait_until(lambda: statuses(store)["sent"] == 60, 10)
    finally:
        stop.set()
        thread.join(5)
    assert len(fake_odoo.accepted) == 60
    assert pusher.odoo_ok_ is True and pusher.failures_ == 0
    [(max_attempts,)] = store.execute("SELECT max(attempts) FROM outbox")
    assert max_attempts >= 1  # failures were counted on the items


def test_lost_reply_is_retried_and_answered_duplicate(store: Store, fake_odoo: FakeOdoo) -> None:
    fake_odoo.lose_replies = 1  # Odoo commits, the proxy answers 502
    store.add_outbox(items(5))
    pusher = make_pusher(store, fake_odoo)
    assert pusher.push_once().failed
    assert len(fake_odoo.accepted) == 5 and statuses(store)["pending"] == 5
    result = pusher.push_once()
    assert (result.sent, result.duplicates) == (5, 5)
    assert statuses(store)["sent"] == 5 and len(fake_odoo.accepted) == 5


def test_poison_item_is_isolated_and_set_aside(store: Store, fake_odoo: FakeOdoo) -> None:
    store.add_outbox(items(40))
    fake_odoo.error_keys = {"k00013"}
    pusher = make_pusher(store, fake_odoo, batch_size=16, max_item_attempts=3)
    for _ in range(60):
        if not store.pending_stats()[0]:
            break
        pusher.push_once()
    assert statuses(store) == {"pending": 0, "sent": 39, "rejected": 1}
    [(key, reason)] = store.execute("SELECT key, reason FROM outbox WHERE status = 'rejected'")
    assert key == "k00013" and "KeyError" in reason
    assert "k00013" not in fake_odoo.accepted and len(fake_odoo.accepted) == 39


@pytest.mark.parametrize("mode", ["error_all", "access_error"])
def test_odoo_wide_errors_never_reject_items(store: Store, fake_odoo: FakeOdoo, mode: str) -> None:
    setattr(fake_odoo, mode, True)
    store.add_outbox(items(8))
    pusher = make_pusher(store, fake_odoo, batch_size=4, max_item_attempts=2)
    for _ in range(40):
        assert pusher.push_once().failed
    assert statuses(store) == {"pending": 8, "sent": 0, "rejected": 0}
    setattr(fake_odoo, mode, False)
    assert pusher.flush(5) == 0 and len(fake_odoo.accepted) == 8


def test_batches_close_by_age_or_size(store: Store, fake_odoo: FakeOdoo) -> None:
    now = [1000.0]
    pusher = Pusher(
        store, client_for(fake_odoo), batch_size=10, batch_age_s=2.0, clock=lambda: now[0]
    )
    store.add_outbox(items(3, type_="reading_agg"), now=1000.0)
    assert not pusher.due()
    now[0] = 1001.9
    assert not pusher.due()
    now[0] = 1002.0
    assert pusher.due()
    store.add_outbox(items(10, start=3, type_="reading_agg"), now=1002.0)
    now[0] = 1000.0  # young, but a full batch is waiting
    assert pusher.due()


def test_run_loop_respects_batch_age(store: Store, fake_odoo: FakeOdoo) -> None:
    """The loop sends a batch once it is batch_age_s old on the pusher's clock,
    not before: the clock moves in 0.1 s steps, each step looked at by the loop
    (two clock readings) before the next, however fast the machine is."""
    now = [1000.0]
    reads = [0]

    def clock() -> float:
        reads[0] += 1
        return now[0]

    pusher = make_pusher(store, fake_odoo, batch_size=100, batch_age_s=0.4, clock=clock)
    stop = threading.Event()
    thread = threading.Thread(target=pusher.run, args=(stop,))
    thread.start()
    elapsed = None
    try:
        start = now[0]
        store.add_outbox(items(3, type_="reading_agg"), now=start)
        pusher.wake()
        for _ in range(30):
            seen = reads[0]

            def looked(seen: int = seen) -> bool:
                return reads[0] >= seen + 2

            wait_until(looked, 10, "the loop looks")
            if statuses(store).get("sent") == 3:
                elapsed = now[0] - start
                break
            now[0] = round(now[0] + 0.1, 6)
    finally:
        stop.set()
        thread.join(5)
    assert elapsed is not None, "the batch was sent"
    assert 0.3 < elapsed < 2.0
    assert fake_odoo.ingest_calls() == [3]


def test_alert_items_do_not_wait_for_the_batch_age(store: Store, fake_odoo: FakeOdoo) -> None:
    """The clock never moves: bulk items stay batched, an alert's raise and
    clear are pushed as soon as they are committed, in their order and ahead
    of the older bulk items."""
    now = [1000.0]
    pusher = make_pusher(store, fake_odoo, batch_size=100, batch_age_s=60.0, clock=lambda: now[0])
    store.add_outbox(items(5, type_="reading_agg"), now=now[0])
    assert not pusher.due()
    stop = threading.Event()
    thread = threading.Thread(target=pusher.run, args=(stop,))
    thread.start()
    try:
        store.add_outbox(items(1, start=5) + items(1, start=6, type_="alert_cleared"), now=now[0])
        pusher.wake()
        wait_until(lambda: statuses(store)["sent"] == 2, 10, "the alert items are pushed")
        assert statuses(store) == {"pending": 5, "sent": 2, "rejected": 0}
        assert fake_odoo.ingest_calls() == [2]
        assert list(fake_odoo.accepted) == ["k00005", "k00006"]
        # the bulk items go when their batch closes by age
        now[0] += 60.0
        pusher.wake()
        wait_until(lambda: statuses(store)["sent"] == 7, 10, "the batch closes by age")
    finally:
        stop.set()
        thread.join(5)
    assert fake_odoo.ingest_calls() == [2, 5]


def test_poison_alert_is_isolated_while_bulk_items_go(store: Store, fake_odoo: FakeOdoo) -> None:
    store.add_outbox(items(6, type_="reading_agg"))
    store.add_outbox(items(4, start=6))
    fake_odoo.error_keys = {"k00007"}
    pusher = make_pusher(store, fake_odoo, batch_size=16, max_item_attempts=3)
    for _ in range(60):
        if not store.pending_stats()[0]:
            break
        pusher.push_once()
    assert statuses(store) == {"pending": 0, "sent": 9, "rejected": 1}
    [(key,)] = store.execute("SELECT key FROM outbox WHERE status = 'rejected'")
    assert key == "k00007"
    # the alert items were sent first, in their order
    alerts = [k for k in fake_odoo.accepted if k in {"k00006", "k00008", "k00009"}]
    assert alerts == ["k00006", "k00008", "k00009"]
