"""Where the test kit draws its servers' ports: outside the kernel's ephemeral range, so that
none of the suite's outgoing connections can take one before its server binds it."""

from __future__ import annotations

import socket

from testkit.processes import ephemeral_range, free_port, outside_ephemeral


def test_ports_are_drawn_outside_the_ephemeral_range() -> None:
    assert outside_ephemeral(32768, 60999) == range(20_000, 32768)  # Linux's default range
    assert outside_ephemeral(15000, 60999) == range(5000, 15000)  # a range that starts low
    assert outside_ephemeral(1024, 60999) == range(61000, 65536)  # none below: above it
    assert outside_ephemeral(1024, 65000) == range(1024, 65536)  # no room: anywhere


def test_a_free_port_can_be_bound_and_is_not_ephemeral() -> None:
    low, high = ephemeral_range()
    port = free_port()
    assert port in outside_ephemeral(low, high)
    assert not low <= port <= high or outside_ephemeral(low, high) == range(1024, 65536)
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", port))
