"""The breach case API: views parse, get the case through `access`, call a service, answer.

Customers read their own cases with their own serializer and may only agree; another
customer's case answers 404 like an unknown id. Refusals are domain errors mapped once
(config/exceptions.py): 403 forbidden, 409 for an illegal move or a refused guard.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing.errors import ActionForbidden

from . import access, selectors, services
from .case_serializers import (
    BreachCaseOutput,
    ClassifyInput,
    CommunicationInput,
    CommunicationOutput,
    CustomerAgreeInput,
    CustomerBreachCaseOutput,
    EarlierDecisionInput,
    MilestoneInput,
    MilestoneOutput,
    OptionChangeInput,
    ReasonInput,
    TransitionInput,
    UsageWarningOutput,
)
from .filters import BreachCaseFilter
from .models import BreachCase, Milestone


def case_answer(request, case: BreachCase, *, status_code: int = 200) -> Response:
    """The case as this user may read it, freshly loaded with its prefetches."""
    case = selectors.breach_case_detail(base=BreachCase.objects.filter(pk=case.pk)).get()
    if access.is_customer(request.user):
        data = CustomerBreachCaseOutput(case, context={"request": request}).data
    else:
        data = BreachCaseOutput(case, context={"request": request}).data
    return Response(data, status=status_code)


def _staff_only(request) -> None:
    if access.is_customer(request.user):
        raise ActionForbidden("Customers may agree to an option; every other move is ours.")


class BreachCaseListApi(generics.ListAPIView):
    """Breach cases (filter `entitlement`, `state`, `severity`, `owner`); a customer's own."""

    filterset_class = BreachCaseFilter

    def get_queryset(self):
        return selectors.breach_case_detail(base=access.cases_for_user(self.request.user))

    def get_serializer_class(self):
        if access.is_customer(self.request.user):
            return CustomerBreachCaseOutput
        return BreachCaseOutput


class BreachCaseDetailApi(APIView):
    @extend_schema(responses={200: BreachCaseOutput})
    def get(self, request, pk: int):
        return case_answer(request, access.case_for_user(user=request.user, pk=pk))


class BreachCaseTransitionApi(APIView):
    """Move a case: `{"reason"}`; `agree` also names the option (`{"option": kind}`).

    An escalated case's `resolve` or `dismiss` by a first person is recorded for approval
    (202, still escalated); a second person's same call ends it (200).
    """

    @extend_schema(
        request=TransitionInput,
        responses={200: BreachCaseOutput, 202: BreachCaseOutput,
                   409: OpenApiResponse(description="Illegal move or refused guard")},
    )  # fmt: skip
    def post(self, request, pk: int, transition: str):
        case = access.case_for_user(user=request.user, pk=pk)
        if access.is_customer(request.user):
            if transition != "agree":
                raise ActionForbidden(
                    "Customers may agree to an option; every other move is ours to make."
                )
            body = CustomerAgreeInput(data=request.data)
        else:
            body = TransitionInput(data=request.data)
        body.is_valid(raise_exception=True)
        before = case.close_requested_at
        case = services.breach_case_transition(
            actor=request.user, case_id=case.pk, transition=transition,
            reason=body.validated_data["reason"], on=timezone.localdate(),
            option=body.validated_data.get("option"),
        )  # fmt: skip
        waiting = case.state == BreachCase.State.ESCALATED and case.close_requested_at != before
        return case_answer(request, case, status_code=202 if waiting else 200)


class BreachCaseClassifyApi(APIView):
    @extend_schema(request=ClassifyInput, responses={200: BreachCaseOutput})
    def post(self, request, pk: int):
        case = access.case_for_user(user=request.user, pk=pk)
        _staff_only(request)
        body = ClassifyInput(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.breach_case_classify(actor=request.user, case_id=case.pk,
                                             **body.validated_data)  # fmt: skip
        return case_answer(request, case)


class BreachCaseOptionApi(APIView):
    """Before the offer: adjust an option's figures, drop it from the offer, or restore it."""

    @extend_schema(request=OptionChangeInput, responses={200: BreachCaseOutput})
    def post(self, request, pk: int, kind: str):
        case = access.case_for_user(user=request.user, pk=pk)
        _staff_only(request)
        option = case.options.filter(kind=kind).first()
        if option is None:
            return Response({"detail": f"No {kind} option on this case."}, status=404)
        body = OptionChangeInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        action, reason = data.pop("action"), data.pop("reason")
        if action == "drop":
            services.remediation_option_drop(actor=request.user, option_id=option.pk, reason=reason)
        elif action == "restore":
            services.remediation_option_restore(
                actor=request.user, option_id=option.pk, reason=reason
            )
        else:
            services.remediation_option_adjust(
                actor=request.user, option_id=option.pk, reason=reason, **data
            )
        return case_answer(request, case)


class BreachCaseEarlierOveruseApi(APIView):
    """Include an earlier period's over-use in the true-up, or waive it."""

    @extend_schema(request=EarlierDecisionInput, responses={200: BreachCaseOutput})
    def post(self, request, pk: int, item: int):
        case = access.case_for_user(user=request.user, pk=pk)
        _staff_only(request)
        if not case.earlier_overuse.filter(pk=item).exists():
            return Response({"detail": "No such earlier period on this case."}, status=404)
        body = EarlierDecisionInput(data=request.data)
        body.is_valid(raise_exception=True)
        services.earlier_overuse_decide(actor=request.user, item_id=item, **body.validated_data)
        return case_answer(request, case)


class BreachCaseMilestonesApi(APIView):
    @extend_schema(request=MilestoneInput, responses={201: MilestoneOutput})
    def post(self, request, pk: int):
        case = access.case_for_user(user=request.user, pk=pk)
        _staff_only(request)
        body = MilestoneInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        milestone = services.milestone_create(
            actor=request.user, case_id=case.pk, on=timezone.localdate(),
            our_contact_id=data.pop("our_contact", None), **data,
        )  # fmt: skip
        return Response(
            MilestoneOutput(milestone, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class BreachMilestoneCompleteApi(APIView):
    @extend_schema(request=ReasonInput, responses={200: MilestoneOutput})
    def post(self, request, pk: int):
        milestone = Milestone.objects.filter(
            pk=pk, case__in=access.cases_for_user(request.user)
        ).first()
        if milestone is None:
            return Response({"detail": f"No milestone with id {pk}."}, status=404)
        _staff_only(request)
        body = ReasonInput(data=request.data)
        body.is_valid(raise_exception=True)
        milestone = services.milestone_complete(
            actor=request.user, milestone_id=milestone.pk, on=timezone.localdate(),
            reason=body.validated_data["reason"],
        )  # fmt: skip
        return Response(MilestoneOutput(milestone, context={"request": request}).data)


class BreachCaseCommunicationsApi(APIView):
    """The case's communications log (staff): read it, send an e-mail from a template, or log
    a call or a meeting; attachments as multipart files under `attachments`."""

    # The project's parsers (settings: JSON, form, multipart), so its JSON parser's guards against
    # deep nesting and lone surrogates hold here too.

    @extend_schema(responses={200: CommunicationOutput(many=True)})
    def get(self, request, pk: int):
        case = access.case_for_user(user=request.user, pk=pk)
        _staff_only(request)
        entries = case.communications.select_related("logged_by").prefetch_related("attachments")
        entries = entries.order_by("occurred_at", "pk")
        context = {"request": request}  # what was said is masked for auditors (audit.personal)
        return Response(CommunicationOutput(entries, many=True, context=context).data)

    @extend_schema(request=CommunicationInput, responses={201: CommunicationOutput})
    def post(self, request, pk: int):
        case = access.case_for_user(user=request.user, pk=pk)
        _staff_only(request)
        data = request.data
        if hasattr(data, "getlist"):  # multipart: lists arrive as repeated fields
            data = {key: data.get(key) for key in data}
            data["attachments"] = request.FILES.getlist("attachments")
            if "to" in request.data:
                data["to"] = request.data.getlist("to")
        body = CommunicationInput(data=data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        files = [
            services.Attachment(f.name or "attachment", f.content_type or "", f.read())
            for f in values.get("attachments", [])
        ]
        if values["kind"] == "email":
            entry = services.communication_send_email(
                actor=request.user, case_id=case.pk, template=values["template"],
                reason=values["reason"], to=values.get("to"), note=values.get("note", ""),
                attachments=files,
            )  # fmt: skip
        else:
            entry = services.communication_log(
                actor=request.user, case_id=case.pk, kind=values["kind"],
                subject=values["subject"], body=values["body"],
                occurred_at=values["occurred_at"], reason=values["reason"],
                participants=values.get("participants", ""),
                staff_note=values.get("staff_note", ""), attachments=files,
            )  # fmt: skip
        return Response(
            CommunicationOutput(entry, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class BreachAttachmentApi(APIView):
    """An attachment's bytes, for staff and for the customer whose case it is on."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int):
        attachment = access.attachment_for_user(user=request.user, pk=pk)
        response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
        response["Content-Disposition"] = f'attachment; filename="{attachment.filename}"'
        response["X-Content-SHA256"] = attachment.sha256
        return response


class BreachCaseDeprovisionApi(APIView):
    """An unresolved willful case past its final deadline: ask to deprovision (first person)
    or approve (`.../deprovision/approve/`, a second person)."""

    approve = False

    @extend_schema(request=ReasonInput, responses={200: BreachCaseOutput})
    def post(self, request, pk: int):
        case = access.case_for_user(user=request.user, pk=pk)
        _staff_only(request)
        body = ReasonInput(data=request.data)
        body.is_valid(raise_exception=True)
        service = (services.breach_deprovision_approve if self.approve
                   else services.breach_deprovision_request)  # fmt: skip
        case = service(actor=request.user, case_id=case.pk, on=timezone.localdate(),
                       reason=body.validated_data["reason"])  # fmt: skip
        return case_answer(request, case)


class UsageWarningListApi(generics.ListAPIView):
    """Usage warnings (a customer's own): the portal's banner asks for the undismissed ones."""

    serializer_class = UsageWarningOutput

    def get_queryset(self):
        return access.warnings_for_user(self.request.user).select_related("entitlement")


class UsageWarningDismissApi(APIView):
    @extend_schema(request=None, responses={200: UsageWarningOutput})
    def post(self, request, pk: int):
        warning = access.warnings_for_user(request.user).filter(pk=pk).first()
        if warning is None:
            return Response({"detail": f"No usage warning with id {pk}."}, status=404)
        warning = services.usage_warning_dismiss(actor=request.user, warning_id=warning.pk)
        return Response(UsageWarningOutput(warning).data)
