"""The notice a customer gets before anything stops: a PDF (WeasyPrint) and its e-mail."""

from datetime import date, timedelta

from django.template.loader import render_to_string
from weasyprint import HTML

from ..models import Assignment, Entitlement
from .models import DeprovisioningRun
from .registration import NOTICE_RENDERER
from .selectors import run_entitlements

SUPPORT_CONTACT = "support@licensedesk.example"
# Up to this many alike entitlements are listed by name; more read as one line with a count.
ITEMISED = 5


def _what_stops(run: DeprovisioningRun) -> list[dict]:
    """What stops, where: one row per entitlement, or per kind and scope where many alike share
    the same systems (a contract of 10,000 seats reads as one line, not 200 pages)."""
    live = (
        run_entitlements(run)
        .exclude(state__in=[Entitlement.State.REVOKED, Entitlement.State.EXPIRED])
    )  # fmt: skip
    systems: dict[int, set[str]] = {}
    held = Assignment.objects.filter(entitlement__in=live).values_list(
        "entitlement_id", "system__name"
    )
    enforced = Entitlement.enforced_by.through.objects.filter(entitlement__in=live).values_list(
        "entitlement_id", "connectedsystem__name"
    )
    for entitlement_id, name in [*held, *enforced]:
        systems.setdefault(entitlement_id, set()).add(name)
    groups: dict[tuple, list[str]] = {}
    for pk, kind, scope, name in live.order_by("kind", "pk").values_list(
        "pk", "kind", "scope", "name"
    ):
        groups.setdefault((kind, scope, tuple(sorted(systems.get(pk, ())))), []).append(name)
    rows = []
    for (kind, scope, where), names in groups.items():
        label = Entitlement.Kind(kind).label
        if len(names) <= ITEMISED:
            rows += [{"name": n, "kind": label, "count": 1, "systems": list(where)} for n in names]
        else:
            rows.append({"name": f"{len(names):,} entitlements for {scope}", "kind": label,
                         "count": len(names), "systems": list(where)})  # fmt: skip
    return rows


def render_notice(run: DeprovisioningRun, *, on: date) -> bytes:
    context = {
        "run": run,
        "contract": run.contract,
        "customer": run.contract.customer,
        "rows": _what_stops(run),
        "stops_on": run.execute_on + timedelta(days=run.grace_days),
        "issued_on": on,
        "support": SUPPORT_CONTACT,
    }
    html = render_to_string("licensing/deprovisioning/notice.html", context)
    return HTML(string=html, url_fetcher=_refuse).write_pdf()


def _refuse(url: str, *args, **kwargs):
    raise ValueError(f"The notice loads no resources ({url}).")


def stored_notice(*, run_id: int) -> bytes:
    """The notice exactly as kept on the run (its hash is in the mail), for the attachment."""
    return bytes(DeprovisioningRun.objects.values_list("notice_pdf", flat=True).get(pk=run_id))


def notice_attachment(run: DeprovisioningRun) -> dict:
    return {"renderer": NOTICE_RENDERER, "kwargs": {"run_id": run.pk},
            "filename": f"notice-{run.contract.number}-run-{run.pk}.pdf",
            "mimetype": "application/pdf"}  # fmt: skip


def notice_mail(run: DeprovisioningRun) -> tuple[str, str, list[str]]:
    contract = run.contract
    customer = contract.customer
    recipients = [customer.billing_email]
    recipients += [m.user.email for m in customer.members.select_related("user")]
    if contract.account_manager:
        recipients.append(contract.account_manager.email)
    stops_on = run.execute_on + timedelta(days=run.grace_days)
    if run.entitlement_id:
        name = run.entitlement.name
        subject = (
            f"{name} under contract {contract.number} is withdrawn: access to it stops on "
            f"{stops_on:%-d %B %Y}"
        )
        opening = (
            f"{name} under contract {contract.number} of {customer.name} is withdrawn "
            f"({run.reason}), effective {run.effective_date:%-d %B %Y}. The rest of the "
            "contract is not affected.\n"
        )
    else:
        subject = f"Contract {contract.number} ends: access stops on {stops_on:%-d %B %Y}"
        opening = (
            f"Contract {contract.number} of {customer.name} ends ({run.reason}), effective "
            f"{run.effective_date:%-d %B %Y}.\n"
        )
    body = (
        opening
        + (f"A grace period of {run.grace_days} days applies as the contract grants.\n"
           if run.grace_days else "The contract grants no grace period.\n")
        + f"Access stops on {stops_on:%-d %B %Y} at every connected system.\n"
        "Export your data before then. The notice is attached (PDF, SHA-256 "
        f"{run.notice_sha256}) and kept with the contract.\nQuestions: {SUPPORT_CONTACT}\n"
    )  # fmt: skip
    return subject, body, recipients
