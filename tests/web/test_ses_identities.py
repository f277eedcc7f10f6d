"""`flask ses identities`: SES's verified identities (moto over HTTP) against SES_VERIFIED_IDENTITIES and the lists."""

import pytest

from tests import helpers


@pytest.fixture
def app_overrides():
    return {"SES_VERIFIED_IDENTITIES": ["club.example", "office@school.example", "typo.example"]}


def test_identities_and_what_each_list_keeps(app, runner, aws_account):
    ses = aws_account("ses")
    ses.verify_domain_identity(Domain="lists.example.org")
    ses.verify_domain_identity(Domain="club.example")
    ses.verify_email_identity(EmailAddress="office@school.example")
    helpers.make_list("club@lists.example.org", "Club")
    helpers.make_list("news@unverified.example", "News")
    result = runner.invoke(args=["ses", "identities"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "club.example\tSuccess" in lines and "office@school.example\tSuccess" in lines
    assert ("club@lists.example.org: posts by authors at club.example, office@school.example keep their From; "
            "every other post leaves From the list, with the author in Reply-To") in lines
    assert any(line.startswith("news@unverified.example: its domain is not verified in SES") for line in lines)
    assert "SES_VERIFIED_IDENTITIES names typo.example, which SES has not verified" in result.output


def test_always_rewrite_says_so(app, runner, aws_account):
    app.config["FROM_REWRITE"] = "always"
    aws_account("ses").verify_domain_identity(Domain="lists.example.org")
    helpers.make_list("club@lists.example.org", "Club")
    result = runner.invoke(args=["ses", "identities"])
    assert "club@lists.example.org: every post leaves From the list, with the author in Reply-To" in result.output


def test_no_aws_is_one_line(app, runner, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    result = runner.invoke(args=["ses", "identities"])
    assert result.exit_code == 1 and "no AWS region" in result.output
