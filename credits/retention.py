"""What a legal hold keeps from the audit retention purge (registered in CreditsConfig.ready):
the events about the credits, change requests and disputes of a contract under legal hold."""

from datetime import date

from audit.registry import HeldRecords
from licensing.deprovisioning.retention import held_contract_ids

from .models import ChangeRequest, Credit, Dispute


def legal_hold_records(on: date) -> list[HeldRecords]:
    contracts = held_contract_ids()
    if not contracts:
        return []

    def ids(queryset) -> frozenset[str]:
        return frozenset(str(pk) for pk in queryset.values_list("pk", flat=True))

    why = "legal hold on the contract"
    return [
        HeldRecords("credits.credit", ids(Credit.objects.filter(contract_id__in=contracts)),
                    why=why),
        HeldRecords("credits.change", ids(ChangeRequest.objects.filter(contract_id__in=contracts)),
                    why=why),
        HeldRecords("credits.dispute",
                    ids(Dispute.objects.filter(credit__contract_id__in=contracts)), why=why),
    ]  # fmt: skip
