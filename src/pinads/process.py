"""Process-wide settings of a pinads process, made once by its entry point (`pinads`,
`tap-pinads`), never by library code: the web server runs up to four extractions at once in
one process, and a library call changing the allocator or the collector under the others (or
undoing it when it ends first) would change them for all."""

from __future__ import annotations

import gc

import pyarrow as pa

__all__ = ["tune_process"]


def tune_process() -> None:
    """Arrow's system allocator and a frozen start-up heap, for the whole process."""
    # Arrow's bundled mimalloc keeps freed pages (~30 MB more RSS over a large run); the
    # system allocator returns them, at no measurable cost for step-sized batches.
    pa.set_memory_pool(pa.system_memory_pool())
    # What exists at start (modules, the command's objects) lives as long as the process: park
    # it outside the collector, so the full collections the interpreter makes on its own during
    # a long run look only at objects made since.
    gc.freeze()
