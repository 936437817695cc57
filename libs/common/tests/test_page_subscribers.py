"""The domain rule of email-domain pages, shared by the status page (signing in, subscribing) and the notifier
(which subscribers of such a page are mailed)."""

from __future__ import annotations

from openstatus_common.pages.subscribers import email_domain_allowed


def test_email_domain_allowed() -> None:
    domains = ["Acme.com", " @corp.example ", "shop.example."]
    assert email_domain_allowed("alice@acme.com", domains)
    assert email_domain_allowed("Alice@ACME.COM", domains)
    assert email_domain_allowed("bob@corp.example", domains)
    assert email_domain_allowed("carol@shop.example.", domains)
    assert not email_domain_allowed("eve@sub.acme.com", domains)  # subdomains are other domains
    assert not email_domain_allowed("mallory@acme.com.evil.com", domains)
    assert not email_domain_allowed("mallory@evil.com", domains)
    assert not email_domain_allowed("nobody", domains)
    assert not email_domain_allowed("alice@acme.com", [])
    assert not email_domain_allowed("", [""])
