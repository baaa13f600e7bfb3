"""What a run's upload directory must hold once every connection has ended: each upload all or
nothing (every file of it whole, and its folder, or none of them), whatever cut its body short;
every upload that was answered, stored; no temporary file; nothing that no request asked for."""

from __future__ import annotations

import os
from collections.abc import Iterable

from tests.simulation.requests import SimRequest


def check_tree(root: str, uploads: Iterable[tuple[SimRequest, bool]]) -> tuple[int, list[str]]:
    """How many of the ``uploads`` of a run (each with whether its answer was read whole) the
    directory ``root`` holds, and what is wrong with it."""
    violations = []
    stored = 0
    found: dict[str, bytes | None] = {}  # path under root -> content, None for a folder
    for directory, folders, names in os.walk(root):
        for name in folders:
            found[os.path.relpath(os.path.join(directory, name), root)] = None
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as file:
                found[os.path.relpath(path, root)] = file.read()
    for request, answered in uploads:
        expected: dict[str, bytes | None] = dict(request.stores)
        if request.folder:
            expected[request.folder] = None
        present = [name for name in expected if name in found]
        if answered and len(present) < len(expected):
            violations.append(f"{request.label!r} was answered, but {sorted(set(expected) - set(present))} not stored")
        elif present and len(present) < len(expected):
            violations.append(f"{request.label!r} stored in part: {sorted(present)} of {sorted(expected)}")
        stored += bool(present)
        for name in present:
            content = found.pop(name)
            if content != expected[name]:
                size = "a folder" if content is None else f"{len(content)} bytes"
                violations.append(f"{request.label!r}: {name} holds {size}, not the {len(expected[name] or b'')} sent")
    for name in sorted(found):
        what = "a temporary file" if os.path.basename(name).startswith(".upload-") else "an entry nobody uploaded"
        violations.append(f"the upload directory holds {what}: {name}")
    return stored, violations
