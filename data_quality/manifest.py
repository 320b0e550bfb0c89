"""The manifest contract: what ``_manifest.json`` must say before a batch is read at all.

A batch is complete when its manifest exists (the exporter writes it last). The manifest is the
source system's statement of what it exported, so it is held to a strict schema: every field has
one type, every file has its row count, size and SHA-256, file names are plain names inside the
batch folder, no file is listed twice, and nothing the schema does not know is silently ignored.
Every violation is a problem that blocks the batch, worded with the manifest's path and the field.
Checking the folder against the manifest (files it does not list) is ``data_quality.landing``'s job.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from data_quality.contracts import IDENTIFIER_PATTERN, SourceContract
from data_quality.strict_json import StrictJSONError, loads

MANIFEST_FILE = "_manifest.json"
MANIFEST_VERSION = 1
MAX_MANIFEST_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})")
_MAX_COUNT = 10 ** 12  # rows or bytes of one file: anything larger is not a daily export

REQUIRED_KEYS = ("manifest_version", "source", "batch_date", "batch_id", "files")
OPTIONAL_KEYS = ("source_system", "exported_at")
FILE_REQUIRED_KEYS = ("name", "rows", "bytes", "sha256")
FILE_OPTIONAL_KEYS = ("table", "format")


@dataclass(frozen=True)
class ListedFile:
    """One file as the manifest describes it; a field the manifest got wrong is None (and a problem)."""

    name: str
    rows: int | None
    bytes: int | None
    sha256: str | None


@dataclass
class Manifest:
    batch_id: str | None
    files: dict[str, ListedFile] = field(default_factory=dict)  # entries with a plain name, by name
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # tolerated deviations, recorded (a byte-order mark)
    readable: bool = False  # a JSON object was read: its fields could be checked


def is_regular_file(path: Path) -> bool:
    """True for a regular file itself: not a symbolic link, directory, FIFO or device (reading a FIFO blocks)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def is_complete(directory: Path) -> bool:
    """A batch folder is complete when its manifest has been written (as a regular file)."""
    return is_regular_file(Path(directory) / MANIFEST_FILE)


def read_manifest(directory: Path, contract: SourceContract, batch_date: dt.date) -> Manifest | None:
    """The manifest of a batch folder, checked against its schema; None when there is none to read.

    A manifest that cannot be read at all (missing, not a regular file, too large, not UTF-8 or not
    standard JSON, not an object) comes back with its problem and no files.
    """
    path = Path(directory) / MANIFEST_FILE
    if not os.path.lexists(path):
        return None
    manifest = Manifest(batch_id=None)
    if not is_regular_file(path):
        manifest.problems.append(f"{path}: not a regular file (a symbolic link, folder or device); the exporter "
                                 f"must write the manifest itself")
        return manifest
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        manifest.problems.append(f"{path}: manifest is {size:,} bytes; at most {MAX_MANIFEST_BYTES:,} are read")
        return manifest
    payload = path.read_bytes()
    if payload.startswith(_BOM):
        payload = payload[len(_BOM):]
        manifest.notes.append(f"{path.name}: UTF-8 byte-order mark removed")
    try:
        document = loads(payload.decode("utf-8"))
    except UnicodeDecodeError as error:
        manifest.problems.append(f"{path}: manifest is not valid UTF-8 (byte offset {error.start})")
        return manifest
    except StrictJSONError as error:
        manifest.problems.append(f"{path}: manifest is not valid JSON ({error})")
        return manifest
    if not isinstance(document, dict):
        manifest.problems.append(f"{path}: manifest must be a JSON object, not {_kind(document)}")
        return manifest
    manifest.readable = True
    _check_header(path, document, contract, batch_date, manifest)
    files = document.get("files")
    if isinstance(files, list):
        _check_files(path, files, manifest)
    return manifest


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _check_header(path: Path, document: dict, contract: SourceContract, batch_date: dt.date,
                  manifest: Manifest) -> None:
    problems = manifest.problems
    for key in REQUIRED_KEYS:
        if key not in document:
            problems.append(f"{path}: manifest has no {key!r}")
    for key in document:
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            problems.append(f"{path}: manifest field {_show(key)} is not part of the manifest contract")
    version = document.get("manifest_version", MANIFEST_VERSION)
    if type(version) is not int or version != MANIFEST_VERSION:
        problems.append(f"{path}: manifest_version {_show(version)} is not supported (expected {MANIFEST_VERSION})")
    source = document.get("source", contract.name)
    if source != contract.name:
        problems.append(f"{path}: manifest is for source {_show(source)}, landed under {contract.name!r}")
    date = document.get("batch_date", batch_date.isoformat())
    if date != batch_date.isoformat():
        problems.append(f"{path}: manifest batch_date {_show(date)} does not match the folder {batch_date}"
                        + ("" if isinstance(date, str) and _DATE.fullmatch(date) else " (dates are YYYY-MM-DD)"))
    batch_id = document.get("batch_id")
    if isinstance(batch_id, str) and IDENTIFIER_PATTERN.fullmatch(batch_id):
        manifest.batch_id = batch_id
    elif "batch_id" in document:
        problems.append(f"{path}: batch_id {_show(batch_id)} is not an identifier")
    for key in OPTIONAL_KEYS:
        value = document.get(key)
        if key in document and not isinstance(value, str):
            problems.append(f"{path}: {key} must be a string, not {_kind(value)}")
    exported_at = document.get("exported_at")
    if isinstance(exported_at, str) and not _TIMESTAMP.fullmatch(exported_at):
        problems.append(f"{path}: exported_at {_show(exported_at)} is not a timestamp (YYYY-MM-DDTHH:MM:SSZ)")
    if "files" in document and not isinstance(document["files"], list):
        problems.append(f"{path}: 'files' must be a list, not {_kind(document['files'])}")
    elif document.get("files") == []:
        problems.append(f"{path}: 'files' is empty; a batch lists every file it contains")


def _check_files(path: Path, files: list, manifest: Manifest) -> None:
    """Check every entry; a named entry is kept even when a field is wrong, so its rows can still be quarantined."""
    problems = manifest.problems
    for number, entry in enumerate(files):
        where = f"{path}: files[{number}]"
        if not isinstance(entry, dict):
            problems.append(f"{where} must be an object, not {_kind(entry)}")
            continue
        name = entry.get("name")
        name_problem = _name_problem(name)
        if name_problem:
            problems.append(f"{where}: {name_problem}")
        else:
            where = f"{path}: {name}"
        problems.extend(f"{where}: manifest entry has no {key!r}" for key in FILE_REQUIRED_KEYS if key not in entry)
        problems.extend(f"{where}: manifest entry field {_show(key)} is not part of the manifest contract"
                        for key in entry if key not in FILE_REQUIRED_KEYS and key not in FILE_OPTIONAL_KEYS)
        counts = {}
        for key in ("rows", "bytes"):
            value = entry.get(key)
            counts[key] = value if type(value) is int and 0 <= value <= _MAX_COUNT else None
            if key in entry and counts[key] is None:
                problems.append(f"{where}: {key} must be a whole number from 0 to {_MAX_COUNT:,}, not {_show(value)}")
        sha256 = entry.get("sha256")
        if not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
            sha256 = None
            if "sha256" in entry:
                problems.append(f"{where}: sha256 must be 64 lowercase hex digits, not {_show(entry['sha256'])}")
        for key in FILE_OPTIONAL_KEYS:
            if key in entry and not isinstance(entry[key], str):
                problems.append(f"{where}: {key} must be a string, not {_kind(entry[key])}")
        if name_problem:
            continue
        if name in manifest.files:
            problems.append(f"{where}: listed twice in the manifest")
            continue
        manifest.files[name] = ListedFile(name, counts["rows"], counts["bytes"], sha256)


def _name_problem(name) -> str | None:
    """Why ``name`` is not a plain file name inside the batch folder (None when it is one)."""
    if not isinstance(name, str):
        return f"file name must be a string, not {_kind(name)} ({_show(name)})"
    if name in ("", ".", "..") or name != name.strip() or any(c in name for c in "/\\\x00"):
        return f"file name {_show(name)} is not a plain file name inside the batch folder"
    if name == MANIFEST_FILE:
        return f"file name {name!r} is the manifest itself"
    return None


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
