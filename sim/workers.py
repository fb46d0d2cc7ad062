"""A process pool that a signal stops at once (``gpusim compare`` and ``sweep``)."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool


@contextmanager
def interruptible_pool(workers: int) -> Iterator[Pool]:
    """A ``multiprocessing.Pool`` whose workers ignore SIGINT and are terminated, not awaited,
    when the block ends in an exception (Ctrl-C or SIGTERM here, or a failed run): the
    caller's partial output is then removed by the caller, and no worker finishes the run
    it holds, nor any queued one, for nothing."""
    pool = multiprocessing.Pool(workers, initializer=_ignore_interrupts)
    try:
        yield pool
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
