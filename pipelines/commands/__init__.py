"""Warehouse-side `pahichan` sub-commands (each module holds one click command)."""
