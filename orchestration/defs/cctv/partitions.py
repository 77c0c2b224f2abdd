"""One dynamic partition per CCTV clip, added by the landing sensor as clips arrive."""

import dagster as dg

clip_partitions = dg.DynamicPartitionsDefinition(name="cctv_clips")
