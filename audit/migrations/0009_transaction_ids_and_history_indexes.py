"""The transaction id on audit events and history rows (audit.transactions), and the timeline's
indexes: who and what kind of change on the history table, the action on the events.

The column is added empty first, then given its default: a volatile default in ADD COLUMN would
fill every existing row with the migration's own transaction id, pairing all of them as one
change. Older rows keep NULL, and the timeline pairs them by time as before.
"""

import audit.transactions
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0008_retention_policy_v2'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The timeline's action filter, ordered by time (replaces the index on action alone).
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['action', 'occurred_at'], name='audit_event_action_time'),
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='audit_audit_action_203f66_idx',
        ),
        migrations.AddField(
            model_name='auditevent',
            name='transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, null=True),
        ),
        migrations.AddField(
            model_name='historicalretentionpolicyversion',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalretentionpolicyversion',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddIndex(
            model_name='historicalretentionpolicyversion',
            index=models.Index(fields=['history_user', 'history_date'], name='audit_histo_history_27f1f9_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalretentionpolicyversion',
            index=models.Index(fields=['history_type', 'history_date'], name='audit_histo_history_f1bf8e_idx'),
        ),
    ]
