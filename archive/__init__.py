"""The archive: raw bytes kept forever by sha256, versioned records in SQLite, Datasette on top.

Never imports the crawler: the crawler writes through :class:`archive.store.Archive`.
"""
