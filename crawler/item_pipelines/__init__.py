"""Item pipelines, one class per module, priorities spaced by 100 (see crawler/settings.py)."""
