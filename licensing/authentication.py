"""API tokens that expire and die with the password that earned them; the sign-in lockout answer."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

LOCKOUT_MESSAGE = "Too many failed sign-ins: try again in 15 minutes."


def token_lifetime() -> timedelta:
    return timedelta(hours=settings.API_TOKEN_HOURS)


def token_expired(token: Token) -> bool:
    return token.created <= timezone.now() - token_lifetime()


class TokenExpired(exceptions.APIException):
    """401 even though session authentication comes first (DRF would make it a 403)."""

    status_code = 401
    default_detail = "Token expired: ask for a new one."
    default_code = "token_expired"


class ExpiringTokenAuthentication(TokenAuthentication):
    """A token older than API_TOKEN_HOURS answers 401; the holder asks for a new one."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise TokenExpired()
        return user, token


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: 429, JSON for the API."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKOUT_MESSAGE}, status=429)
    return HttpResponse(LOCKOUT_MESSAGE, status=429, content_type="text/plain; charset=utf-8")


def revoke_tokens_on_password_change(sender, instance, raw=False, **kwargs) -> None:
    """pre_save of the user: a new password hash, by any path, ends every API token."""
    if raw or instance.pk is None:
        return
    old = get_user_model().objects.filter(pk=instance.pk).values_list("password", flat=True)
    if old and old[0] != instance.password:
        Token.objects.filter(user_id=instance.pk).delete()


def revoke_tokens_on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        Token.objects.filter(user_id=user.pk).delete()
