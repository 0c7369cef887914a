"""Which database transaction wrote a row: the link between an audit event and its history rows.

A service writes its history rows and its audit event in one transaction, so the timeline pairs
them by the transaction's id, not by how close their clocks were (two changes of one record a
moment apart, in separate transactions, stay apart).

PostgreSQL: the column defaults to `pg_current_xact_id()`, the top-level transaction's 64-bit id
(savepoints of nested `atomic` blocks share it), unique for the life of the cluster. A database
restored into a new cluster restarts the counter, so ids of old and new rows may collide there;
the pairing also matches the record (type and id), which keeps such a collision to the rows of
one record.

SQLite (the `make run` demo only): there is no transaction id, so the column's default calls a
function this module registers on each connection. It returns a number taken when the
transaction began: at Django's BEGIN of an outermost `atomic` block, or for each statement run
in autocommit (one statement, one transaction). The number is the nanosecond clock at that
moment, made strictly increasing within the process; two processes beginning a transaction in
the same nanosecond would share one, which the demo's single server does not do.

Rows written before the column existed hold NULL; the timeline pairs those by time as before.
"""

import time

from django.db import models
from django.db.backends.signals import connection_created
from simple_history.models import HistoricalRecords

SQLITE_FUNCTION = "licensedesk_transaction_id"


class TransactionId(models.Func):
    """The id of the transaction the statement runs in, as a bigint."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - per vendor
        raise NotImplementedError(f"no transaction id on {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        # xid8 has no cast to bigint; through text it is exact (ids stay below 2**63).
        return "(pg_current_xact_id()::text::bigint)", []

    def as_sqlite(self, compiler, connection, **extra_context):
        return f"{SQLITE_FUNCTION}()", []


def transaction_field(**kwargs) -> models.BigIntegerField:
    return models.BigIntegerField(
        null=True, blank=True, editable=False, db_default=TransactionId(), **kwargs
    )


class TransactionStamped(models.Model):
    """The history tables' extra column (simple-history's `bases=`): the writing transaction."""

    history_transaction_id = transaction_field(
        help_text="The database transaction that wrote this row (null on rows from before)"
    )

    class Meta:
        abstract = True


class AuditedHistory(HistoricalRecords):
    """HistoricalRecords for every audited model: the transaction column, and the indexes the
    auditor's timeline filters by: who, and the kind of change, each ordered by time. (Pairing
    with events needs none: it looks rows up by their record's id, already indexed.)"""

    def __init__(self, *args, bases=(), **kwargs):
        super().__init__(*args, bases=(TransactionStamped, *bases), **kwargs)

    def get_meta_options(self, model):
        meta = super().get_meta_options(model)
        meta["indexes"] = (
            *meta.get("indexes", ()),
            models.Index(fields=["history_user", "history_date"]),
            models.Index(fields=["history_type", "history_date"]),
        )
        return meta


# SQLite's stand-in, registered on each new connection (audit.apps).

_state = {"last": 0}


def _fresh() -> int:
    _state["last"] = max(_state["last"] + 1, time.time_ns())
    return _state["last"]


def _mark_transactions(wrapper):
    """An execute wrapper: a new number at each BEGIN, and for each autocommit statement."""

    def execute(run, sql, params, many, context):
        if not wrapper.in_atomic_block or sql.lstrip()[:5].upper() == "BEGIN":
            wrapper.licensedesk_transaction = _fresh()
        return run(sql, params, many, context)

    return execute


def install_sqlite_transaction_ids(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        SQLITE_FUNCTION, 0, lambda: getattr(connection, "licensedesk_transaction", None)
    )
    if not getattr(connection, "licensedesk_marks_transactions", False):
        connection.execute_wrappers.append(_mark_transactions(connection))
        connection.licensedesk_marks_transactions = True


def connect() -> None:
    connection_created.connect(install_sqlite_transaction_ids, dispatch_uid=SQLITE_FUNCTION)
