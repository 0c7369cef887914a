"""Demo credits in every state, through the services (called by seed_demo; idempotent)."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from credits import services
from credits.models import ApprovalStep, ChangeRequest
from credits.rules import DEFAULT_RULES
from credits.services.forms import credit_form_refusal
from licensing.models import Contract, Plan

# (customer code or None for any, requester, how the story ends)
STORIES = [
    ("northwind", "customer1", "issued"),
    ("globex", "customer2", "pending"),
    (None, "manager", "awaiting_approver"),
    (None, "manager", "overdue"),
    (None, "manager2", "sent_back"),
    (None, "manager", "rejected"),
    (None, "manager2", "issued"),
]


class Command(BaseCommand):
    help = "Create demo change requests and credits (pending, overdue, issued, disputed ...)."

    def handle(self, *args, **options):
        if ChangeRequest.objects.exists():
            self.stdout.write("Demo credits already present.")
            return
        # Demo e-mails (policy notices, reminders) stay in memory rather than flood the console.
        quiet = override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
        with quiet, transaction.atomic():
            self._exchange_rates()
            self._credits()
            self._upcoming_policy()
        self.stdout.write(f"Demo credits: {ChangeRequest.objects.count()} change requests.")

    def _exchange_rates(self) -> None:
        """Finance's rates into the policy's currency for every other contract currency, a
        year back, so demo credits in EUR or GBP find the rate of their request date."""
        base = DEFAULT_RULES["base_currency"]
        controller = get_user_model().objects.filter(username="controller").first()
        actor = controller or get_user_model().objects.filter(is_superuser=True).first()
        since = timezone.localdate() - timedelta(days=365)
        demo_rates = {
            "EUR": "1.0850",
            "GBP": "1.2700",
            "JPY": "0.0067",
            "CHF": "1.1200",
            "KWD": "3.2500",
        }
        currencies = set(Contract.objects.values_list("currency", flat=True)) - {base}
        for currency in sorted(currencies):
            services.exchange_rate_add(
                actor=actor, currency=currency, base=base,
                rate=Decimal(demo_rates.get(currency, "1")), valid_from=since,
                reason="Demo rate",
            )  # fmt: skip

    def _credits(self) -> None:
        users = {u.username: u for u in get_user_model().objects.all()}
        today = timezone.localdate()
        used = set()
        candidates = (
            Contract.objects.filter(status=Contract.Status.ACTIVE, invoices__isnull=False)
            .exclude(lines__plan__pricing_model=Plan.PricingModel.PER_UNIT)
            .select_related("customer")
            .prefetch_related("lines")
            .distinct()
            .order_by("number")
        )
        for code, requester, ending in STORIES:
            contract = next(
                (c for c in candidates if c.pk not in used
                 and (code is None or c.customer.code == code)),
                None,
            )  # fmt: skip
            if contract is None:
                continue
            used.add(contract.pk)
            line = contract.lines.all()[0]
            change = services.change_request_create(
                actor=users[requester], contract_id=contract.pk, intent="downgrade",
                effective_date=today,
                lines=[{"contract_line": line.pk, "quantity_after": line.quantity * 3 // 5 or 1}],
                form="credit_note" if ending != "sent_back" else _other_form(contract, today),
                note="Team shrank after the reorganisation.", on=today,
            )  # fmt: skip
            credit = getattr(change, "credit", None)
            if credit is not None:
                self._end(credit, ending, users)

    def _end(self, credit, ending: str, users) -> None:
        deciders = {"finance_analyst": "analyst", "finance_approver": "approver",
                    "financial_controller": "controller"}  # fmt: skip
        if ending in ("issued", "awaiting_approver"):
            for step in credit.steps.order_by("order"):
                if ending == "awaiting_approver" and step.order > 1:
                    break
                services.credit_approve(actor=users[deciders[step.role]], credit_id=credit.pk,
                                        reason="Checked against the invoice.")  # fmt: skip
            if ending == "issued" and credit.customer.code == "northwind":
                services.dispute_open(
                    actor=users["customer1"], credit_id=credit.pk,
                    reason="We released the seats a week earlier than the effective date.",
                    on=timezone.localdate(),
                )  # fmt: skip
        elif ending == "overdue":
            # Age the first step as if it had waited three days (demo data only). No history on
            # purpose: nobody changed the deadline, the demo only pretends time has passed.
            ApprovalStep.objects.filter(credit=credit, order=1).update(
                due_at=timezone.now() - timedelta(hours=24)
            )
            services.process_approval_deadlines()
        elif ending == "sent_back":
            services.credit_send_back(
                actor=users["analyst"], credit_id=credit.pk,
                reason="Check the seat count with the customer first.",
            )  # fmt: skip
        elif ending == "rejected":
            services.credit_reject(
                actor=users["analyst"], credit_id=credit.pk,
                reason="The seats are still assigned in the identity provider.",
            )  # fmt: skip

    def _upcoming_policy(self) -> None:
        controller = get_user_model().objects.get(username="controller")
        rules = {**DEFAULT_RULES, "minimum_credit": "10", "prepaid_refundable_share": "0.8"}
        draft = services.policy_create_draft(
            actor=controller, rules=rules, title="Credit policy",
            introduction="When you downgrade, pause or end a subscription part-way through a "
            "period you have paid for, we give back the unused part, as this page explains.",
            effective_from=timezone.localdate() + timedelta(days=30),
            change_summary="Credits below 10 in the contract currency are no longer issued; "
            "80% (was 100%) of prepaid future years is refundable on a termination.",
        )  # fmt: skip
        services.policy_publish(actor=controller, policy_id=draft.pk, on=timezone.localdate())


def _other_form(contract, today) -> str:
    """A form other than a credit note that can be carried out for this contract (a discount
    needs an invoice still to come), so the sent-back story can offer to switch it."""
    for form in ("future_discount", "service_extension"):
        if credit_form_refusal(form=form, contract=contract, intent="downgrade",
                               effective_date=today) is None:  # fmt: skip
            return form
    return "credit_note"
