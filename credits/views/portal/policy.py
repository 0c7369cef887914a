"""The credit policy in force, its earlier versions and changelog, rendered safely."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from ... import selectors
from ...models import CreditPolicyVersion
from ...policy_markdown import policy_html
from ._common import (
    EXAMPLES_HEADING,
    _customer_only,
)


def _examples(version: CreditPolicyVersion) -> list[dict]:
    """The version's worked examples with amounts as Decimal, for the money filter."""
    examples = []
    for example in version.examples or []:
        lines = [
            {
                **line,
                "credit": Decimal(line["credit"]),
                "components": [
                    {**c, "credit": Decimal(c["credit"])} for c in line.get("components", [])
                ],
            }
            for line in example.get("lines", [])
        ]
        examples.append({**example, "lines": lines, "total": Decimal(example["total"])})
    return examples


@dataclass(frozen=True)
class VersionRow:
    version: CreditPolicyVersion
    until: date | None  # exclusive: the day the next version took over
    state: str  # "in_force", "scheduled" or "earlier"


def _version_rows(today: date) -> list[VersionRow]:
    versions = list(selectors.published_policies())  # newest first
    in_force = selectors.credit_policy_in_force_or_none(on=today)
    rows, following = [], None
    for version in versions:
        if version.effective_from > today:
            state = "scheduled"
        elif version == in_force:
            state = "in_force"
        else:
            state = "earlier"
        until = following.effective_from if following and state != "scheduled" else None
        rows.append(VersionRow(version, until, state))
        following = version
    return rows


def _policy_page(request, version: CreditPolicyVersion, *, rows: list[VersionRow]):
    today = timezone.localdate()
    row = next(r for r in rows if r.version == version)
    in_force = next((r.version for r in rows if r.state == "in_force"), None)
    examples = _examples(version)
    context = {
        "version": version,
        "row": row,
        "in_force": in_force,
        "upcoming": selectors.upcoming_policy(today=today),
        "policy_html": policy_html(
            version.text,
            omit_heading=version.title,
            omit_section=EXAMPLES_HEADING if examples else "",
        ),
        "examples": examples,
    }
    return render(request, "credits_portal/policy.html", context)


@login_required
@require_safe
def policy(request):
    _customer_only(request.user)
    today = timezone.localdate()
    version = selectors.credit_policy_in_force(on=today)
    return _policy_page(request, version, rows=_version_rows(today))


@login_required
@require_safe
def policy_version(request, number: int):
    _customer_only(request.user)
    version = get_object_or_404(selectors.published_policies(), number=number)
    return _policy_page(request, version, rows=_version_rows(timezone.localdate()))


@login_required
@require_safe
def policy_versions(request):
    _customer_only(request.user)
    today = timezone.localdate()
    context = {"rows": _version_rows(today), "upcoming": selectors.upcoming_policy(today=today)}
    return render(request, "credits_portal/policy_versions.html", context)
