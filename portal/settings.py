"""Settings for the Fuldmagt portal, read from environment variables.

With no variables set the portal runs embedded: SQLite, Celery tasks run eagerly in-process, a
local-memory cache and email printed to the console. ``DATABASE_URL`` switches to PostgreSQL,
``REDIS_URL`` switches the Celery broker, result backend and cache to Redis, and
``DJANGO_ENV=production`` refuses to start without a real secret key and allowed hosts.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)

_DEV_SECRET_KEY = "insecure-embedded-demo-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"])

if PRODUCTION:
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random value of 50+ characters.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the host names the portal answers to.")
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG cannot be on in production.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",  # MitID login, see "National eID" below
    "allauth.socialaccount.providers.saml",
    "guardian",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "csp",
    "django_filters",
    "portal",
    "authorities",
    "attorney",
    "representation",
    "organisations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The authorities' most frequent question, answered without the portal's stack below (same answer).
    "authorities.api.middleware.DecisionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.PreferredLanguageMiddleware",
    "portal.middleware.StaffMFAMiddleware",
    "attorney.middleware.ActingForMiddleware",
    "attorney.middleware.EmergencyQuestionMiddleware",
]

ROOT_URLCONF = "portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
                "organisations.context_processors.organisations",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    # A `SELECT 1` before the first query of each request; bench/decisions.py measures its cost.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=True)
    # The decision path's statements are prepared once per connection (portal.prepared), so
    # PostgreSQL does not plan them for every question; Django's own queries bind on the client and
    # are never prepared. Turn off behind a connection pooler that cannot keep prepared statements.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if PRODUCTION and not REDIS_URL:
    # Without a shared cache the API throttles, login rate limits, the SAML replay cache and token
    # revocation would each hold only per process, and a second process would not see the first's.
    raise ImproperlyConfigured(
        "REDIS_URL must be set in production: rate limits, the SAML replay cache and token "
        "revocation must be shared by every process."
    )
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="fuldmagt"),
            # An unreachable Redis fails a request within seconds instead of hanging a web worker.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Europe/Copenhagen"
CELERY_BEAT_SCHEDULE = {
    "expire-due-powers-of-attorney": {
        "task": "attorney.tasks.expire_due_powers_of_attorney",
        "schedule": 60.0,
    },
    "remind-before-expiry": {
        "task": "attorney.tasks.send_expiry_reminders",
        "schedule": 60.0 * 60,
    },
    "resend-unsent-emails": {
        "task": "portal.tasks.resend_unsent_emails",
        "schedule": 60.0 * 10,
    },
    "resend-pending-webhooks": {
        "task": "authorities.tasks.resend_pending_webhooks",
        "schedule": 60.0 * 10,
    },
    "expire-due-consents": {
        "task": "authorities.tasks.expire_due_consents",
        "schedule": 60.0,
    },
    "remind-before-consent-expiry": {
        "task": "authorities.tasks.send_consent_reminders",
        "schedule": 60.0 * 60,
    },
    "sequence-audit-log": {
        "task": "portal.tasks.sequence_audit_log",
        "schedule": 1.0,
        "options": {"expires": 5},
    },
    "import-register-extract": {
        "task": "representation.tasks.import_register_extract",
        "schedule": 60.0 * 60 * 24,
    },
}

# --- Audit transparency log (portal.tlog) -----------------------------------------------------
# Checkpoints are signed with an Ed25519 key in Go's note format (``manage.py audit_log_key``
# makes one); the public half is published at /api/v1/log/key. The demo key is public knowledge.
_DEV_AUDIT_LOG_SIGNING_KEY = (
    "PRIVATE+KEY+fuldmagt.localhost/audit-log+c5964f06+AcBshG56Wa/ZDvuXnHxjI/jJZJojXeGZXve1oHMCYw1C"  # noqa: S105
)
AUDIT_LOG_SIGNING_KEY = env.str(
    "AUDIT_LOG_SIGNING_KEY", default="" if PRODUCTION else _DEV_AUDIT_LOG_SIGNING_KEY
)
if PRODUCTION and AUDIT_LOG_SIGNING_KEY in ("", _DEV_AUDIT_LOG_SIGNING_KEY):
    raise ImproperlyConfigured(
        "AUDIT_LOG_SIGNING_KEY must be set to the log's own key (manage.py audit_log_key)."
    )
AUDIT_LOG_ORIGIN = env.str("AUDIT_LOG_ORIGIN", default="fuldmagt.localhost/audit-log")
# With eager Celery and no beat (the embedded demo) the sequencer runs after each commit instead.
AUDIT_LOG_SEQUENCE_ON_COMMIT = env.bool("AUDIT_LOG_SEQUENCE_ON_COMMIT", default=CELERY_TASK_ALWAYS_EAGER)
AUDIT_LOG_BATCH_SIZE = env.int("AUDIT_LOG_BATCH_SIZE", default=5000)
# Authorities get a checkpoint in their event feed and webhooks at most this often (seconds).
AUDIT_LOG_PUBLISH_INTERVAL = env.int("AUDIT_LOG_PUBLISH_INTERVAL", default=300)
AUDIT_LOG_API_RATE = env.str("AUDIT_LOG_API_RATE", default="600/min")

# Emails and webhook deliveries still unsent this long after they were written are queued again
# (their task was lost to a broker outage or a killed worker; sending twice is prevented by a row lock).
OUTBOX_RESEND_AFTER_SECONDS = env.int("OUTBOX_RESEND_AFTER_SECONDS", default=10 * 60)

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "authorities.catalogue.permissions.CitizenFilePermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "authorities:start"

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_FORMS = {"signup": "portal.forms.SignupForm"}
ACCOUNT_UNIQUE_EMAIL = True
# The embedded demo lets a newcomer sign up without a mail server; everywhere else an address
# must be confirmed before the account can log in.
ACCOUNT_EMAIL_VERIFICATION = env.str(
    "ACCOUNT_EMAIL_VERIFICATION", default="mandatory" if PRODUCTION else "optional"
)
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reauthenticate": "10/m/user",
    # The public access-code page: per client address, and per code whatever the address.
    "access_code": "30/h/ip,10/h/key",
    # A CPR number with a name, typed to give or ask for a power of attorney: per account.
    "cpr_name_check": "20/h/user",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Fuldmagt] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Fuldmagt"

# --- Object permissions -----------------------------------------------------------------------
ANONYMOUS_USER_NAME = None
# Our own backend (authorities.catalogue.permissions) subclasses guardian's, which the check does not see.
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]
GUARDIAN_RAISE_403 = False

# --- Powers of attorney -----------------------------------------------------------------------
POWER_OF_ATTORNEY_MAX_YEARS = env.int("POWER_OF_ATTORNEY_MAX_YEARS", default=10)
# Legal representatives (representation): the register's daily extract of parental custody and
# guardianships, imported by beat when the file is there; and the authority whose caseworkers
# register guardianships (Familieretshuset).
REPRESENTATION_REGISTER_EXTRACT = env.str("REPRESENTATION_REGISTER_EXTRACT", default="")
FAMILY_COURT_AUTHORITY_SLUG = env.str("FAMILY_COURT_AUTHORITY_SLUG", default="familieretshuset")
POWER_OF_ATTORNEY_REMINDER_DAYS = 14
ATTORNEY_REQUEST_MAX_OPEN = env.int("ATTORNEY_REQUEST_MAX_OPEN", default=5)
ATTORNEY_REQUEST_COOLDOWN_DAYS = 30

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["authorities.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["authorities.api.throttling.ApiClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_client": env.str("API_THROTTLE_RATE", default="6000/min")},
    "DEFAULT_PARSER_CLASSES": ["authorities.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["authorities.api.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "authorities.api.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
API_MAX_BODY_BYTES = 256 * 1024
# Webhooks never go to internal addresses; loopback (also over plain http) only for tests and
# development receivers on this machine, never in production.
WEBHOOK_ALLOW_LOOPBACK = env.bool("WEBHOOK_ALLOW_LOOPBACK", default=False)
if PRODUCTION and WEBHOOK_ALLOW_LOOPBACK:
    raise ImproperlyConfigured("WEBHOOK_ALLOW_LOOPBACK cannot be on in production.")
WEBHOOK_TIMEOUT_SECONDS = 5
SPECTACULAR_SETTINGS = {
    "TITLE": "Fuldmagt authority API",
    "DESCRIPTION": "Decisions on who may act for whom, the powers of attorney that concern your authority, "
    "and delivery of letters. Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two answers have a "reason" with different choices; each gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "DecisionReasonEnum": "authorities.api.serializers.DECISION_REASONS",
        "DataUseRefusalReasonEnum": "authorities.api.data_uses.DATA_USE_REFUSAL_REASONS",
    },
}

# --- Language and time ------------------------------------------------------------------------
LANGUAGE_CODE = "da"
LANGUAGES = [("da", "Dansk"), ("en", "English")]
# English dates day-month-year and times on the 24-hour clock (portal/formats/en).
FORMAT_MODULE_PATH = ["portal.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))) / "private"},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded documents are private: they are only ever served through permission-checked views.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Email ------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Fuldmagt <noreply@fuldmagt.example>")

# --- The portal's own identity (shown in header and footer) -----------------------------------
PORTAL_OWNER = env.str("PORTAL_OWNER", default="Digitaliseringsstyrelsen")
PORTAL_CONTACT_EMAIL = env.str("PORTAL_CONTACT_EMAIL", default="fuldmagt@digst.example")
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
PORTAL_CONTACT_PHONE = env.str("PORTAL_CONTACT_PHONE", default="+45 33 92 52 00")

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Logged out after 30 minutes without activity: every request renews the session's expiry.
SESSION_COOKIE_AGE = env.int("SESSION_INACTIVITY_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # A load balancer asks for health over plain http inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- National eID: MitID through NemLog-in (OIOSAML 3) ---------------------------------------
# allauth's SAML provider, on only when IdP metadata is configured (README: "Log in with MitID").
# Without it there is no SAML app: the login page and every flow are exactly as before.
from portal.eid_settings import local_test_login_apps, saml_apps_from_env, sso_origin  # noqa: E402

ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "portal.adapters.SocialAccountAdapter"
SOCIALACCOUNT_FORMS = {"signup": "portal.adapters.EidSignupForm"}
# Accounts are linked by CPR number (portal.adapters), never by email address.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
# MitID proves who the person is; their email address is confirmed by link but does not block login.
SOCIALACCOUNT_EMAIL_VERIFICATION = "optional"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {
    "saml": {
        "provider_class": "portal.eid.NemLogInProvider",
        "APPS": saml_apps_from_env(
            env,
            contact_email=env.str("EID_CONTACT_EMAIL", default=PORTAL_CONTACT_EMAIL),
            organization_name=PORTAL_OWNER,
            organization_url=PORTAL_BASE_URL,
        ),
    }
}
# The local MitID test login (README: "Log in with MitID"): in development without NemLog-in, a page of
# this portal plays NemLog-in with a signed test IdP. Never in production (refuses to start).
EID_LOCAL_TEST_LOGIN_DIR = Path(
    env.str("EID_LOCAL_TEST_LOGIN_DIR", default=str(BASE_DIR / ".eid-test-login"))
)
EID_LOCAL_TEST_LOGIN, SOCIALACCOUNT_PROVIDERS["saml"]["APPS"] = local_test_login_apps(
    env,
    production=PRODUCTION,
    configured_apps=SOCIALACCOUNT_PROVIDERS["saml"]["APPS"],
    folder=EID_LOCAL_TEST_LOGIN_DIR,
    base_url=PORTAL_BASE_URL,
)
# Legal acts (give, accept, revoke, answer consents, act for someone) need a MitID session at level
# Substantial; a password session can read but not act. On in production; off elsewhere so the password
# demo and tests keep working. Caseworkers in the admin are not affected.
EID_REQUIRED_FOR_LEGAL_ACTS = env.bool("EID_REQUIRED_FOR_LEGAL_ACTS", default=PRODUCTION)
# The MitID button posts to the portal, which redirects the browser to NemLog-in: a form submission
# that browsers check against form-action.
for _saml_app in SOCIALACCOUNT_PROVIDERS["saml"]["APPS"]:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(sso_origin(_saml_app))
# --- end of National eID ----------------------------------------------------------------------

# Production logs one JSON object per line with the request id (portal.logs); development plain text.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "portal.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# Celery's worker and beat keep Django's logging (and so the JSON lines) instead of their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

SITE_NAME = _("Fuldmagt")
