"""Settings: defaults, .env, and one clear line for anything missing or wrong."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings


def test_defaults_need_nothing_set():
    settings = Settings.from_env({}, env_file=None)
    assert settings.database_url == "sqlite:///sspbot.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.port == 3000
    assert settings.slack_bot_token is None


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_BOT_TOKEN=xoxb-from-file\nPORT=4000\n# a comment\n")
    settings = Settings.from_env({"PORT": "5000"}, env_file=env_file)
    assert settings.slack_bot_token == "xoxb-from-file"
    assert settings.port == 5000


def test_a_missing_required_setting_names_the_variable_and_where_to_get_it():
    settings = Settings.from_env({}, env_file=None)
    with pytest.raises(ConfigError) as missing:
        settings.require("SLACK_BOT_TOKEN")
    message = str(missing.value)
    assert message.startswith("SLACK_BOT_TOKEN is not set")
    assert "OAuth & Permissions" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATABASE_URL", "not a url", "DATABASE_URL is not a database URL"),
        ("DATABASE_URL", "mysql://localhost/x", "does not support"),
        ("PORT", "eighty", "PORT must be a number"),
        ("PORT", "70000", "PORT must be a number"),
        ("SLACK_API_URL", "localhost:8080", "SLACK_API_URL must start with https://"),
        ("SSPBOT_SCHEDULER", "sometimes", "SSPBOT_SCHEDULER must be on or off"),
        ("ATTACHMENT_KEY", "not-a-fernet-key", "ATTACHMENT_KEY is not a Fernet key"),
    ],
)
def test_a_malformed_setting_is_one_line_naming_it(name, value, expected):
    with pytest.raises(ConfigError) as bad:
        Settings.from_env({name: value}, env_file=None)
    assert expected in str(bad.value)
    assert "\n" not in str(bad.value)


def test_postgres_urls_use_the_driver_we_ship():
    settings = Settings.from_env({"DATABASE_URL": "postgres://u:pw@db:5432/ssp"}, env_file=None)
    assert settings.database_url == "postgresql+psycopg://u:pw@db:5432/ssp"


def test_slack_api_url_gets_the_trailing_slash_slack_sdk_needs():
    settings = Settings.from_env({"SLACK_API_URL": "http://127.0.0.1:9999/api"}, env_file=None)
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"


def test_describe_hides_secrets_and_passwords():
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-secret-token",
            "DATABASE_URL": "postgresql://u:hunter2@db/ssp",
            "M365_CLIENT_SECRET": "very-secret",
        },
        env_file=None,
    )
    shown = "\n".join(f"{name} {value}" for name, value in settings.describe())
    assert "xoxb-secret-token" not in shown and "hunter2" not in shown
    assert "very-secret" not in shown
    assert "SLACK_BOT_TOKEN (set, hidden)" in shown


def test_sspbot_config_hides_credentials_inside_any_url(run_cli):
    result = run_cli(
        "config",
        env={
            "SLACK_API_URL": "https://proxyuser:s3cr3t-pw@slack-proxy.example.org/api/",
            "SLACK_BOT_TOKEN": "xoxb-secret-token",
        },
    )
    assert result.code == 0, result
    assert "s3cr3t-pw" not in result.out and "xoxb-secret-token" not in result.out
    assert "SLACK_API_URL" in result.out and "proxyuser:***@slack-proxy.example.org" in result.out


def test_microsoft_365_endpoints_default_to_microsofts_global_service(run_cli):
    settings = Settings.from_env({}, env_file=None)
    assert settings.m365_authority_url == "https://login.microsoftonline.com"
    assert settings.m365_graph_url == "https://graph.microsoft.com"

    result = run_cli("config")
    assert result.code == 0, result
    assert "M365_AUTHORITY_URL" in result.out and "https://login.microsoftonline.com" in result.out
    assert "M365_GRAPH_URL" in result.out and "https://graph.microsoft.com" in result.out


@pytest.mark.parametrize(
    ("authority", "graph"),
    [
        ("https://login.microsoftonline.us/", "https://graph.microsoft.us/"),
        ("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
        ("https://localhost:8443", "http://127.0.0.1:8765"),
        ("https://127.0.0.1:8443/entra", "http://localhost:8765/graph"),
    ],
)
def test_microsoft_365_endpoints_for_national_clouds_and_local_stand_ins(run_cli, authority, graph):
    settings = Settings.from_env(
        {"M365_AUTHORITY_URL": authority, "M365_GRAPH_URL": graph}, env_file=None
    )
    # The sync appends the tenant and the API version: no trailing slash to double.
    assert settings.m365_authority_url == authority.rstrip("/")
    assert settings.m365_graph_url == graph.rstrip("/")

    result = run_cli("config", env={"M365_AUTHORITY_URL": authority, "M365_GRAPH_URL": graph})
    assert result.code == 0, result
    assert authority.rstrip("/") in result.out and graph.rstrip("/") in result.out


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("M365_GRAPH_URL", "graph.microsoft.us", "must start with https://"),
        ("M365_GRAPH_URL", "http://graph.microsoft.us", "http:// only to localhost or 127.0.0.1"),
        ("M365_GRAPH_URL", "http://10.0.0.5:8765", "http:// only to localhost or 127.0.0.1"),
        ("M365_GRAPH_URL", "ftp://localhost", "must start with https://"),
        ("M365_GRAPH_URL", "https://graph.microsoft.us/v1.0", "must not end with the API version"),
        (
            "M365_GRAPH_URL",
            "https://graph.microsoft.com/beta/",
            "must not end with the API version",
        ),
        ("M365_GRAPH_URL", "https://u:pw@graph.example", "no query or user:password"),
        ("M365_GRAPH_URL", "https://graph.example?x=1", "no query or user:password"),
        ("M365_GRAPH_URL", "https://graph.example:port", "port that is not a number"),
        ("M365_AUTHORITY_URL", "login.microsoftonline.us", "must start with https://"),
        ("M365_AUTHORITY_URL", "http://localhost:8443", "msal signs in only over https"),
        ("M365_AUTHORITY_URL", "https://", "must start with https://"),
    ],
)
def test_a_bad_microsoft_365_endpoint_is_one_line_naming_it(name, value, expected):
    with pytest.raises(ConfigError) as bad:
        Settings.from_env({name: value}, env_file=None)
    message = str(bad.value)
    assert message.startswith(f"{name} ")
    assert expected in message
    assert "\n" not in message
