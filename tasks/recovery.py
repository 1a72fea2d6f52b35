"""What a run repairs before it starts: a damaged doit database and half-written packages.

doit writes its JSON database in place when a run ends, so a run killed at that moment
(or a full disk) leaves a truncated file that doit would stop on with a traceback. The
stamps, not the database, say what is done, so a damaged database is moved aside with a
message and the run re-checks the stamps. A package stage killed while writing leaves a
partial archive in the publishing room; the next run that holds the cache lock empties it.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .fsutil import remove_tree
from .paths import Layout


def recover_doit_db(db: Path) -> str | None:
    """Move an unreadable doit database aside; returns the message shown, or None if sound."""
    try:
        text = db.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problem = str(exc)
    else:
        try:
            json.loads(text)
            return None
        except ValueError as exc:
            problem = f"not valid JSON ({exc})"
    damaged = db.with_name(db.name + ".damaged")
    try:
        os.replace(db, damaged)
    except OSError as exc:
        return (f"condoit: doit's database {db} is damaged ({problem}) and could not be moved "
                f"aside ({exc}); remove it by hand: the stamps keep what is done")
    return (f"condoit: doit's database {db} was damaged ({problem}); moved it to {damaged}. "
            "Nothing is lost: the stamps say which stages are done, so this run re-checks them.")


def sweep_partial_packages(layout: Layout) -> None:
    """Empty the publishing room, and drop partial archives older versions left in the channel."""
    remove_tree(layout.publishing)
    if layout.channel.is_dir():
        for subdir in layout.channel.iterdir():
            if subdir.is_dir():
                for leftover in subdir.glob(".*.part.*"):
                    leftover.unlink(missing_ok=True)


def report(message: str | None) -> None:
    if message:
        print(message, file=sys.stderr)
