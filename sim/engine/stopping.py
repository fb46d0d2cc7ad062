"""A request to stop the run in progress (Ctrl-C, SIGTERM), honoured between instants.

The CLI's signal handlers call ``request_stop``; the clock checks the flag after every
event and ends the run once the current instant is complete (its decision pass done), so
the engine's state is consistent and the records say how far the run got
(``RunRecords.stopped_at``). A flag rather than an exception: a signal can arrive in the
middle of an event, where the state is half updated.
"""

from __future__ import annotations

requested = False


def request_stop() -> None:
    global requested
    requested = True


def clear() -> None:
    global requested
    requested = False
