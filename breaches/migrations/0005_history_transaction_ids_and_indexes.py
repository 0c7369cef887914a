"""The transaction id on breaches' history rows (audit.transactions) and the timeline's history indexes.

The column is added empty first, then given its default: a volatile default in ADD COLUMN would
fill every existing row with the migration's own transaction id, pairing all of them as one
change. Older rows keep NULL, and the timeline pairs them by time as before.
"""

import audit.transactions
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('breaches', '0004_breach_policy_v1'),
        ('licensing', '0021_history_transaction_ids_and_indexes'),
        ('outbox', '0002_mail_html_attachments'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalbreachcase',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalbreachcase',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalbreachnotice',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalbreachnotice',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalcommunication',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalcommunication',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalcommunicationattachment',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalcommunicationattachment',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalearlieroveruse',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalearlieroveruse',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalmilestone',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalmilestone',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalremediationoption',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalremediationoption',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalusagefigure',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalusagefigure',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalusagereport',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalusagereport',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalusagewarning',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalusagewarning',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddIndex(
            model_name='historicalbreachcase',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_cdb799_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalbreachcase',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_191f9a_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalbreachnotice',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_5a24fd_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalbreachnotice',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_c9400d_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcommunication',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_374040_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcommunication',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_8203e3_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcommunicationattachment',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_999d24_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcommunicationattachment',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_1637bf_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalearlieroveruse',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_219dd2_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalearlieroveruse',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_9d6157_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalmilestone',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_6ab982_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalmilestone',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_7651e9_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalremediationoption',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_39e5b4_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalremediationoption',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_e9a2f8_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalusagefigure',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_34295f_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalusagefigure',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_667043_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalusagereport',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_3ea723_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalusagereport',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_18f23c_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalusagewarning',
            index=models.Index(fields=['history_user', 'history_date'], name='breaches_hi_history_a5bb9c_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalusagewarning',
            index=models.Index(fields=['history_type', 'history_date'], name='breaches_hi_history_d6053a_idx'),
        ),
    ]
