"""Dagster definitions, one folder per pipeline stage.

ingest -> staging -> linkage -> core -> marts -> publish. Each stage folder uses the same
file names, one per Dagster concept (`assets.py`, `checks.py`, `jobs.py`, `partitions.py`,
`schedules.py`, `sensors.py`); `pipelines.definitions` collects every module-level Dagster
object below this package, so a new asset needs no registration anywhere else.
Modules here must stay cheap to import: heavy libraries (Great Expectations, Splink) are
imported inside the functions that use them.
"""
