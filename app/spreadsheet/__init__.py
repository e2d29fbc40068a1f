"""导入 / the database-free reader of uploaded catalogue spreadsheets (XLSX, CSV).

`read_table(filename, data)` returns an ImportResult (items plus every problem with its
row, field and rule) or raises BadFile (status_code 413/415/422) for a file that cannot
be read as a table at all.
"""

from app.spreadsheet.models import BadFile, ImportedItem, ImportProblem, ImportResult
from app.spreadsheet.reader import read_table

__all__ = ["BadFile", "ImportProblem", "ImportResult", "ImportedItem", "read_table"]
