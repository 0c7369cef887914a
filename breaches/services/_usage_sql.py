"""The set-based half of storing a usage report: rows staged in a temporary table, then the
figures and their history written by a few INSERT ... SELECT and UPDATE statements.

PostgreSQL loads the staging table by COPY; SQLite (`make run`, the demo) by batched INSERTs.
The rest is SQL both understand, so there is one write path, not two. Nothing here checks
anything: services.usage hands over rows whose fields are good and asks the questions itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice

from django.db import connection

from ..models import UsageFigure, UsageReport
from ..usage_input import Row

STAGE = "breaches_usage_stage"  # every good row as sent, with its line
NEW = "breaches_usage_new"  # one row per key (the last sent), with the figure it replaces
BATCH = 5000


class Staging:
    """The temporary tables of one report, on the default connection, inside the caller's
    transaction: dropped at the end, and a rollback takes them away with everything else."""

    def __init__(self):
        self.vendor = connection.vendor
        self.figure = UsageFigure._meta.db_table
        self.history = UsageFigure.history.model._meta.db_table

    def __enter__(self) -> Staging:
        self._drop()
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMPORARY TABLE {STAGE} (line integer, entitlement_id bigint NOT NULL,"
                " metric varchar(20) NOT NULL, day date NOT NULL, quantity bigint NOT NULL)"
            )
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self._drop()
        # On an error the caller's transaction rolls back, and the tables with it.

    def _drop(self) -> None:
        with connection.cursor() as cur:
            for table in (STAGE, NEW):
                cur.execute(f"DROP TABLE IF EXISTS {table}")

    def load(self, rows: Iterable[Row]) -> None:
        """Stage the rows. `rows` is consumed as a stream and must not use the database."""
        columns = "line, entitlement_id, metric, day, quantity"
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                with cur.cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
                    for line, (entitlement, metric, day), quantity in rows:
                        copy.write_row((line, entitlement, metric, day, quantity))
                cur.execute(f"ANALYZE {STAGE}")  # temp tables get no autovacuum statistics
                return
            adapt = connection.ops.adapt_datefield_value
            batches = iter(lambda: list(islice(rows, BATCH)), [])
            for batch in batches:
                cur.executemany(
                    f"INSERT INTO {STAGE} ({columns}) VALUES (%s, %s, %s, %s, %s)",
                    [(line, e, m, adapt(d), q) for line, (e, m, d), q in batch],
                )

    def count(self) -> int:
        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {STAGE}")
            return cur.fetchone()[0]

    def unknown_entitlements(self, visible_sql: str, params) -> list[tuple[int, int]]:
        """(line, entitlement id) of staged rows naming an entitlement outside `visible_sql`
        (a query of entitlement ids), in line order."""
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT line, entitlement_id FROM {STAGE} WHERE entitlement_id NOT IN"
                f" ({visible_sql}) ORDER BY line",
                params,
            )
            return cur.fetchall()

    def entitlement_ids(self) -> list[int]:
        with connection.cursor() as cur:
            cur.execute(f"SELECT DISTINCT entitlement_id FROM {STAGE} ORDER BY entitlement_id")
            return [pk for (pk,) in cur.fetchall()]

    def settle(self) -> tuple[int, int]:
        """Keep the last row per key and find the current figure each one replaces; call with
        the entitlements locked, so no other report changes those figures meanwhile. Returns
        (figures, replaced)."""
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMPORARY TABLE {NEW} AS"
                " SELECT s.line, s.entitlement_id, s.metric, s.day, s.quantity,"
                " f.id AS replaces_id"
                " FROM (SELECT line, entitlement_id, metric, day, quantity, ROW_NUMBER() OVER"
                "       (PARTITION BY entitlement_id, metric, day ORDER BY line DESC) AS n"
                f"       FROM {STAGE}) s"
                f" LEFT JOIN {self.figure} f ON f.entitlement_id = s.entitlement_id"
                " AND f.metric = s.metric AND f.day = s.day AND f.replaced_at IS NULL"
                " WHERE s.n = 1"
            )
            if self.vendor == "postgresql":
                cur.execute(f"ANALYZE {NEW}")
                # The figures about to be replaced, locked in primary-key order.
                cur.execute(
                    f"SELECT id FROM {self.figure} WHERE id IN"
                    f" (SELECT replaces_id FROM {NEW}) ORDER BY id FOR UPDATE"
                )
            cur.execute(f"SELECT COUNT(*), COUNT(replaces_id) FROM {NEW}")
            return cur.fetchone()

    def write(self, report: UsageReport, *, now: datetime, actor, reason: str) -> None:
        """Mark the replaced figures, store the new ones in the order they were sent, and write
        a history row for each, as bulk_*_with_history would (one date, user and reason)."""
        when = connection.ops.adapt_datetimefield_value(now)
        user = actor.pk if actor is not None else None
        figure, history = self.figure, self.history
        columns = "id, entitlement_id, metric, day, quantity, report_id, replaces_id, replaced_at"
        history_columns = (
            f"{columns}, history_date, history_user_id, history_change_reason, history_type"
        )
        replaced = f"SELECT replaces_id FROM {NEW} WHERE replaces_id IS NOT NULL"
        with connection.cursor() as cur:
            cur.execute(f"UPDATE {figure} SET replaced_at = %s WHERE id IN ({replaced})", [when])
            cur.execute(
                f"INSERT INTO {history} ({history_columns}) SELECT {columns}, %s, %s, %s, '~'"
                f" FROM {figure} WHERE id IN ({replaced}) ORDER BY id",
                [when, user, reason],
            )
            cur.execute(
                f"INSERT INTO {figure} ({columns.removeprefix('id, ')})"
                " SELECT entitlement_id, metric, day, quantity, %s, replaces_id, NULL"
                f" FROM {NEW} ORDER BY line",
                [report.pk],
            )
            cur.execute(
                f"INSERT INTO {history} ({history_columns}) SELECT {columns}, %s, %s, %s, '+'"
                f" FROM {figure} WHERE report_id = %s ORDER BY id",
                [when, user, reason, report.pk],
            )
