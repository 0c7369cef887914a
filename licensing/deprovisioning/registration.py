"""Where deprovisioning plugs into the shell: navigation, the contract page, demo data."""

from outbox import attachments
from shell import registry

from ..roles import Role

# Who works here: managers and admins act, auditors read. Other staff reach the pages by link.
PEOPLE = {Role.ACCOUNT_MANAGER, Role.AUDITOR, registry.ADMIN}
# The run's stored notice, attached to the mail that tells the customer.
NOTICE_RENDERER = "deprovisioning.notice"


def register() -> None:
    attachments.register(NOTICE_RENDERER, _stored_notice)
    registry.register_nav("Deprovisioning", "deprovisioning:dashboard", roles=PEOPLE, order=25)
    registry.register_action(
        "licensing:contract", "Terminate…", "deprovisioning:terminate",
        when=_may_terminate, query=_for_contract, order=90,
    )  # fmt: skip
    registry.register_panel(
        "licensing:contract", "licensing/deprovisioning/partials/contract_panel.html",
        context=_panel, order=50,
    )  # fmt: skip
    registry.register_seeder("deprovisioning", _seed, order=15)


def _stored_notice(**kwargs) -> bytes:
    from .notice import stored_notice  # WeasyPrint loads only when a notice is needed

    return stored_notice(**kwargs)


def _may_terminate(user, contract) -> bool:
    from .views import may_terminate

    return may_terminate(user, contract)


def _for_contract(contract) -> dict:
    return {"contract": contract.pk}


def _panel(request, contract):
    from .views import contract_panel

    return contract_panel(request, contract)


def _seed(*, stdout, password: str) -> None:
    from .seed import seed

    seed(stdout=stdout, password=password)
