"""The retry policy of the assets that read and write the object store.

The object-store layer already rides out a server restart of a few seconds
(``cityplatform.objectstore.CONNECT_RETRIES``); a longer outage fails the step, and Dagster runs it
again after 10, 20 and 40 s (give or take a fifth, so that the steps of many runs do not return at
the same instant). A failure no retry mends (a missing clip, a rejected registry, a day with no
landing objects) raises ``dg.Failure(allow_retries=False)`` and is not retried.
"""

import dagster as dg

STORAGE_RETRY = dg.RetryPolicy(
    max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
