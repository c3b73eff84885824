"""The built-in specs ("the zoo") and resolving a SPEC argument to a file.

The specs live in the repository's ``specs/`` folder and are packaged into the wheel as
``archcalc/specs``; a zoo name is the file's path below that folder without ``.yaml``
(``alexnet``, ``torchvision/vgg16_bn``), or one of the ``aliases:`` a spec declares
(``vgg16`` for VGG configuration D).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .errors import Source, ZooError, short_text, close_matches
from .yaml_source import load_yaml_file


def docs_dir() -> Path:
    """The installed documentation (docs/ shipped as archcalc/docs), or the repository's."""
    packaged = Path(__file__).parent / "docs"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "docs"


def zoo_dir() -> Path:
    """The installed specs folder, or the repository's when running from a checkout."""
    packaged = Path(__file__).parent / "specs"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "specs"


class ZooEntry(NamedTuple):
    name: str
    path: Path
    aliases: tuple[str, ...]
    title: str
    description: str
    variant: str | None = None  # the member of a family spec (variants:) this name selects


def _name_of(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


@lru_cache(maxsize=1)
def zoo_entries() -> tuple[ZooEntry, ...]:
    """Every built-in spec, sorted by name (reads each file's top level)."""
    root = zoo_dir()
    entries = []
    for path in sorted(root.rglob("*.yaml")):
        raw = load_yaml_file(path)
        description = " ".join(str(raw.get("description", "")).split())
        variants = raw.get("variants") or {}
        if not variants:
            entries.append(ZooEntry(_name_of(path, root), path, tuple(raw.get("aliases", ())), str(raw.get("name", "")),
                                    description))
        folder = _name_of(path, root).rpartition("/")[0]
        for variant, member in variants.items():
            title = str((member or {}).get("name") or f"{raw.get('name', '')} {variant}")
            entries.append(ZooEntry(f"{folder}/{variant}" if folder else variant, path, (), title, description,
                                    variant))
    return tuple(sorted(entries, key=lambda entry: entry.name))


_ALIASES_LINE = re.compile(r"^aliases:\s*\[([^\]]*)\]\s*$", re.MULTILINE)
_VARIANTS_BLOCK = re.compile(r"^variants:[ \t]*\n((?:(?:[ \t]+[^\n]*)?\n)*)", re.MULTILINE)
_VARIANT_KEY = re.compile(r"^  ([A-Za-z0-9_.-]+):", re.MULTILINE)


def variant_names(text: str) -> list[str]:
    """The members a spec's ``variants:`` block declares (keys indented two spaces), read without
    parsing the YAML, as :func:`alias_index` reads aliases; a test checks it agrees with the parse."""
    match = _VARIANTS_BLOCK.search(text)
    return _VARIANT_KEY.findall(match.group(1)) if match else []


class Resolved(NamedTuple):
    """A spec argument resolved: the file, and the member of its family when a variant was named."""

    path: Path
    variant: str | None = None


@lru_cache(maxsize=1)
def _texts() -> tuple[tuple[Path, str], ...]:
    """Every built-in spec file and its text, read once per process (names are resolved from them
    without parsing YAML)."""
    return tuple((path, path.read_text(encoding="utf-8")) for path in sorted(zoo_dir().rglob("*.yaml")))


def variant_index() -> dict[str, Resolved]:
    """Every variant by zoo name: ``torchvision/efficientnet_b3`` (the file's folder, then the
    variant), and the bare ``efficientnet_b3``."""
    root = zoo_dir()
    index: dict[str, Resolved] = {}
    for path, text in _texts():
        folder = path.parent.relative_to(root).as_posix()
        for variant in variant_names(text):
            index[variant if folder == "." else f"{folder}/{variant}"] = Resolved(path, variant)
            index.setdefault(variant, Resolved(path, variant))
    return index


def _family_member(spec: str) -> Resolved | None:
    """``torchvision/resnet152``: the member of a family spec in that folder of the zoo, found by
    reading only that folder's files (the same answer as :func:`variant_index`, which reads them all)."""
    folder, _, variant = spec.rpartition("/")
    if not folder or any(part in ("", ".", "..") for part in folder.split("/")):  # a zoo folder's name, exactly
        return None
    found = None
    for path, text in _folder_texts(folder):
        if variant in variant_names(text):
            found = Resolved(path, variant)  # the last one, as in variant_index
    return found


@lru_cache(maxsize=16)
def _folder_texts(folder: str) -> tuple[tuple[Path, str], ...]:
    """The spec files of one folder of the zoo and their texts, read once per process (as :func:`_texts`)."""
    return tuple((path, path.read_text(encoding="utf-8")) for path in sorted((zoo_dir() / folder).glob("*.yaml")))


def alias_index() -> dict[str, Path]:
    """Alias -> spec file, read from each built-in spec's one-line ``aliases: [...]``.

    A regular expression instead of a YAML parse keeps ``archcalc summary vgg16`` from
    parsing every spec of the zoo; a test checks it agrees with the parsed ``aliases``.
    """
    index: dict[str, Path] = {}
    for path, text in _texts():
        match = _ALIASES_LINE.search(text)
        if match:
            for alias in match.group(1).split(","):
                if alias.strip():
                    index[alias.strip()] = path
    return index


def display_name(file: str) -> str:
    """``built-in alexnet`` for a zoo file, the path itself otherwise (for report titles)."""
    path, root = Path(file), zoo_dir()
    if path.is_absolute() and path.is_relative_to(root):
        return f"built-in {_name_of(path, root)}"
    return file


def resolve_spec(spec: str) -> Path:
    """A path to a spec file, or the built-in spec of that name."""
    return resolve(spec).path


def resolve(spec: str) -> Resolved:
    """A spec file, or the built-in spec (and the member of a family) of that name."""
    try:
        return _resolve(spec)
    except OSError as err:  # a name too long for the file system, say
        raise ZooError(f"cannot use it as a spec: {err.strerror or err}", source=Source(short_text(spec, 300))) from None


def _resolve(spec: str) -> Resolved:
    path = _resolve_file(spec)
    return path if isinstance(path, Resolved) else Resolved(path)


def _resolve_file(spec: str) -> Path | Resolved:
    path = Path(spec)
    if path.exists() and not path.is_dir():
        return path  # whatever it is: reading it says what is wrong (a FIFO, a device, ...)
    if path.suffix in (".yaml", ".yml") or "\\" in spec:
        if path.is_dir():
            raise ZooError("it is a directory", source=Source(short_text(spec, 300)), hint="give a spec file")
        raise ZooError("no such file", source=Source(short_text(spec, 300)))
    direct = zoo_dir() / f"{spec}.yaml"
    if direct.is_file():
        return direct
    member = _family_member(spec)
    if member is not None:
        return member
    aliases: dict[str, Path | Resolved] = {**variant_index(), **alias_index()}
    if spec in aliases:
        return aliases[spec]
    root = zoo_dir()
    files = {_name_of(path, root): path for path, _ in _texts()}
    by_case = {name.lower(): target for name, target in (*files.items(), *aliases.items())}
    if spec.lower() in by_case:  # VGG16, ResNet50: the names are lower case, people are not
        return by_case[spec.lower()]
    if path.is_dir():
        raise ZooError("it is a directory", source=Source(short_text(spec, 300)),
                       hint="give a spec file, or a name 'archcalc zoo' lists")
    names = list(dict.fromkeys([*files, *aliases]))  # each name once
    close = close_matches(spec.lower(), names, n=3)
    raise ZooError(
        f"'{short_text(spec)}' is neither a file nor a built-in spec",
        hint=(f"did you mean {', '.join(repr(c) for c in close)}? " if close else "") + "'archcalc zoo' lists the built-in specs",
    )
