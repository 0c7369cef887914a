"""The transaction id on licensing's history rows (audit.transactions) and the timeline's history indexes.

The column is added empty first, then given its default: a volatile default in ADD COLUMN would
fill every existing row with the migration's own transaction id, pairing all of them as one
change. Older rows keep NULL, and the timeline pairs them by time as before.
"""

import audit.transactions
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('licensing', '0020_retention_policy_permissions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalapitoken',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalapitoken',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalassignment',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalassignment',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalblackoutwindow',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalblackoutwindow',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalbundle',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalbundle',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalbundleitem',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalbundleitem',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalconnectedsystem',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalconnectedsystem',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalcontract',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalcontract',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalcontractline',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalcontractline',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalcustomer',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalcustomer',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalcustomermembership',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalcustomermembership',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicaldelivery',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicaldelivery',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicaldeprovisioninghold',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicaldeprovisioninghold',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicaldeprovisioningrun',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicaldeprovisioningrun',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalentitlement',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalentitlement',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalinvoice',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalinvoice',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalinvoiceline',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalinvoiceline',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalplan',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalplan',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalpolicyversion',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalpolicyversion',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalproduct',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalproduct',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalreconciliationfinding',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalreconciliationfinding',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddField(
            model_name='historicalscheduledchange',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AlterField(
            model_name='historicalscheduledchange',
            name='history_transaction_id',
            field=models.BigIntegerField(blank=True, db_default=audit.transactions.TransactionId(), editable=False, help_text='The database transaction that wrote this row (null on rows from before)', null=True),
        ),
        migrations.AddIndex(
            model_name='historicalapitoken',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_ccd74b_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalapitoken',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_e257ba_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalassignment',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_e558f6_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalassignment',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_dd8f90_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalblackoutwindow',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_599d12_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalblackoutwindow',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_656e16_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalbundle',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_e483b3_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalbundle',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_99e1b8_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalbundleitem',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_b6dd3e_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalbundleitem',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_f8eeef_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalconnectedsystem',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_37bea2_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalconnectedsystem',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_eb1400_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcontract',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_1e8989_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcontract',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_2dca56_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcontractline',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_9196b7_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcontractline',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_5596af_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcustomer',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_661009_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcustomer',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_e379b5_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcustomermembership',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_7fd9cc_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalcustomermembership',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_c930f4_idx'),
        ),
        migrations.AddIndex(
            model_name='historicaldelivery',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_ff46c7_idx'),
        ),
        migrations.AddIndex(
            model_name='historicaldelivery',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_627e25_idx'),
        ),
        migrations.AddIndex(
            model_name='historicaldeprovisioninghold',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_b89318_idx'),
        ),
        migrations.AddIndex(
            model_name='historicaldeprovisioninghold',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_98af15_idx'),
        ),
        migrations.AddIndex(
            model_name='historicaldeprovisioningrun',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_97c265_idx'),
        ),
        migrations.AddIndex(
            model_name='historicaldeprovisioningrun',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_176b46_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalentitlement',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_49a521_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalentitlement',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_096823_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalinvoice',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_6018c5_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalinvoice',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_a14208_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalinvoiceline',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_67fdf6_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalinvoiceline',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_52a9fb_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalplan',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_0cfc1f_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalplan',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_a0e33c_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalpolicyversion',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_7ae1ba_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalpolicyversion',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_53f317_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalproduct',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_8bb6b1_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalproduct',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_2a61c6_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalreconciliationfinding',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_6692a8_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalreconciliationfinding',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_864fe8_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalscheduledchange',
            index=models.Index(fields=['history_user', 'history_date'], name='licensing_h_history_b11ded_idx'),
        ),
        migrations.AddIndex(
            model_name='historicalscheduledchange',
            index=models.Index(fields=['history_type', 'history_date'], name='licensing_h_history_28589e_idx'),
        ),
    ]
