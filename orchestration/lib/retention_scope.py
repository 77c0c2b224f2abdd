"""How a domain puts an asset's objects under governance retention: declared on the asset's spec, so
that the retention asset (``orchestration.defs.governance.retention``) finds what it governs in the
code location's catalogue instead of importing the domains.

- ``RETAINED`` (a tag): every object under the asset's ``dagster/uri`` is deleted once older than
  the ``retention_days`` its spec carries from the registry (``orchestration.lib.ownership``), aged
  by the ``date=`` partition in its key, else by its last-modified date.
- ``KEPT_WITH`` (metadata, ``s3://`` prefixes): objects cut from the asset's objects that no asset
  declares (blurred frames, quarantined copies of a clip), kept no longer than the asset's own.
- ``RETIRES_PARTITIONS`` (metadata, true): an object deleted from the asset's ``dagster/uri`` whose
  file name (without suffix) is one of the asset's dynamic partitions takes that partition with it,
  so the UI no longer offers runs on data that is gone.

- ``RETAINED_BY_DAY`` (a tag): a warehouse table (``dagster/table_name``) partitioned by local day in
  its ``DAY_COLUMN`` (metadata): the rows of every day older than its ``retention_days`` are deleted
  (the dbt models built day by day, ``replace_days``).

Assets without either tag (tables replaced whole, reference tables, governance records) are never
deleted.
"""

RETENTION_TAG = "retention"
RETAINED = {RETENTION_TAG: "delete_past_period"}
KEPT_WITH = "retention/kept_with"
RETIRES_PARTITIONS = "retention/retires_partitions"
RETAINED_BY_DAY = {RETENTION_TAG: "delete_expired_days"}
DAY_COLUMN = "retention/day_column"
