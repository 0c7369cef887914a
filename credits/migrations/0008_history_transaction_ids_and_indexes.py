"""The transaction id on credits' history rows (audit.transactions) and the timeline's history indexes.

The column is added empty first, then given its default: a volatile default in ADD COLUMN would
fill every existing row with the migration's own transaction id, pairing all of them as one
change. Older rows keep NULL, and the timeline pairs them by time as before.
"""

import audit.transactions
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('credits', '0007_personal_data_encrypted'),
        ('licensing', '0021_history_transaction_ids_and_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalapprovalstep',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalapprovalstep',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalchangerequest',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalchangerequest',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalcredit',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalcredit',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalcreditpolicyversion',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalcreditpolicyversion',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicaldispute',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicaldispute',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalexchangerate',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalexchangerate',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddIndex(
            model_name='historicalapprovalstep',
            index=models.Index(fields=['history_user', 'history_date'], name='credits_his_history_386428_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalapprovalstep',
            index=models.Index(fields=['history_type', 'history_date'], name='credits_his_history_2f198c_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalchangerequest',
            index=models.Index(fields=['history_user', 'history_date'], name='credits_his_history_e4317f_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalchangerequest',
            index=models.Index(fields=['history_type', 'history_date'], name='credits_his_history_eac8ac_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcredit',
            index=models.Index(fields=['history_user', 'history_date'], name='credits_his_history_1f414b_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcredit',
            index=models.Index(fields=['history_type', 'history_date'], name='credits_his_history_5245b8_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcreditpolicyversion',
            index=models.Index(fields=['history_user', 'history_date'], name='credits_his_history_c17149_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcreditpolicyversion',
            index=models.Index(fields=['history_type', 'history_date'], name='credits_his_history_1117d9_idx'),
        ),
        migrations.AddIndex(
            model_name='historicaldispute',
            index=models.Index(fields=['history_user', 'history_date'], name='credits_his_history_590f15_idx'),
        ),
        migrations.AddIndex(
            model_name='historicaldispute',
            index=models.Index(fields=['history_type', 'history_date'], name='credits_his_history_0d5f86_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalexchangerate',
            index=models.Index(fields=['history_user', 'history_date'], name='credits_his_history_4fee9b_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalexchangerate',
            index=models.Index(fields=['history_type', 'history_date'], name='credits_his_history_352858_idx'),
        ),
    ]
