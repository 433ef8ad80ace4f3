"""A worker's one cancel listener on a real Redis (workers/inference/cancel_listener.py): one
thread and one pub/sub connection hear every watched reply's Stop, each reply's own; a cancel
asked before the watch, or while the subscription was gone, is heard all the same; with
nothing watched the listener ends, and the next reply starts another."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.redis_keys import CANCEL_PREFIX
from app.resources import connect_redis
from app.streams import TokenStreams
from testkit.faultstack import RedisServer
from workers.inference import cancel_listener
from workers.inference.cancel_listener import IDLE_WAIT_S, watch_cancel


@pytest.fixture()
def streams(tmp_path: Path) -> Iterator[TokenStreams]:
    """On a server of its own: the tests close its pub/sub connections."""
    server = RedisServer(tmp_path)
    client = connect_redis(server.url)
    try:
        yield TokenStreams(client, final_ttl_s=60, live_ttl_s=60)
    finally:
        client.close()
        server.stop()


def listeners() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "cancel-listener"]


def listener_of(streams: TokenStreams) -> cancel_listener.CancelListener:
    """This process's listener on the streams' client."""
    return cancel_listener._listeners[(os.getpid(), id(streams.client))]


def pubsub_connections(streams: TokenStreams) -> int:
    return len(streams.client.client_list(_type="pubsub"))


def wait_for(condition: Callable[[], bool], what: str, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_one_thread_and_one_connection_hear_each_replys_own_cancel(
    streams: TokenStreams,
) -> None:
    before = len(listeners())
    flags = {reply_id: threading.Event() for reply_id in range(1, 9)}
    unwatch = [watch_cancel(streams, reply_id, flag) for reply_id, flag in flags.items()]
    listener = listener_of(streams)
    assert listener.subscribed.wait(10)
    assert len(listeners()) == before + 1
    assert pubsub_connections(streams) == 1  # not one a reply
    streams.request_cancel(3)
    assert flags[3].wait(5), "the cancel was not heard"
    streams.request_cancel(99)  # a reply this worker does not run
    time.sleep(0.2)
    assert [reply_id for reply_id, flag in flags.items() if flag.is_set()] == [3]
    for done in unwatch:
        done()


def test_a_cancel_asked_before_the_watch_is_heard_at_once(streams: TokenStreams) -> None:
    streams.request_cancel(5)
    flag = threading.Event()
    unwatch = watch_cancel(streams, 5, flag)
    assert flag.is_set()  # the flag was read when the watch began, before any message
    unwatch()


def test_a_cancel_asked_while_the_subscription_was_gone_is_heard(streams: TokenStreams) -> None:
    """A Stop whose message came while the listener had no subscription (Redis restarting,
    a dropped connection) is in the reply's flag: the listener reads the flags of the replies
    it watches each time it has subscribed again."""
    flag = threading.Event()
    unwatch = watch_cancel(streams, 7, flag)
    listener = listener_of(streams)
    assert listener.subscribed.wait(10)
    streams.client.set(f"{CANCEL_PREFIX}7", "1")  # the flag, its message lost
    time.sleep(0.2)
    assert not flag.is_set()
    streams.client.client_kill_filter(_type="pubsub")  # the listener's connection drops
    assert flag.wait(10), "a cancel asked while unsubscribed was not heard"
    unwatch()


def test_with_nothing_watched_the_listener_ends_and_the_next_reply_starts_another(
    streams: TokenStreams,
) -> None:
    unwatch = watch_cancel(streams, 1, threading.Event())
    first = listener_of(streams)
    assert first.subscribed.wait(10)
    unwatch()
    first.join(IDLE_WAIT_S * 3)
    assert not first.is_alive()
    wait_for(lambda: pubsub_connections(streams) == 0, "the pub/sub connection stayed open")
    flag = threading.Event()
    unwatch = watch_cancel(streams, 2, flag)
    second = listener_of(streams)
    assert second is not first and second.subscribed.wait(10)
    streams.request_cancel(2)
    assert flag.wait(5)
    unwatch()
