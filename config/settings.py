"""LicenseDesk settings. Everything that differs between machines comes from the environment."""

import base64
import hashlib
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from .env import env_bool, env_fernet_keys, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

DEBUG = env_bool("DJANGO_DEBUG", False)
# Production must set its own secret; a development default only exists with DEBUG on.
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key" if DEBUG or TESTING else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The audit chain is keyed separately so that rotating SECRET_KEY never breaks verification.
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", SECRET_KEY if DEBUG or TESTING else None)
# Checkpoints of the audit chain's head, outside the database (see audit/checkpoints.py).
AUDIT_CHECKPOINT_DIR = env_str("AUDIT_CHECKPOINT_DIR", str(BASE_DIR / "var" / "audit"))
# The auditor's timeline files every history row and event under a customer and a contract by
# walking foreign keys to these models (audit/ imports no other app, so it is told their labels).
AUDIT_SCOPE_MODELS = {"customer": "licensing.Customer", "contract": "licensing.Contract"}
# Events that name their object by a shorter type than its model's label.
AUDIT_OBJECT_TYPE_ALIASES = {
    "credits.change": "credits.changerequest",
    "credits.policy": "credits.creditpolicyversion",
}
# Timeline exports up to this many rows stream in the request; larger ones and every verifiable
# bundle run as a Celery task, with the file kept under MEDIA_ROOT and served to its requester.
AUDIT_EXPORT_STREAM_MAX_ROWS = env_int("AUDIT_EXPORT_STREAM_MAX_ROWS", 10000)
# Fernet keys sealing connected systems' secrets at rest, comma-separated: the first seals, all
# open (rotation). Development derives one from SECRET_KEY; production sets its own, and may start
# without (until a connected system's secret is sealed, which then refuses: audit/sealing.py).
CONNECTOR_SECRET_KEYS = env_fernet_keys(
    "CONNECTOR_SECRET_KEYS",
    dev_salt=f"connectors:{SECRET_KEY}" if DEBUG or TESTING else None,
    required=False,
)
# Fernet keys sealing personal data in model fields (audit.sealing.EncryptedTextField: contacts,
# notes, dispute texts, breach communications, outbox mail), comma-separated, the first sealing
# and all opening. Production has no default and stops here without them: data sealed under a
# lost key is lost.
PERSONAL_DATA_KEYS = env_fernet_keys(
    "PERSONAL_DATA_KEYS",
    dev_salt=f"personal-data:{SECRET_KEY}" if DEBUG or TESTING else None,
    required=True,
)
# Ed25519 key that signs Merkle tree heads: base64 of the raw 32-byte private key. Debug and tests
# derive one from SECRET_KEY, stable across restarts and never valid anywhere else.
AUDIT_SIGNING_KEY = env_str(
    "AUDIT_SIGNING_KEY",
    base64.b64encode(hashlib.sha256(f"tree-head:{SECRET_KEY}".encode()).digest()).decode()
    if DEBUG or TESTING
    else None,
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "axes",
    "audit",
    "outbox",
    "licensing",
    "credits",
    "breaches",
    # Last: the furniture the apps above register into (navigation, actions, demo data).
    "shell",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "shell.middleware.DomainErrorMiddleware",
    # Last, so it sees the lockout flag the sign-in set and answers 429 instead.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shell.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes counts failed sign-ins (login page and token endpoint) before Django's own backend:
# five failures for one user name from one address lock that pair out for 15 minutes (429).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "licensing.authentication.lockout_response"
# API tokens live this many hours, and die sooner when the password changes or the user signs out.
API_TOKEN_HOURS = env_int("API_TOKEN_HOURS", 24)
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files (dispute attachments) are never served directly: views check access first.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
# A request body (files aside) above 6 MB is refused with 400; fields are bounded too.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# In development and tests WhiteNoise serves straight from the finders; production collects.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# History's change reason is a text column, like every reason it copies (audit.limits).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)

# HTTPS only in production: redirect, HSTS. Behind a TLS-terminating proxy, name the header it
# sets (SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto) so Django sees the request was HTTPS; never
# set it without such a proxy, or anyone could claim HTTPS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG or TESTING else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
_PROXY_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "")
if _PROXY_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_HEADER.upper().replace("-", "_"), "https")

# Content Security Policy (django-csp): scripts only from our own static files, no inline
# script anywhere; inline styles stay allowed (htmx's indicator style, a few style attributes).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "licensing.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # The suite and the schema fuzzing make thousands of calls from one address.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "100000/minute" if TESTING else "60/minute"),
        "user": env_str("API_THROTTLE_USER", "100000/minute" if TESTING else "1200/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bounded JSON (size, depth, NUL) first; forms and uploads as DRF parses them.
    "DEFAULT_PARSER_CLASSES": [
        "config.security.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.negotiation.StaffBrowsableNegotiation",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LicenseDesk API",
    "DESCRIPTION": "Customers, catalogue, contracts and entitlements with their lifecycles.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Read-only fields may be absent: a customer's answer leaves out staff-only ones.
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    "ENUM_NAME_OVERRIDES": {
        "EntitlementStateEnum": "licensing.models.Entitlement.State",
        "EntitlementKindEnum": "licensing.models.Entitlement.Kind",
        "ConnectedSystemKindEnum": "licensing.models.ConnectedSystem.Kind",
        "HoldKindEnum": "licensing.deprovisioning.models.DeprovisioningHold.Kind",
    },
}

# Without a broker, tasks run in-process as they are sent, so a laptop needs no Redis.
# No broker named: tasks run in-process. Celery still takes a producer for an eager task, so it gets
# kombu's in-memory transport (named in full, or kombu logs that it fell back to localhost).
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL", "")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "apply-scheduled-changes": {
        "task": "licensing.tasks.apply_scheduled_changes",
        "schedule": crontab(hour=0, minute=1),
    },
    "audit-checkpoint": {
        "task": "audit.tasks.write_checkpoint",
        "schedule": crontab(minute=7),
    },
    "expire-ended-entitlements": {
        "task": "licensing.tasks.expire_ended_entitlements",
        "schedule": crontab(hour=1, minute=5),
    },
    "renew-api-tokens": {
        "task": "licensing.tasks.renew_api_tokens",
        "schedule": crontab(hour=1, minute=35),
    },
    "deprovisioning-nightly": {
        "task": "licensing.deprovisioning.tasks.deprovisioning_nightly",
        "schedule": crontab(hour=1, minute=20),
    },
    "sign-audit-tree-head": {
        "task": "audit.tasks.sign_tree_head",
        "schedule": crontab(hour=0, minute=30),
    },
    "deprovisioning-reconcile": {
        "task": "licensing.deprovisioning.tasks.reconcile_systems",
        "schedule": crontab(hour=1, minute=50),
    },
    "credit-approval-deadlines": {
        "task": "credits.tasks.process_approval_deadlines",
        "schedule": crontab(minute="*/15"),
    },
    "credit-dispute-deadlines": {
        "task": "credits.tasks.process_dispute_deadlines",
        "schedule": crontab(minute=30),
    },
    "send-unsent-mail": {
        "task": "outbox.tasks.send_unsent_mail",
        "schedule": crontab(minute="*/10"),
    },
    "audit-retention-purge": {
        "task": "audit.tasks.purge_due_records",
        "schedule": crontab(hour=2, minute=45),
    },
    "breach-detection": {
        "task": "breaches.tasks.detect_breaches",
        "schedule": crontab(hour=2, minute=40),
    },
    "breach-milestones": {
        "task": "breaches.tasks.process_milestones",
        "schedule": crontab(hour=6, minute=10),
    },
    "verify-audit-chain": {
        "task": "audit.tasks.verify_chain",
        "schedule": crontab(hour=2, minute=15),
    },
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "licensedesk@localhost")
# Where links in e-mails point: the address people reach the site at.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint reports every rendering step at INFO, httpx every request a connector makes
    # (deliveries record their own outcome).
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}
