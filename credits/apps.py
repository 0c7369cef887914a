from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self):
        from licensing import services as licensing_services
        from outbox import attachments

        from . import mail

        attachments.register(mail.CREDIT_NOTE_RENDERER, mail.render_credit_note_attachment)

        from licensing.roles import FINANCE_ROLES, Role
        from shell import registry

        from .services.invoices import invoice_adjustments_apply

        # Discounts and deferrals come off the invoices billing records (see services/invoices).
        licensing_services.register_invoice_hook(invoice_adjustments_apply)
        # A change a credit was issued for is called off with the credit, never alone.
        from .services.scheduled import SOURCE_PREFIX, cancel_guard

        licensing_services.register_cancel_guard(SOURCE_PREFIX, cancel_guard)

        finance_and_admin = FINANCE_ROLES | {registry.ADMIN}
        customer = {Role.CUSTOMER}
        for order, (label, url_name) in enumerate([
            ("Credits", "credits_portal:list"),
            ("Request a change", "credits_portal:request"),
            ("Calculator", "credits_portal:calculator"),
            ("Credit policy", "credits_portal:policy"),
            ("Invoices", "credits_portal:invoices"),
            ("Statement", "credits_portal:statement"),
        ]):  # fmt: skip
            registry.register_nav(label, url_name, roles=customer, order=30 + order)
        for order, (label, url_name) in enumerate([
            ("Approvals", "credits:queue"),
            ("Disputes", "credits:disputes"),
            ("Credit policies", "credits:policies"),
            ("Exchange rates", "credits:exchange-rates"),
        ]):  # fmt: skip
            registry.register_nav(label, url_name, roles=finance_and_admin, order=30 + order)
        registry.register_nav("Statements", "credits:statement", roles=registry.STAFF_AND_ADMIN,
                              order=36)  # fmt: skip
        registry.register_nav("Credits", "credits:queue",
                              roles={Role.ACCOUNT_MANAGER, Role.AUDITOR}, order=30)  # fmt: skip
        # Finance's daily work is the approval queue; the dashboard stays one click away.
        registry.register_home("credits:queue", roles=FINANCE_ROLES, priority=10)

        # Account managers and analysts ask on the customer's behalf; customers for themselves.
        registry.register_action(
            "licensing:contract", "Request a change for the customer", "credits_portal:request",
            when=_may_request_change, query=_for_contract,
        )  # fmt: skip
        registry.register_action("portal:home", "Request a change", "credits_portal:request",
                                 when=_may_request_any, primary=True)  # fmt: skip
        registry.register_action(
            "portal:contract", "Request a change", "credits_portal:request",
            when=_may_request_change, query=_for_contract, primary=True,
        )  # fmt: skip
        registry.register_action(
            "licensing:contract", "Customer statement", "credits:statement",
            when=_is_staff, query=_for_customer,
        )  # fmt: skip
        registry.register_seeder("credits", _seed_demo, order=20)

        from audit.registry import register_hold_source

        from .retention import legal_hold_records

        register_hold_source("credits.legal_hold", legal_hold_records)

        from audit.registry import register_governance_panel

        from .governance import credits_panel

        register_governance_panel("credits", "Credits", credits_panel, order=10)


def _may_request_change(user, contract) -> bool:
    # The one rule, beside the service that enforces it.
    from .services import change_request_refusal

    return change_request_refusal(actor=user, contract=contract) is None


def _may_request_any(user, _customer) -> bool:
    from .services import change_request_refusal

    return change_request_refusal(actor=user) is None


def _is_staff(user, _contract) -> bool:
    from licensing.roles import is_staff_role

    return is_staff_role(user)


def _for_customer(contract) -> dict:
    return {"customer": contract.customer_id}


def _for_contract(contract) -> dict:
    return {"contract": contract.pk}


def _seed_demo(*, stdout, password: str) -> None:
    from django.core.management import call_command

    call_command("seed_demo_credits", stdout=stdout)
