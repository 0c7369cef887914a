"""Breach domain errors: the licensing ones, plus a usage report refused row by row."""

from dataclasses import asdict, dataclass

from licensing.errors import DomainError


@dataclass(frozen=True, slots=True)
class RowError:
    # CSV: the header is line 1, the first data row line 2. JSON: rows count from 1.
    # None for a problem with the request as a whole.
    line: int | None
    field: str
    message: str


class UsageRejected(DomainError):
    """The report was refused whole; `errors` lists every bad row. Nothing was stored."""

    status_code = 400

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors, key=lambda e: (e.line is not None, e.line or 0))
        count = len(self.errors)
        super().__init__(
            f"The usage report was not stored: {count} problem{'s' if count != 1 else ''}."
        )

    @property
    def body(self) -> dict:
        return {"errors": [asdict(error) for error in self.errors]}
