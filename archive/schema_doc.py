"""The README's schema section, generated from a real database: ``python -m archive.schema_doc [README.md]``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sqlite_utils

from . import schema

START, END = "<!-- schema:start -->", "<!-- schema:end -->"


def markdown() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite_utils.Database(Path(tmp) / "schema.db")
        schema.apply(db)
        out = [f"Generated from a real database by `python -m archive.schema_doc` ({len(schema.TABLES)} tables).", ""]
        for name in schema.TABLES:
            table = db[name]
            keys = {fk.column: f"→ {fk.other_table}.{fk.other_column}" for fk in table.foreign_keys}
            pks = set(table.pks) if table.pks != ["rowid"] else set()
            columns = ", ".join(
                f"`{c.name}` {c.type.lower()}" + (" pk" if c.name in pks else "") + (f" {keys[c.name]}" if c.name in keys else "")
                for c in table.columns
            )
            indexes = ", ".join(("unique " if i.unique else "") + _indexed(i) for i in table.indexes)
            out.append(f"- **{name}**: {columns}" + (f". Indexes: {indexes}" if indexes else ""))
        for view in db.view_names():
            out.append(f"- view **{view}**: " + ", ".join(f"`{c.name}`" for c in db[view].columns))
        return "\n".join(out)


def _indexed(index) -> str:
    if None in index.columns:  # an index on an expression
        return f"on `{schema.EXPRESSION_INDEXES[index.name][1]}`"
    columns = "(" + ", ".join(index.columns) + ")"
    return f"{columns} where `{schema.PARTIAL_INDEXES[index.name][2]}`" if index.name in schema.PARTIAL_INDEXES else columns


def update(readme: Path) -> bool:
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{markdown()}\n{END}{tail}"
    changed = new != text
    readme.write_text(new, encoding="utf-8")
    return changed


if __name__ == "__main__":
    update(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
