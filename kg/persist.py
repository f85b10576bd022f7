"""A persistent store: the loaded, derived and validated graph kept on disk for every later command.

A store is a directory ``DIR`` that kg owns::

    DIR/current          symlink → the generation every reader opens
    DIR/gen-<stamp>/     one complete load: ``oxigraph/`` (the Oxigraph database) and ``manifest.json``
    DIR/.tmp-<stamp>/    a load in progress (renamed to ``gen-…`` only when it succeeded)
    DIR/.lock            held by the one ``kg load`` that may run at a time

``kg load`` builds a new generation beside the current one and then swaps ``current`` to it
with one ``rename`` of a symlink, so a reader sees either the old graph or the new one, never a
part; a load that fails (a syntax error, a SHACL violation, Ctrl-C) removes its directory and
leaves ``current`` as it was. A published generation is never written again, so readers open
it read-only (:meth:`pyoxigraph.Store.read_only`) and any number of them may run at once. The
previous generation is kept until the next load, for readers that opened it before the swap.

The manifest records what was loaded (path, size, sha256 of every file, kg's version, the date,
a hash of the bundled data and ontology); opening a store compares it with the files on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import pyoxigraph as ox

from kg import __version__
from kg.errors import InputError, KGError
from kg.store import KGStore, LoadedFile

__all__ = ["StoreError", "open_store", "load_into", "store_warnings", "bundled_hash", "MANIFEST"]

MANIFEST = "manifest.json"
#: Version of the store's layout and manifest; a store of another version must be loaded again.
LAYOUT = 1


class StoreError(KGError):
    """A ``--store`` directory is missing, is not a kg store, or is being loaded by another process."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def bundled_hash() -> str:
    """One sha256 over the bundled data and the ontology (shapes and rule included) that this
    installation of kg would load: it changes when a new kg ships other data."""
    from kg.resources import data_dir, ontology_dir

    digest = hashlib.sha256()
    files = sorted(data_dir().glob("*.trig")) + sorted(p for p in ontology_dir().rglob("*") if p.is_file())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _current(root: Path) -> Path:
    """The generation ``root/current`` points at; raises :class:`StoreError` when there is none."""
    if not root.exists():
        raise StoreError(f"{root}: no such store; create it with `kg load --store {root} FILES…`")
    if not root.is_dir():
        raise StoreError(f"{root}: not a directory, so not a kg store")
    link = root / "current"
    gen = link.resolve() if link.is_symlink() else None
    if gen is None or not (gen / MANIFEST).is_file() or not (gen / "oxigraph").is_dir():
        raise StoreError(f"{root}: not a kg store (no current generation); create it with "
                         f"`kg load --store {root} FILES…`")
    return gen


def read_manifest(root: str | Path, gen: Path | None = None) -> dict:
    """The manifest of the store's current generation (or of ``gen``, resolved once by the caller)."""
    gen = gen or _current(Path(root))
    try:
        manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{gen / MANIFEST}: unreadable manifest ({exc})") from None
    if manifest.get("layout") != LAYOUT:
        raise StoreError(f"{root}: a store of layout {manifest.get('layout')!r}, this kg reads layout {LAYOUT}; "
                         f"load it again with `kg load --store {root} …`")
    return manifest


def open_store(root: str | Path) -> KGStore:
    """Open the store at ``root`` read-only, as a :class:`kg.store.KGStore` whose ``files`` are
    those the manifest lists; raises :class:`StoreError` for a missing or foreign directory."""
    root = Path(root)
    gen = _current(root)  # resolved once: a load that swaps ``current`` meanwhile does not mix two
    manifest = read_manifest(root, gen)
    try:
        store = ox.Store.read_only(str(gen / "oxigraph"))
    except OSError as exc:
        raise StoreError(f"{root}: cannot open the store ({str(exc).splitlines()[0]})") from None
    files = [LoadedFile(f["path"], f["graphs"], f["quads"], f["bundled"], f["format"]) for f in manifest["files"]]
    kg = KGStore(store=store, files=files, derived=True)
    kg.manifest = manifest
    return kg


def store_warnings(root: str | Path, manifest: dict) -> list[str]:
    """What changed since the load: user files changed or gone (compared by size, then by sha256
    when the modification time differs), and bundled data other than this kg's."""
    changed = []
    for f in manifest["files"]:
        if f["bundled"]:
            continue
        path = Path(f["path"])
        try:
            stat = path.stat()
        except OSError:
            changed.append(f"{f['path']} (gone)")
            continue
        if stat.st_size != f["size"] or (stat.st_mtime_ns != f["mtime_ns"] and _sha256(path) != f["sha256"]):
            changed.append(f["path"])
    out = []
    if changed:
        out.append(f"{root} was loaded on {manifest['created'][:10]} from files changed since: {', '.join(changed)}; "
                   f"run `kg load --store {root} …` again")
    if manifest["bundled"] and manifest["bundled_sha256"] != bundled_hash():
        out.append(f"{root} holds the bundled data of kg {manifest['kg_version']}, this is kg {__version__} "
                   f"with other bundled data; run `kg load --store {root} …` again")
    return out


# -- loading -------------------------------------------------------------------------------
def _lock(root: Path):
    import fcntl

    fh = (root / ".lock").open("a")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise StoreError(f"{root}: another `kg load` is writing this store") from None
    return fh


def _check_root(root: Path) -> None:
    """``root`` must be a kg store, an empty directory, or a path to create; never someone's data."""
    if root.exists() and not root.is_dir():
        raise StoreError(f"{root}: not a directory")
    if root.is_dir() and not (root / "current").is_symlink():
        if any(p.name != ".lock" for p in root.iterdir()):
            raise StoreError(f"{root}: a directory that is not a kg store and not empty; name an empty or new one")


def load_into(root: str | Path, data: Iterable[str | Path], *, bundled: bool = True, validate: bool = True,
              say: Callable[[str], None] = lambda line: None) -> dict:
    """Load ``data`` (with the bundled graph unless ``bundled=False``), derive, validate (unless
    ``validate=False``) and publish the result as the new generation of the store at ``root``.

    The graph is the one :func:`kg.store.load_store` makes in memory, bulk-loaded into a new
    on-disk database. Any failure leaves the store's current generation as it was. Returns the
    manifest written; ``say`` receives the progress lines.
    """
    from kg.store import load_store

    root, data = Path(root), [Path(p) for p in data]
    _check_root(root)
    for path in data:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    lock = _lock(root)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    tmp = root / f".tmp-{stamp}-{os.getpid()}"
    try:
        start = time.perf_counter()
        size = sum(p.stat().st_size for p in data)
        say(f"reading {len(data)} file(s), {size / 1e6:.1f} MB"
            + (" and the bundled graph" if bundled else "") + (", then validating…" if validate and data else "…"))
        kg = load_store(data, bundled=bundled, validate=validate)
        for line in getattr(kg, "warnings", []):
            say(f"warning: {line}")
        say(f"loaded {len(kg):,} quads in {time.perf_counter() - start:.1f} s; writing {tmp.name}…")
        start = time.perf_counter()
        tmp.mkdir()
        dump = tmp / "graph.nq"
        kg.store.dump(output=str(dump), format=ox.RdfFormat.N_QUADS)
        disk = ox.Store(str(tmp / "oxigraph"))
        disk.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
        disk.flush()
        count = len(disk)
        del disk
        dump.unlink()
        if count != len(kg):
            raise StoreError(f"{root}: wrote {count} quads of {len(kg)}; the store is left as it was")
        manifest = _manifest(kg, data, bundled, validate)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        gen = root / f"gen-{stamp}"
        tmp.rename(gen)
        _publish(root, gen)
        say(f"wrote {count:,} quads to {root} in {time.perf_counter() - start:.1f} s")
        return manifest
    except BaseException:
        shutil.rmtree(root if created else tmp, ignore_errors=True)
        raise
    finally:
        lock.close()


def _publish(root: Path, gen: Path) -> None:
    """Point ``root/current`` at ``gen`` with one rename, then remove the generations older than
    the one it pointed at before (readers that opened that one keep it until the next load)."""
    link = root / "current"
    previous = link.resolve() if link.is_symlink() else None
    new_link = root / f".current-{gen.name}"
    new_link.unlink(missing_ok=True)
    new_link.symlink_to(gen.name)
    os.replace(new_link, link)
    keep = {gen.name, previous.name if previous else None}
    for old in root.glob("gen-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".tmp-*"):  # loads that were killed: the lock says none is running
        shutil.rmtree(stale, ignore_errors=True)


def _manifest(kg: KGStore, data: list[Path], bundled: bool, validate: bool) -> dict:
    by_path = {str(Path(p).resolve()): p for p in data}
    files = []
    for f in kg.files:
        entry = {"path": f.path, "graphs": f.graphs, "quads": f.quads, "bundled": f.bundled, "format": f.format}
        if not f.bundled:
            path = Path(by_path.get(str(Path(f.path).resolve()), f.path)).resolve()
            stat = path.stat()
            entry.update(path=str(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=_sha256(path))
        files.append(entry)
    return {
        "layout": LAYOUT,
        "kg_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "bundled": bundled,
        "bundled_sha256": bundled_hash(),
        "validated": validate,
        "quads": len(kg),
        "files": files,
    }
