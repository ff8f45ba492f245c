"""Work done by several people at the same moment, for the tests that show they are kept apart."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def at_once(*work: Callable[[], Any]) -> list[Any]:
    """Run each piece of work in its own thread, all released together; return what each gave,
    in order. An exception a piece raised is returned in its place."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(index: int, piece: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = piece()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
