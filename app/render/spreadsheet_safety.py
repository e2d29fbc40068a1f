"""CSV cells that a spreadsheet would run as a formula, made inert the way OWASP describes.

Excel, WPS and LibreOffice treat a cell that starts with = + - @ (and tab or CR, which
they skip before looking) as a formula, so "=HYPERLINK(...)" in an item's text would run
when a reader opens our CSV. Such a cell gets a leading ' and is shown as the text it is;
the importer (app/spreadsheet/values.cell_text) takes exactly that ' off again, so an
exported catalogue imports back unchanged.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"


def neutralise(value: object) -> object:
    """A text cell starting like a formula, with a ' before it; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return NEUTRALISER + value
    return value
