"""Secrets in destination URLs: which parts are secret, `***` in their place, stored ones put
back only for the same server and user, `${VAR}` from the environment."""

from __future__ import annotations

import pytest

from pinads.errors import ConfigError, PinadsError
from pinads.secret_urls import (
    expand_env,
    has_masked_secrets,
    has_secrets,
    redact_url,
    restore_secrets,
)

REDACTED = {
    "postgresql://pinads:S3cretPass@127.0.0.1:5432/test": (
        "postgresql://pinads:***@127.0.0.1:5432/test"
    ),
    "postgres://u:p%40ss@h/db?schema=x&sslpassword=k3y&password=z&sslmode=require": (
        "postgres://u:***@h/db?schema=x&sslpassword=***&password=***&sslmode=require"
    ),
    "postgresql://h/db?password=a&password=b": "postgresql://h/db?password=***&password=***",
    "s3://bucket/dir?aws_secret_access_key=abc&api_key=d&access_token=e&region=eu": (
        "s3://bucket/dir?aws_secret_access_key=***&api_key=***&access_token=***&region=eu"
    ),
}
NO_SECRET = (
    "duckdb",
    "duckdb:///data/x.duckdb?threads=2&memory_limit=1GB",
    "file:///data/out?format=csv",
    "postgresql://u@h/db?sslmode=require&sslkey=/k.pem&passfile=/p",
    "postgresql://u:@h/db",
)


@pytest.mark.parametrize(("url", "shown"), REDACTED.items())
def test_every_secret_is_masked_and_comes_back_from_the_stored_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert has_secrets(url) and not has_masked_secrets(url)
    assert has_masked_secrets(shown) and not has_secrets(shown)
    assert restore_secrets(shown, url) == url


@pytest.mark.parametrize("url", NO_SECRET)
def test_urls_without_secrets_are_left_as_they_are(url: str) -> None:
    assert redact_url(url) == url
    assert not has_secrets(url) and not has_masked_secrets(url)
    assert restore_secrets(url, None) == url


def test_text_that_is_not_a_url_is_hidden_when_it_could_hold_a_secret() -> None:
    assert redact_url("user:S3cret@somewhere") == "***"
    assert redact_url("postgresql://u:S3cret@[::1/db") == "***"  # unparseable
    assert redact_url("http://[::1") == "http://[::1"  # unparseable, but nothing to hide


def test_a_changed_url_keeps_the_stored_secret_for_the_same_server_and_user() -> None:
    stored = "postgresql://pinads:S3cret@db.example:5432/test?sslpassword=K"
    edited = "postgres://pinads:***@DB.example:5432/other?schema=ads&sslpassword=***"
    assert restore_secrets(edited, stored) == (
        "postgres://pinads:S3cret@DB.example:5432/other?schema=ads&sslpassword=K"
    )
    new_password = "postgresql://pinads:N3w@db.example:5432/test?sslpassword=***"
    assert restore_secrets(new_password, stored) == (
        "postgresql://pinads:N3w@db.example:5432/test?sslpassword=K"
    )


@pytest.mark.parametrize(
    "edited",
    [
        "postgresql://pinads:***@evil.example:5432/test",
        "postgresql://pinads:***@db.example:6543/test",
        "postgresql://root:***@db.example:5432/test",
        "mysql://pinads:***@db.example:5432/test",
    ],
)
def test_the_stored_secret_never_goes_to_another_server_or_user(edited: str) -> None:
    stored = "postgresql://pinads:S3cret@db.example:5432/test"
    with pytest.raises(ConfigError, match="server or user changed: type its password again"):
        restore_secrets(edited, stored)


def test_a_mask_without_a_stored_secret_says_what_to_do() -> None:
    with pytest.raises(ConfigError) as info:
        restore_secrets("postgresql://u@h/db?sslpassword=***", "postgresql://u:pw@h/db")
    assert str(info.value) == (
        "the destination URL has *** for its sslpassword parameter but no stored value: *** "
        "keeps the saved secret of an existing source; write the secret itself (or ${ENV_VAR} "
        "in a source file)"
    )


def test_environment_references() -> None:
    env = {"PGPASSWORD": "a@b/c:d", "PGURL": "postgresql://u:x@h/db"}
    assert expand_env("postgresql://u:${PGPASSWORD}@h/db", env) == (
        "postgresql://u:a%40b%2Fc%3Ad@h/db"
    )
    assert expand_env("${PGURL}", env) == "postgresql://u:x@h/db"
    assert expand_env("duckdb", env) == "duckdb"
    with pytest.raises(ConfigError, match=r"environment has no variable NOPE \(export it"):
        expand_env("postgresql://u:${NOPE}@h/db", env)


def test_error_messages_never_carry_a_url_password() -> None:
    error = PinadsError("cannot reach postgresql://pinads:S3cret@h:5432/db (refused)")
    assert str(error) == "cannot reach postgresql://pinads:***@h:5432/db (refused)"


# Passwords holding an unencoded / ? # (or @): a URL parser ends the userinfo at the first
# / ? or #, so without care the rest of the password is shown as host, path or query.
AWKWARD = {
    "postgresql://u:pa/ss#x@host/db": ("pa/ss#x", "postgresql://u:***@host/db"),
    "postgresql://u:pa?ss@host:5432/db?schema=a": (
        "pa?ss",
        "postgresql://u:***@host:5432/db?schema=a",
    ),
    "postgres://pinads:p#a@s/s@db.example/test": (
        "p#a@s/s",
        "postgres://pinads:***@db.example/test",
    ),
    "postgresql://u:a?b=c&d@h/db?sslmode=require": (
        "a?b=c&d",
        "postgresql://u:***@h/db?sslmode=require",
    ),
    "postgresql://u:x/y@h/db?password=q/r#s": ("q/r#s", "postgresql://u:***@h/db?password=***"),
    "postgresql://h/db?schema=a&password=k3y#tail": (
        "k3y#tail",
        "postgresql://h/db?schema=a&password=***",
    ),
}


@pytest.mark.parametrize(("url", "secret_and_shown"), AWKWARD.items())
def test_passwords_with_unencoded_delimiters_are_masked_whole(
    url: str, secret_and_shown: tuple[str, str]
) -> None:
    secret, shown = secret_and_shown
    assert redact_url(url) == shown
    assert has_secrets(url) and has_masked_secrets(shown)
    assert restore_secrets(shown, url) == url
    assert secret not in str(PinadsError(f"cannot reach {url} (refused)"))
    assert secret not in str(PinadsError(f"destination '{url}': bad"))
