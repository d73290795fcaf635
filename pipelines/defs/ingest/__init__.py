"""Ingest: find complete batches in the inbox, check them as a whole, validate their rows.

The sensor registers each new batch as a partition; the staging assets call `load_batch`
(`load.py`), which does every check and writes the outcome in one transaction.
"""
