"""Content for the maturity self-assessment: a digital ethics maturity model.

The text lives in ``content/digital-ethics-maturity.yaml``; this module only loads and
checks it, in the same way as ``risk_content.py`` loads the risk register content. The
objects are frozen pydantic models, so nothing downstream can change the content by accident.

A model has levels numbered 0..N (2 to 10 of them) and components (1 to 20); every
component has exactly one statement per level, in level order, saying what the authority
looks like at that level and what evidence would show it. Nothing here is specific to
seven components or six levels: an authority can load its own model in the same format.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbook.bank import ID_PATTERN
from workbook.errors import ContentError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

CONTENT_FILE = "digital-ethics-maturity.yaml"
DEFAULT_MODEL = "digital-ethics-maturity-1"
PACKAGED_GLOB = "*maturity*.yaml"
PACKAGED_PLACE = f"workbook/content/{PACKAGED_GLOB}"
MIN_LEVELS, MAX_LEVELS = 2, 10
MAX_COMPONENTS = 20
MAX_FILE_BYTES = 1_000_000

Text = Annotated[str, Field(min_length=1)]


class UnknownEntry(ContentError, KeyError):
    """A component id or level value that the model does not have.

    Both a ``ContentError`` (so the widgets' and CLI's handler shows it as one line) and a
    ``KeyError`` (so a caller can treat it as a failed lookup).
    """


class _Problem(ValueError):
    """A check failed on a field below the model being validated (``field`` is its path)."""

    def __init__(self, message: str, *field: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class LevelName(_Frozen):
    """One step of the scale, e.g. 2 Defining."""

    value: int = Field(ge=0, strict=True)
    name: Text
    summary: Text


class Statement(_Frozen):
    """What a component looks like at one level, and what would show it."""

    level: int = Field(ge=0, strict=True)
    text: Text
    evidence: Text


class Component(_Frozen):
    """One area of maturity, e.g. Strategy, with one statement per level."""

    id: str = Field(pattern=ID_PATTERN)
    name: Text
    description: Text
    statements: tuple[Statement, ...] = Field(min_length=1)

    def statement(self, level: int) -> Statement:
        """The statement for ``level`` (a level value such as 0..5)."""
        if not isinstance(level, bool) and isinstance(level, int):
            for s in self.statements:
                if s.level == level:
                    return s
        known = f"{self.statements[0].level}..{self.statements[-1].level}"
        raise UnknownEntry(f"component {self.id!r} has no statement for level {level!r}; {known}")


class MaturityModel(_Frozen):
    """A maturity model: its levels and its components."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: Text
    attribution: Text
    levels: tuple[LevelName, ...] = Field(min_length=MIN_LEVELS, max_length=MAX_LEVELS)
    components: tuple[Component, ...] = Field(min_length=1, max_length=MAX_COMPONENTS)

    @model_validator(mode="after")
    def _check_model(self) -> MaturityModel:
        values = [lv.value for lv in self.levels]
        for i, value in enumerate(values):
            if value != i:
                raise _Problem(
                    f"levels must be numbered 0, 1, 2 ... in order; got {values}",
                    "levels",
                    i,
                    "value",
                )
        _no_duplicates(tuple(lv.name for lv in self.levels), "level name", "levels", key="name")
        _no_duplicates(tuple(c.id for c in self.components), "component id", "components", key="id")
        _no_duplicates(
            tuple(c.name for c in self.components), "component name", "components", key="name"
        )
        for ci, component in enumerate(self.components):
            self._check_statements(ci, component)
        return self

    def _check_statements(self, ci: int, component: Component) -> None:
        top = self.max_level
        expected = f"every component needs one statement per level, 0..{top}, in order"
        for i, statement in enumerate(component.statements):
            where = ("components", ci, "statements", i, "level")
            if statement.level > top:
                raise _Problem(
                    f"level {statement.level} is not a level of this model (0..{top})", *where
                )
            if statement.level > i:
                raise _Problem(
                    f"the statement for level {i} ({self.levels[i].name}) is missing: "
                    f"found level {statement.level} here; {expected}",
                    *where,
                )
            if statement.level < i:
                raise _Problem(
                    f"level {statement.level} comes again or out of order; {expected}", *where
                )
        if len(component.statements) < len(self.levels):
            missing = len(component.statements)
            raise _Problem(
                f"the statement for level {missing} ({self.levels[missing].name}) is missing; "
                f"{expected}",
                "components",
                ci,
                "statements",
            )

    @property
    def component_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.components)

    @property
    def max_level(self) -> int:
        """The top level's value (5 for a model with levels 0..5)."""
        return self.levels[-1].value

    def component(self, cid: str) -> Component:
        for c in self.components:
            if c.id == cid:
                return c
        raise UnknownEntry(
            f"unknown component {cid!r} in maturity model {self.id!r}; "
            f"known: {', '.join(self.component_ids)}"
        )

    def level(self, value: int) -> LevelName:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 <= value <= self.max_level
        ):
            raise UnknownEntry(
                f"level must be a whole number 0..{self.max_level} in maturity model "
                f"{self.id!r}, not {value!r}"
            )
        return self.levels[value]

    def level_label(self, value: int) -> str:
        """The level's number and name, e.g. ``"2 Defining"``."""
        return f"{value} {self.level(value).name}"


def _no_duplicates(items: tuple[str, ...], what: str, *field: str, key: str = "") -> None:
    """Raise on the second occurrence of an item; the field is ``field.<index>[.key]``."""
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item in seen:
            raise _Problem(f"duplicate {what} {item!r}", *field, i, *([key] if key else []))
        seen.add(item)


def _allowed_keys(loc: Sequence[str | int]) -> tuple[str, ...]:
    """The keys a mapping at ``loc`` (the path of an unknown key) may have."""
    model: Any = MaturityModel
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        args = get_args(annotation)
        model = args[0] if args else annotation
    return tuple(model.model_fields)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        context = getattr(exc, "context", None)
        detail = f"{context}, {problem}" if context else problem
        return f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {detail}"
    return "not valid YAML: " + " ".join(str(exc).split())


def parse_maturity_model(text: str, *, source: str = "<string>") -> MaturityModel:
    """Parse and check a maturity model from YAML text.

    Any problem raises ``ContentError`` naming ``source`` and the field, on one line.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContentError(_yaml_problem(exc), path=source) from None
    if not isinstance(data, dict):
        raise ContentError(
            "a maturity model must be a mapping with id, name, attribution, levels and "
            f"components; this file holds {'nothing' if data is None else type(data).__name__}",
            path=source,
        )
    try:
        return MaturityModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc: list[str | int] = list(err["loc"])
        message = err["msg"]
        problem = (err.get("ctx") or {}).get("error")
        if isinstance(problem, _Problem):
            loc += list(problem.field)
            message = problem.message
        elif err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}; allowed: {', '.join(_allowed_keys(loc))}"
        message = " ".join(str(message).split())
        field = ".".join(str(p) for p in loc) or None
        raise ContentError(message, path=source, field=field) from None


def _read(path: Path | Traversable, source: str) -> str:
    try:
        if isinstance(path, Path) and path.stat().st_size > MAX_FILE_BYTES:
            raise ContentError(
                f"too big for a maturity model (over {MAX_FILE_BYTES // 1_000_000} MB)",
                path=source,
            )
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentError("not UTF-8 text", path=source) from None
    except OSError as exc:
        raise ContentError(f"cannot read the file: {exc.strerror or exc}", path=source) from None


def load_maturity_model_file(path: Path | str) -> MaturityModel:
    """Load a maturity model from any YAML file in this format (e.g. an authority's own)."""
    path = Path(path)
    return parse_maturity_model(_read(path, str(path)), source=str(path))


def _packaged_files() -> list[tuple[str, Traversable]]:
    folder = resources.files("workbook") / "content"
    found = [f for f in folder.iterdir() if Path(f.name).match(PACKAGED_GLOB) and f.is_file()]
    return [(f"workbook/content/{f.name}", f) for f in sorted(found, key=lambda f: f.name)]


def _extra_files(extra_dirs: Sequence[Path | str]) -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for folder in map(Path, extra_dirs):
        if not folder.is_dir():
            raise ContentError("not a folder; cannot look for maturity models in it", path=folder)
        files += [(str(f), f) for f in sorted(folder.glob("*.yaml")) if f.is_file()]
    return files


def _find(
    model_id: str, files: Sequence[tuple[str, Path | Traversable]], searched: Sequence[str]
) -> MaturityModel:
    """Parse the one file among ``files`` whose top-level ``id`` is ``model_id``."""
    texts: dict[str, str] = {}
    ids: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for source, path in files:
        try:
            text = _read(path, source)
            data = yaml.safe_load(text)
        except (ContentError, yaml.YAMLError):
            unreadable.append(source)
            continue
        file_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(file_id, str):
            texts[source] = text
            ids.setdefault(file_id, []).append(source)
    sources = ids.get(model_id, [])
    if len(sources) > 1:
        raise ContentError(
            f"{len(sources)} files have the id {model_id!r}: {', '.join(sources)}; "
            "each maturity model needs its own id"
        )
    if not sources:
        known = ", ".join(sorted(ids)) or "none"
        skipped = f"; could not read {', '.join(unreadable)}" if unreadable else ""
        raise ContentError(
            f"no maturity model with id {model_id!r} in {', '.join(searched)}; "
            f"available: {known}{skipped}"
        )
    return parse_maturity_model(texts[sources[0]], source=sources[0])


@cache
def _load_packaged(model_id: str) -> MaturityModel:
    return _find(model_id, _packaged_files(), [PACKAGED_PLACE])


def load_maturity_model(
    model_id: str = DEFAULT_MODEL, *, extra_dirs: Sequence[Path | str] = ()
) -> MaturityModel:
    """The model whose ``id`` is ``model_id``.

    Looks in the packaged ``workbook/content/*maturity*.yaml`` and in every ``*.yaml`` in
    ``extra_dirs``. Packaged models are cached (the objects are immutable); files in extra
    folders are read on every call, as they may change. An unknown id, or an id that two
    files share, raises ``ContentError`` listing what is available.
    """
    if not extra_dirs:
        return _load_packaged(model_id)
    return _find(
        model_id,
        [*_packaged_files(), *_extra_files(extra_dirs)],
        [PACKAGED_PLACE, *(str(Path(d) / "*.yaml") for d in extra_dirs)],
    )
