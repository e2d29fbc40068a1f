"""Read the data rows of a catalogue table into items and a precise list of problems."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.models.common import (
    ATTRIBUTE_LABELS,
    OTHER_CHANNEL,
    SPECIFIC_AUDIENCE,
    normalize_audience,
    normalize_channels,
    normalize_levels,
)
from app.rules.attributes import DRAFTABLE_ATTRIBUTES
from app.spreadsheet import columns, files, values
from app.spreadsheet.header import Column, Layout, find_layout
from app.spreadsheet.limits import FileLimits
from app.spreadsheet.models import (
    Cell,
    Grid,
    ImportedItem,
    ImportProblem,
    ImportResult,
    Severity,
    Sheet,
)

NO_SECOND_LEVEL = "—"
"""How catalogues write an item that has no second level (guides.md, 征地管理政策)."""


def read_table(
    filename: str,
    data: bytes,
    *,
    max_bytes: int = 10_000_000,
    max_rows: int = 20_000,
    limits: FileLimits | None = None,
) -> ImportResult:
    """Read one unit × domain catalogue from XLSX or CSV bytes; raises only BadFile.

    Nothing is dropped silently: every cell the reader cannot map, every ignored column
    and every reinterpretation is a problem with its 1-based row (0 for the file).
    """
    sheets = files.load_sheets(
        filename, data, max_bytes=max_bytes, max_rows=max_rows, limits=limits
    )
    sheet, layout = _pick_sheet(sheets)
    problems = [*layout.problems, *_other_sheets(sheets, sheet)]
    if not layout.found:
        return ImportResult(rows=0, items=[], problems=problems, ignored_columns=[])
    data_rows = [
        index
        for index in range(layout.data_start, len(sheet.grid))
        if any(cell.own for cell in sheet.grid[index])
    ]
    if len(data_rows) > max_rows:
        raise files.too_many_rows(len(data_rows), max_rows)
    problems += _formula_problems(sheet.grid, layout)
    reader = _Reader(layout)
    for index in data_rows:
        reader.read(index + 1, sheet.grid[index])
    problems += reader.problems
    notes = [*layout.notes, *reader.notes()]
    if reader.rows == 0:
        problems.append(
            ImportProblem(
                row=0,
                field="file",
                msg="表头下没有事项行 / no item rows below the header",
                severity="error",
            )
        )
    return ImportResult(
        rows=reader.rows,
        items=reader.items,
        problems=problems,
        ignored_columns=layout.ignored,
        columns=layout.readings,
        notes=notes,
    )


def _pick_sheet(sheets: list[Sheet]) -> tuple[Sheet, Layout]:
    """The first sheet with a catalogue header (a workbook may carry notes or a cover)."""
    layouts = [(sheet, find_layout(sheet.grid)) for sheet in sheets]
    return next(((s, layout) for s, layout in layouts if layout.found), layouts[0])


def _other_sheets(sheets: list[Sheet], chosen: Sheet) -> list[ImportProblem]:
    return [
        ImportProblem(
            row=0,
            field="file",
            msg=f"只导入工作表“{chosen.name}”，工作表“{sheet.name}”未导入 / only sheet "
            f"{chosen.name!r} is imported; sheet {sheet.name!r} is ignored",
            severity="warning",
        )
        for sheet in sheets
        if sheet is not chosen and any(cell.own for row in sheet.grid for cell in row)
    ]


def _formula_problems(grid: Grid, layout: Layout) -> list[ImportProblem]:
    """Formulas are never evaluated: each one is an error naming its cell."""
    fields = {c.index: c.field for c in layout.columns}
    return [
        ImportProblem(
            row=r + 1,
            field=fields.get(c, "file") if r >= layout.data_start else "header",
            msg=columns.at_cell(
                cell.formula,
                "含公式，公式不会被计算，请粘贴为数值",
                "holds a formula; formulas are not evaluated, paste values instead",
            ),
            severity="error",
        )
        for r, row in enumerate(grid)
        for c, cell in enumerate(row)
        if cell.formula
    ]


@dataclass
class _Row:
    """One data row being read: its texts by column and the problems found so far."""

    number: int
    texts: dict[int, str]
    formulas: set[int]
    problems: list[ImportProblem] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    """Fields with an error already: they are not reported as missing too."""

    def cell(self, column: Column) -> str:
        """The cell's reference as Excel shows it (H5), for messages about its words."""
        return columns.cell_ref(column.index, self.number)

    def text(self, column: Column | None) -> str:
        if column is None:
            return ""
        if column.index in self.formulas:
            self.failed.add(column.field)
        return self.texts.get(column.index, "")

    def report(self, severity: Severity, where: str, msg: str) -> None:
        if severity == "error":
            self.failed.add(where)
        self.problems.append(
            ImportProblem(row=self.number, field=where, msg=msg, severity=severity)
        )

    @property
    def has_error(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


class _Reader:
    """Walks the data rows in order, carrying the first-level item and the row above."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.rows = 0
        self.items: list[ImportedItem] = []
        self.problems: list[ImportProblem] = []
        self.first_level: str | None = None
        self.above: dict[int, str] = {}
        self.name_column = layout.first("item") or layout.first("name")
        self.third_column = layout.first("third")
        self.text_columns = {c.field: c for c in reversed(layout.of("text"))}
        self.filled_down: list[int] = []
        self.repeated_headers: list[int] = []
        # Where each header row has its first label: a cheap test before comparing rows.
        self.header_probes = [
            next((i, label) for i, label in enumerate(header) if label)
            for header in layout.header_rows
            if any(header)
        ]

    def notes(self) -> list[str]:
        """What the reader did to the file as a whole, for the dry run."""
        notes: list[str] = []
        if self.filled_down:
            rows = _row_list(self.filled_down)
            notes.append(
                f"一级事项空白的行沿用上一行的一级事项：第 {rows} 行 / rows {rows} leave 一级事项 "
                "blank and take the one above"
            )
        if self.repeated_headers:
            rows = _row_list(self.repeated_headers)
            notes.append(
                f"与表头相同的行（重复的表头）已跳过：第 {rows} 行 / rows {rows} repeat the "
                "header and are skipped"
            )
        return notes

    def _repeats_header(self, cells: list[Cell]) -> bool:
        """The header rows written again above a data row (a table printed page by page)."""
        probes = self.header_probes
        if not any(i < len(cells) and values.label(cells[i].text) == t for i, t in probes):
            return False
        flat = tuple(values.label(cell.text) for cell in cells)
        return any(flat[: len(h)] == h for h in self.layout.header_rows)

    def read(self, number: int, cells: list[Cell]) -> None:
        if self._repeats_header(cells):
            self.repeated_headers.append(number)
            return
        row = self._row(number, cells)
        if self._heading(row, cells):
            self.problems += row.problems
            return
        self.rows += 1
        item = self._item(row)
        self.problems += row.problems
        self.above = dict(row.texts)
        if item is not None and not row.has_error:
            self.items.append(item)

    def _row(self, number: int, cells: list[Cell]) -> _Row:
        texts: dict[int, str] = {}
        formulas: set[int] = set()
        row = _Row(number, texts, formulas)
        for column in self.layout.columns:
            cell = cells[column.index]
            if cell.formula:
                formulas.add(column.index)
            text = values.cell_text(cell.text) if cell.text else ""
            if cell.merged == "across":
                # A range merged across columns belongs to its first column only; a
                # first-level cell merged over the name means "no second level".
                text = NO_SECOND_LEVEL if column is self.name_column and text else ""
            if values.is_same_as_above(text):
                text = self._same_as_above(row, column)
            texts[column.index] = text
        return row

    def _same_as_above(self, row: _Row, column: Column) -> str:
        if column.index not in self.above:
            row.report(
                "error",
                column.field,
                "“同上”上方没有可引用的事项行 / 同上 (same as above) has no item row above it",
            )
            return ""
        return self.above[column.index]

    def _heading(self, row: _Row, cells: list[Cell]) -> bool:
        """A group heading sets the first-level item of the rows below it.

        Two shapes: a row whose only content is the first-level cell (or, without a
        一级/二级 split, the 公开事项 cell), and a banner cell merged across the row.
        Blank rows and rows holding only ignored columns are passed over (the latter
        with a warning).
        """
        filled = {
            c.index
            for c in self.layout.columns
            if c.kind != "seq" and (row.texts[c.index].strip() or c.index in row.formulas)
        }
        own = [cell for cell in cells if cell.own]
        name_cell = cells[self.name_column.index] if self.name_column else None
        if len(own) == 1 and name_cell is not None and name_cell.merged == "across":
            self.first_level = values.short_text(values.cell_text(own[0].text))
            return True
        heading_column = self.layout.first("item") or self.layout.first("first_level")
        if heading_column is not None and filled == {heading_column.index}:
            self.first_level = values.short_text(row.texts[heading_column.index])
            return True
        if not filled:
            row.report(
                "warning",
                "file",
                "此行只有未导入列的内容，已跳过 / row holds only ignored columns; skipped",
            )
            return True
        return False

    def _item(self, row: _Row) -> ImportedItem | None:
        first_level, name = self._names(row)
        item = ImportedItem(
            row=row.number,
            first_level=first_level or "",
            name=name or "",
            content=self._text(row, "content"),
            basis=self._text(row, "basis"),
            time_limit=self._text(row, "time_limit"),
            responsible_body=self._text(row, "responsible_body"),
            method=_method(row, self.layout),
            channels=_channels(row, self.layout),
            audience=_audience(row, self.layout),
            levels=_levels(row, self.layout),
            position=len(self.items) + 1,
        )
        _report_missing(row, item)
        return item if first_level and name else None

    def _names(self, row: _Row) -> tuple[str | None, str | None]:
        """(first_level, name). Without a 一级/二级 split the 公开事项 value is the name and
        the first-level item is the last group heading above it, else the name itself."""
        name = values.short_text(row.text(self.name_column))
        single = self.layout.single_item_column
        own_first = "" if single else values.short_text(row.text(self.layout.first("first_level")))
        if self.name_column is not None and self.name_column.value == "pair":
            own_first, name = _split_pair(name)
        if third := values.short_text(row.text(self.third_column)):
            name = f"{name}（{third}）" if name and not values.is_placeholder(name) else third
        if own_first and not values.is_placeholder(own_first):
            self.first_level = own_first
        elif not single and self.first_level and self.layout.first("first_level"):
            self.filled_down.append(row.number)
        first_level = self.first_level or (name if single and name else None)
        if values.is_placeholder(name) and first_level:
            row.report(
                "warning",
                "name",
                f"二级事项为“{name}”，以一级事项“{first_level}”作为事项名称 / no second-level "
                f"item ({name!r}): the first-level item {first_level!r} is used as the name",
            )
            name = first_level
        if not name or values.is_placeholder(name):
            row.report("error", "name", "二级事项名称不能为空 / name (二级事项) is required")
        if not first_level:
            row.report(
                "error",
                "first_level",
                "一级事项不能为空（本行及上方均未填写）/ first_level (一级事项) is required and "
                "no row above gives one",
            )
        return first_level, name or None

    def _text(self, row: _Row, name: str) -> str | None:
        text = values.long_text(row.text(self.text_columns.get(name)))
        return None if not text or values.is_placeholder(text) else text


def _split_pair(text: str) -> tuple[str, str]:
    """ "一级/二级" in one cell → (一级, 二级); a cell with one name → ("", name)."""
    for separator in ("/", "／", "—"):
        first, found, second = text.partition(separator)
        if found and first.strip() and second.strip():
            return values.short_text(first), values.short_text(second)
    return "", text


def _row_list(rows: list[int]) -> str:
    shown = "、".join(map(str, rows[:20]))
    return shown + (f"… ({len(rows)})" if len(rows) > 20 else "")


def _single(row: _Row, where: str, chosen: list[str]) -> str | None:
    """One value from a choice that allows one: two different ones contradict each other."""
    distinct = list(dict.fromkeys(chosen))
    if len(distinct) > 1:
        label = ATTRIBUTE_LABELS[where]
        row.report(
            "error",
            where,
            f"{label}只能选一项，本行同时选了{'和'.join(distinct)} / {where} allows one value, "
            f"the row gives {' and '.join(distinct)}",
        )
        return None
    return distinct[0] if distinct else None


def _not_a_tick(row: _Row, column: Column, text: str) -> None:
    row.report(
        "error",
        column.field,
        columns.at_cell(
            row.cell(column),
            f"“{column.value}”列的“{text}”不是勾选符号（√）",
            f"{text!r} under {column.value} is not a tick mark (√)",
        ),
    )


def _not_a_value(row: _Row, where: str, column: Column, exc: ValueError) -> None:
    """A cell whose words are none of the vocabulary's (the error says which are)."""
    zh, _, en = str(exc).partition(" / ")
    row.report("error", where, columns.at_cell(row.cell(column), zh, en or zh))


def _method(row: _Row, layout: Layout) -> str | None:
    chosen: list[str] = []
    if (column := layout.first("method")) and (text := row.text(column).strip()):
        try:
            chosen.append(values.method_value(text))
        except ValueError as exc:
            _not_a_value(row, "method", column, exc)
    for column in layout.of("method_tick"):
        tick = values.tick(text := row.text(column))
        if tick.checked is None:
            _not_a_tick(row, column, text)
        elif tick.checked:
            chosen.append(column.value)
    return None if "method" in row.failed else _single(row, "method", chosen)


def _audience(row: _Row, layout: Layout) -> str | None:
    chosen: list[str] = []
    if (column := layout.first("audience")) and (text := row.text(column).strip()):
        try:
            value, as_group = values.audience_value(text)
        except ValueError as exc:
            _not_a_value(row, "audience", column, exc)
        else:
            chosen.append(value)
            if as_group:
                row.report(
                    "warning",
                    "audience",
                    f"单元格 {row.cell(column)} 的公开对象“{values.short_text(text)}”是一个群体，"
                    f"按“{value}”导入 / {text!r} names a group of people: imported as {value!r}",
                )
    for column in layout.of("audience_tick"):
        tick = values.tick(text := row.text(column))
        if column.value == SPECIFIC_AUDIENCE and tick.checked is not False:
            # "√（项目单位）", or the group written instead of a tick (特定群体(请写明)).
            group = values.short_text(tick.note)
            chosen.append(
                normalize_audience(f"{SPECIFIC_AUDIENCE}:{group}" if group else SPECIFIC_AUDIENCE)
            )
        elif tick.checked is None:
            _not_a_tick(row, column, text)
        elif tick.checked:
            chosen.append(column.value)
    if len({c.split(":")[0] for c in chosen}) == 1:
        chosen = [max(chosen, key=len)]  # 特定群体 and 特定群体:申请人 agree
    return None if "audience" in row.failed else _single(row, "audience", chosen)


def _levels(row: _Row, layout: Layout) -> list[str]:
    chosen: list[str] = []
    if (column := layout.first("levels")) and (text := row.text(column).strip()):
        try:
            chosen += values.levels_value(text)
        except ValueError as exc:
            _not_a_value(row, "levels", column, exc)
    for column in layout.of("level_tick"):
        tick = values.tick(text := row.text(column))
        if tick.checked is None:
            _not_a_tick(row, column, text)
        elif tick.checked:
            chosen.append(column.value)
    if not chosen and "levels" not in row.failed and layout.of("levels", "level_tick"):
        row.report("warning", "levels", "未勾选公开层级 / no level (公开层级) is ticked")
    return normalize_levels(chosen)


def _channels(row: _Row, layout: Layout) -> list[str]:
    chosen: list[str] = []
    for cell in layout.of("channels"):
        if text := row.text(cell).strip():
            chosen += _channel_cell(row, text)
    for column in layout.of("channel"):
        tick = values.tick(text := row.text(column))
        if tick.checked is False:
            continue
        if column.value == OTHER_CHANNEL and tick.note:
            chosen.append(values.channel(f"{OTHER_CHANNEL}:{tick.note}").value)
            continue
        if tick.checked is None:
            row.report(
                "warning",
                "channels",
                f"“{column.value}”列写的是“{text}”而非勾选符号，按已勾选导入 / {text!r} under "
                f"{column.value} is not a tick mark; taken as ticked",
            )
        chosen.append(column.value)
    return normalize_channels(chosen)


def _channel_cell(row: _Row, text: str) -> list[str]:
    parsed = values.channel_cell(text)
    for unknown in parsed.unknown:
        written = unknown.value.removeprefix(f"{OTHER_CHANNEL}:")
        hint = f"，可能是指渠道目录中的“{unknown.likely}”" if unknown.likely else ""
        hint_en = f"; probably the vocabulary's {unknown.likely!r}" if unknown.likely else ""
        row.report(
            "warning",
            "channels",
            f"公开渠道“{written}”不是渠道目录中的写法，按“{unknown.value}”导入{hint} / channel "
            f"{written!r} is not a vocabulary entry; kept as {unknown.value!r}{hint_en}",
        )
    for ignored in parsed.ignored:
        row.report(
            "warning",
            "channels",
            f"渠道勾选表中的“{ignored}”没有勾选符号，未导入 / {ignored!r} in the channel "
            "checklist has no check mark; ignored",
        )
    for unreadable in parsed.unreadable:
        row.report(
            "error",
            "channels",
            f"“{unreadable}”的勾选符号无法识别（编码丢失？）/ the check mark of {unreadable!r} "
            "cannot be read (lost in conversion?)",
        )
    return parsed.channels


def _report_missing(row: _Row, item: ImportedItem) -> None:
    """One "missing" problem per absent required attribute (the draft may hold it)."""
    for attribute in DRAFTABLE_ATTRIBUTES:
        if attribute not in row.failed and getattr(item, attribute) in (None, "", []):
            label = ATTRIBUTE_LABELS[attribute]
            row.report("missing", attribute, f"缺少{label} / {attribute} is missing")
