"""The credential formats :mod:`.secrets` looks for: one entry per rule, with its source.

Each pattern is written here in Python from a public, maintained rule set and names
the rule it mirrors; none is a guess. A pattern's group 1 is the secret's value (what
a finding's offsets cover and redaction replaces), and the lookahead after it is the
end gitleaks requires (a quote, a space, ``;``, an escaped newline or the end), so a
prefix of a longer word is not taken for a key.

Confidence: ``high`` for formats with a provider's own prefix or structure (a random
string does not match them by chance), ``medium`` for what depends on the context
around a value (a JWT may be a documentation example, a name may not mean a secret).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GITLEAKS = (
    "https://github.com/gitleaks/gitleaks/blob/"
    "b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b/config/gitleaks.toml (v8.30.0-27, MIT)"
)
TRUFFLEHOG = (
    "https://github.com/trufflesecurity/trufflehog/blob/{commit}/pkg/detectors/{path}"
    " (the format its detector reads)"
)
DETECT_SECRETS_AWS = (
    "https://github.com/Yelp/detect-secrets/blob/"
    "0b2c0e119c43361a31ef343b8b0587cadddc3584/detect_secrets/plugins/aws.py (Apache-2.0)"
)

# gitleaks' end of a token: a quote, backtick, space, ``;``, an escaped \n or \r, the end.
_END = r"""(?=[`'"\s;]|\\[nr]|$)"""


@dataclass(frozen=True)
class Rule:
    name: str
    confidence: str  # "high" | "medium"
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]  # lowercase; the rule runs only on text holding one
    source: str  # where the pattern comes from: the rule set, its version and rule id
    min_entropy: float = 0.0  # Shannon bits per character of the value, as gitleaks'
    ignore: re.Pattern[str] | None = None  # values the source allowlists


def _rule(
    name: str,
    confidence: str,
    pattern: str,
    keywords: tuple[str, ...],
    source: str,
    min_entropy: float = 0.0,
    ignore: str | None = None,
    flags: int = 0,
) -> Rule:
    return Rule(
        name,
        confidence,
        re.compile(pattern, flags),
        keywords,
        source,
        min_entropy,
        re.compile(ignore) if ignore else None,
    )


def _gitleaks(rule_id: str) -> str:
    return f"gitleaks rule {rule_id}: {GITLEAKS}"


def _trufflehog(detector: str, commit: str, path: str) -> str:
    return f"trufflehog detector {detector}: " + TRUFFLEHOG.format(commit=commit, path=path)


_SLACK = ("xox",)

RULES: tuple[Rule, ...] = (
    _rule(
        "aws-access-key-id",
        "high",
        r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        ("a3t", "akia", "asia", "abia", "acca"),
        _gitleaks("aws-access-token"),
        3.0,
        ignore=r".+EXAMPLE$",
    ),
    _rule(
        # detect-secrets reads the secret key as the 40 characters assigned on a line
        # holding the key id's context; here the name must say AWS and secret.
        "aws-secret-access-key",
        "high",
        r"(?i)aws[\w.-]{0,20}?secret[\w.-]{0,20}[\s'\"]{0,3}(?:=|:=|:|=>)[\s'\"]{0,5}"
        r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        ("secret",),
        f"detect-secrets AWSKeyDetector.get_secret_access_key: {DETECT_SECRETS_AWS}",
        3.0,
    ),
    _rule(
        "gcp-api-key",
        "high",
        r"\b(AIza[\w-]{35})" + _END,
        ("aiza",),
        _gitleaks("gcp-api-key"),
        4.0,
    ),
    _rule(
        "azure-ad-client-secret",
        "high",
        r"""(?:^|[\\'"`\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?=$|[\\'"`\s<),])""",
        ("q~",),
        _gitleaks("azure-ad-client-secret"),
        3.0,
    ),
    _rule(
        "azure-storage-account-key",
        "high",
        r"(?i:(?:Access|Account|Storage)[_.-]?Key)(?:.|\s){0,25}?([a-zA-Z0-9+/-]{86,88}={0,2})",
        ("accountkey", "account_key", "account.key", "account-key", "storagekey", "accesskey"),
        _trufflehog(
            "azure_storage", "05fcfe6e2a6a291bee3313efff36473e8d5b2e8d", "azure_storage/storage.go"
        ),
        4.0,
    ),
    _rule("github-pat", "high", r"(ghp_[0-9a-zA-Z]{36})", ("ghp_",), _gitleaks("github-pat"), 3.0),
    _rule(
        "github-oauth", "high", r"(gho_[0-9a-zA-Z]{36})", ("gho_",), _gitleaks("github-oauth"), 3.0
    ),
    _rule(
        "github-app-token",
        "high",
        r"((?:ghu|ghs)_[0-9a-zA-Z]{36})",
        ("ghu_", "ghs_"),
        _gitleaks("github-app-token"),
        3.0,
    ),
    _rule(
        "github-refresh-token",
        "high",
        r"(ghr_[0-9a-zA-Z]{36})",
        ("ghr_",),
        _gitleaks("github-refresh-token"),
        3.0,
    ),
    _rule(
        "github-fine-grained-pat",
        "high",
        r"(github_pat_\w{82})",
        ("github_pat_",),
        _gitleaks("github-fine-grained-pat"),
        3.0,
    ),
    _rule(
        "gitlab-pat-routable",
        "high",
        r"\b(glpat-[0-9a-zA-Z_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7})\b",
        ("glpat-",),
        _gitleaks("gitlab-pat-routable"),
        4.0,
    ),
    _rule("gitlab-pat", "high", r"(glpat-[\w-]{20})", ("glpat-",), _gitleaks("gitlab-pat"), 3.0),
    _rule(
        "anthropic-api-key",
        "high",
        r"\b(sk-ant-api03-[a-zA-Z0-9_\-]{93}AA)" + _END,
        ("sk-ant-api03",),
        _gitleaks("anthropic-api-key"),
    ),
    _rule(
        "anthropic-admin-api-key",
        "high",
        r"\b(sk-ant-admin01-[a-zA-Z0-9_\-]{93}AA)" + _END,
        ("sk-ant-admin01",),
        _gitleaks("anthropic-admin-api-key"),
    ),
    _rule(
        "openai-api-key",
        "high",
        r"\b(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ"
        r"(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})\b|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})"
        + _END,
        ("t3blbkfj",),
        _gitleaks("openai-api-key"),
        3.0,
    ),
    _rule(
        "huggingface-access-token",
        "high",
        r"\b(hf_(?i:[a-z]{34}))" + _END,
        ("hf_",),
        _gitleaks("huggingface-access-token"),
        2.0,
    ),
    _rule(
        "groq-api-key",
        "high",
        r"\b(gsk_[a-zA-Z0-9]{52})\b",
        ("gsk_",),
        _trufflehog("groq", "fff9ac46fadb4b413fbf45934d68863258ce66a2", "groq/groq.go"),
    ),
    _rule(
        "perplexity-api-key",
        "high",
        r"\b(pplx-[a-zA-Z0-9]{48})(?=[`'\"\s;]|\\[nr]|$|\b)",
        ("pplx-",),
        _gitleaks("perplexity-api-key"),
        4.0,
    ),
    _rule(
        "slack-bot-token",
        "high",
        r"(xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*)",
        _SLACK,
        _gitleaks("slack-bot-token"),
        3.0,
    ),
    _rule(
        "slack-user-token",
        "high",
        r"(xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34})",
        _SLACK,
        _gitleaks("slack-user-token"),
        2.0,
    ),
    _rule(
        "slack-app-token",
        "high",
        r"(?i)(xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)",
        ("xapp-",),
        _gitleaks("slack-app-token"),
        2.0,
    ),
    _rule(
        "slack-legacy-bot-token",
        "high",
        r"(xoxb-[0-9]{8,14}-[a-zA-Z0-9]{18,26})",
        _SLACK,
        _gitleaks("slack-legacy-bot-token"),
        2.0,
    ),
    _rule(
        "slack-legacy-token",
        "high",
        r"(xox[os]-\d+-\d+-\d+-[a-fA-F\d]+)",
        _SLACK,
        _gitleaks("slack-legacy-token"),
        2.0,
    ),
    _rule(
        "slack-legacy-workspace-token",
        "high",
        r"(xox[ar]-(?:\d-)?[0-9a-zA-Z]{8,48})",
        _SLACK,
        _gitleaks("slack-legacy-workspace-token"),
        2.0,
    ),
    _rule(
        "slack-webhook-url",
        "high",
        r"((?:https?://)?hooks.slack.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56})",
        ("hooks.slack.com",),
        _gitleaks("slack-webhook-url"),
    ),
    _rule(
        "stripe-access-token",
        "high",
        r"\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})" + _END,
        tuple(f"{kind}_{mode}_" for kind in ("sk", "rk") for mode in ("test", "live", "prod")),
        _gitleaks("stripe-access-token"),
        2.0,
    ),
    _rule(
        "npm-access-token",
        "high",
        r"(?i)\b(npm_[a-z0-9]{36})" + _END,
        ("npm_",),
        _gitleaks("npm-access-token"),
        2.0,
    ),
    _rule(
        "pypi-upload-token",
        "high",
        r"(pypi-AgEIcHlwaS5vcmc[\w-]{50,1000})",
        ("pypi-ageichlwas5vcmc",),
        _gitleaks("pypi-upload-token"),
        3.0,
    ),
    _rule(
        "private-key",
        "high",
        r"(?i)(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?"
        r"KEY(?: BLOCK)?-----)",
        ("private key",),
        _gitleaks("private-key"),
    ),
    _rule(
        "jwt",
        "medium",
        r"\b(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/\\_-]{17,}\.(?:[a-zA-Z0-9/\\_-]{10,}={0,2})?)" + _END,
        (".ey",),  # every match holds it: the dot before the claims
        _gitleaks("jwt"),
        3.0,
    ),
    _rule(
        # trufflehog's URI detector takes any scheme; these are the databases and
        # brokers whose URLs carry a password, and the password is the value.
        "database-url-password",
        "high",
        r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?)://"
        r"[^\s:@/'\"`]{0,100}:([^\s@/'\"`]{3,100})@[-.%\w/:]+",
        ("postgres", "mysql", "mariadb", "mongodb", "redis", "amqp"),
        _trufflehog("uri", "47619ae6ef711f7236738a267e867116e0214233", "uri/uri.go"),
        ignore=r"^(?:\*+|(?:%2[aA])+|\$.*|<.*>|\{.*\})$",
    ),
)

# gitleaks' generic-api-key, split in two for speed: a name that says secret, then
# (matched from its end) the rest of the assignment and the value.
_GENERIC_NAMES = (
    r"(?:passw(?:or)?d|pwd|secret|token|api[_.-]?key|access[_.-]?key|auth[_.-]?key"
    r"|private[_.-]?key|credentials?)"
)
GENERIC_NAME = re.compile("(?i)" + _GENERIC_NAMES)
GENERIC_NAME_LOWER = re.compile(_GENERIC_NAMES)  # for text already lowered
GENERIC_VALUE = re.compile(
    r"""[\w.-]{0,20}[\s'"]{0,3}(?:=|:=|:|=>)[`'"\s=]{0,5}([\w.=~+/!@#$%^&*-]{12,150})"""
    r"""(?=[`'"\s;,)}\]]|\\[nr]|$)"""
)
GENERIC_SOURCE = _gitleaks("generic-api-key") + " (entropy threshold tuned on transcript decoys)"
