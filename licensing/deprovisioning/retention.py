"""What a legal hold keeps from the audit retention purge (registered in LicensingConfig.ready).

A contract under an active legal hold (or data preservation hold: both exist to keep the record)
keeps, unredacted, every audit event about the contract, its entitlements, its deprovisioning
runs and holds, and any event whose data names it; and the purge keeps the change history of the
contract and of every record leading to it (audit.retention_history reads the contract ids).
"""

from datetime import date

from audit.registry import HeldRecords

from ..models import Entitlement
from .models import DeprovisioningHold, DeprovisioningRun

# The hold kinds that keep records from the purge (an open dispute only pauses revocation).
PRESERVING = (DeprovisioningHold.Kind.LEGAL_HOLD, DeprovisioningHold.Kind.DATA_PRESERVATION)


def held_contract_ids() -> frozenset[int]:
    return frozenset(
        DeprovisioningHold.objects.filter(kind__in=PRESERVING, lifted_at__isnull=True).values_list(
            "contract_id", flat=True
        )
    )


def legal_hold_records(on: date) -> list[HeldRecords]:
    contracts = held_contract_ids()
    if not contracts:
        return []

    def ids(queryset) -> frozenset[str]:
        return frozenset(str(pk) for pk in queryset.values_list("pk", flat=True))

    why = "legal hold on the contract"
    return [
        HeldRecords("licensing.contract", frozenset(map(str, contracts)), why=why),
        HeldRecords("", frozenset(map(str, contracts)), data_key="contract", why=why),
        HeldRecords("licensing.entitlement",
                    ids(Entitlement.objects.filter(contract_id__in=contracts)), why=why),
        HeldRecords("licensing.deprovisioningrun",
                    ids(DeprovisioningRun.objects.filter(contract_id__in=contracts)), why=why),
        HeldRecords("licensing.deprovisioninghold",
                    ids(DeprovisioningHold.objects.filter(contract_id__in=contracts)), why=why),
    ]  # fmt: skip
