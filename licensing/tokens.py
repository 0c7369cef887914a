"""The token endpoint: a token for a username and password, counted by django-axes."""

from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from .authentication import token_expired
from .forms import PASSWORD_MAX_LENGTH

# Bounded before anything is looked up or counted: django-axes stores the name it is given in a
# column of 255.


class BoundedAuthTokenSerializer(AuthTokenSerializer):
    username = serializers.CharField(
        label="Username", write_only=True,
        max_length=get_user_model()._meta.get_field("username").max_length,
    )  # fmt: skip
    password = serializers.CharField(
        label="Password", style={"input_type": "password"}, trim_whitespace=False,
        write_only=True, max_length=PASSWORD_MAX_LENGTH,
    )  # fmt: skip


class ObtainExpiringToken(ObtainAuthToken):
    """POST username and password for a token, replacing one that has expired.

    django-axes counts the failures: it needs Django's own request, which DRF's wraps, so the
    serializer authenticates with that; AxesMiddleware then turns a lockout into 429.
    """

    # DRF's view throttles nothing and parses unbounded JSON; this one is like the rest of the API.
    throttle_classes = [AnonRateThrottle]
    serializer_class = BoundedAuthTokenSerializer
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "request": self.request._request}

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, created = Token.objects.get_or_create(user=user)
        if not created and token_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key})


obtain_expiring_token = ObtainExpiringToken.as_view()
