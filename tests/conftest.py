"""Suite-wide settings: everything offline, nothing written outside temporary folders."""

from __future__ import annotations

import os

# Set before any test imports Great Expectations, Dagster or Streamlit.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
os.environ.setdefault("STREAMLIT_SERVER_HEADLESS", "true")
os.environ.setdefault("STREAMLIT_SERVER_ADDRESS", "127.0.0.1")
