"""Outside development the API refuses to start without long secrets or with development-only features."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from app.api import create_app
from infra.settings import Settings, UnsafeSettings

pytestmark = pytest.mark.unit

LONG = "s" * 32


def production(**changes) -> Settings:
    values = {"environment": "production", "admin_key": LONG, "jwt_secret": LONG, "payment_webhook_secret": LONG,
              "payment_simulator": False, **changes}
    return Settings(_env_file=None, **values)


def test_production_settings_with_long_secrets_are_accepted():
    settings = production()

    assert settings.environment == "production" and not settings.payment_simulator


@pytest.mark.parametrize("secret, variable", [("payment_webhook_secret", "SHOP_PAYMENT_WEBHOOK_SECRET"),
                                              ("jwt_secret", "SHOP_JWT_SECRET"), ("admin_key", "SHOP_ADMIN_KEY")])
@pytest.mark.parametrize("value", ["", "short", None])
def test_a_short_or_missing_secret_outside_development_refuses_to_start(secret, variable, value):
    with pytest.raises(UnsafeSettings) as refused:
        production(**{secret: value})

    assert variable in str(refused.value) and "at least 32 characters" in str(refused.value)


def test_the_payment_simulator_outside_development_refuses_to_start():
    with pytest.raises(UnsafeSettings) as refused:
        production(payment_simulator=True)

    assert "SHOP_PAYMENT_SIMULATOR" in str(refused.value) and "SHOP_ENVIRONMENT=development" in str(refused.value)


def test_the_payment_simulator_needs_a_webhook_secret_to_sign_with():
    with pytest.raises(UnsafeSettings) as refused:
        Settings(_env_file=None, environment="development", payment_simulator=True, payment_webhook_secret=None)

    assert "SHOP_PAYMENT_WEBHOOK_SECRET" in str(refused.value)


def test_development_starts_without_secrets():
    settings = Settings(_env_file=None, environment="development", admin_key=None, jwt_secret=None,
                        payment_webhook_secret=None, payment_simulator=False)

    assert settings.jwt_secret is None


def test_the_app_factory_refuses_settings_copied_past_validation():
    unsafe = production().model_copy(update={"payment_webhook_secret": SecretStr("short")})

    with pytest.raises(UnsafeSettings, match="SHOP_PAYMENT_WEBHOOK_SECRET"):
        create_app(unsafe)


def test_nothing_outside_development_is_the_default():
    assert Settings.model_fields["environment"].default == "production"
    assert Settings.model_fields["payment_simulator"].default is False
