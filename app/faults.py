"""Fault injection for the crash tests (tests/test_crash.py); does nothing unless configured.

With `GKML_TEST_PAUSE_AFTER_FLUSH=import` (or `publish`) that operation, once all its
writes are flushed to the database and before the request's transaction commits, logs
PAUSED and sleeps, so a test can SIGKILL the server with the transaction provably half
done. A kill timed from outside cannot tell "still reading the file" from "committed";
this point can. Never set it in production: the operation would hang for a minute.
"""

import logging
import time

from app.config import get_settings

PAUSED = "fault injection: paused after flush, before commit:"
PAUSE_SECONDS = 60.0


def pause_after_flush(operation: str) -> None:
    if get_settings().test_pause_after_flush != operation:
        return
    logging.getLogger("uvicorn.error").warning("%s %s", PAUSED, operation)
    time.sleep(PAUSE_SECONDS)
