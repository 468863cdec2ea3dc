"""Fake secrets of every supported kind, and decoys that must not be taken for one.

Every value is assembled here at test time from a seeded random source, built to
match the published formats: none is a real key, and no literal in this file looks
like one to a scanner (GitHub push protection included).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
from dataclasses import dataclass

_ALNUM = string.ascii_letters + string.digits
_UPPER_B32 = string.ascii_uppercase + "234567"
_LOWER_ALNUM = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Planted:
    rule: str
    value: str  # the secret itself: what a finding must cover exactly
    text: str  # how it shows up in a transcript


def _random(seed: int) -> random.Random:
    return random.Random(seed)


def _pick(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _b64(rng: random.Random, size: int) -> str:
    return base64.b64encode(rng.randbytes(size)).decode()


def _pem(rng: random.Random) -> str:
    body = _b64(rng, 600)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    kind = "PRIVATE " + "KEY"
    return "\n".join([f"-----BEGIN RSA {kind}-----", *lines, f"-----END RSA {kind}-----"])


def planted(seed: int = 25) -> list[Planted]:
    """One fake secret per rule, each in the kind of text it shows up in."""
    rng = _random(seed)
    pick = _pick
    made: list[tuple[str, str, str]] = []

    def add(rule: str, value: str, template: str = "{}") -> None:
        made.append((rule, value, template.format(value)))

    add("aws-access-key-id", "AKIA" + pick(rng, _UPPER_B32, 16), "aws_access_key_id = {}")
    add("aws-secret-access-key", pick(rng, _ALNUM + "/+", 40), "aws_secret_access_key = {}")
    add("gcp-api-key", "AIza" + pick(rng, _ALNUM + "_-", 35), "const key = '{}';")
    add(
        "azure-ad-client-secret",
        pick(rng, _ALNUM, 3) + "8Q~" + pick(rng, _ALNUM, 34),
        'secret: "{}"',
    )
    add(
        "azure-storage-account-key",
        _b64(rng, 64),
        "DefaultEndpointsProtocol=https;AccountName=fakestore;AccountKey={};EndpointSuffix=core.windows.net",
    )
    add("github-pat", "ghp" + "_" + pick(rng, _ALNUM, 36), "git clone https://x:{}@github.com/o/r")
    add("github-oauth", "gho" + "_" + pick(rng, _ALNUM, 36), "oauth {}")
    add("github-app-token", "ghs" + "_" + pick(rng, _ALNUM, 36), "GH_APP={}")
    add("github-refresh-token", "ghr" + "_" + pick(rng, _ALNUM, 36), "refresh: {}")
    add("github-fine-grained-pat", "github" + "_pat_" + pick(rng, _ALNUM + "_", 82), "{}")
    add("gitlab-pat", "glpat" + "-" + pick(rng, _ALNUM, 20), "PRIVATE-TOKEN: {}")
    add(
        "gitlab-pat-routable",
        "glpat" + "-" + pick(rng, _ALNUM, 36) + "." + pick(rng, _LOWER_ALNUM, 9),
        "token {} here",
    )
    add(
        "anthropic-api-key",
        "sk-ant" + "-api03-" + pick(rng, _ALNUM + "_-", 93) + "AA",
        "ANTHROPIC_API_KEY={}",
    )
    add("anthropic-admin-api-key", "sk-ant" + "-admin01-" + pick(rng, _ALNUM, 93) + "AA", "{}")
    openai_marker = base64.b64encode(b"OpenAI").decode()  # the marker OpenAI keys carry
    add(
        "openai-api-key",
        "sk-proj-" + pick(rng, _ALNUM, 74) + openai_marker + pick(rng, _ALNUM, 74),
        "OPENAI_API_KEY='{}'",
    )
    add("huggingface-access-token", "hf" + "_" + pick(rng, string.ascii_letters, 34), "HF_TOKEN={}")
    add("groq-api-key", "gsk" + "_" + pick(rng, _ALNUM, 52), "GROQ_API_KEY={}")
    add("perplexity-api-key", "pplx" + "-" + pick(rng, _ALNUM, 48), "{}")
    add(
        "slack-bot-token",
        "xoxb"
        + "-"
        + pick(rng, string.digits, 12)
        + "-"
        + pick(rng, string.digits, 13)
        + "-"
        + pick(rng, _ALNUM, 24),
        "SLACK_BOT_TOKEN={}",
    )
    add(
        "slack-user-token",
        "xoxp"
        + "".join("-" + pick(rng, string.digits, 12) for _ in range(3))
        + "-"
        + pick(rng, _LOWER_ALNUM, 32),
        "{}",
    )
    add(
        "slack-app-token",
        "xapp"
        + "-1-"
        + pick(rng, string.ascii_uppercase + string.digits, 11)
        + "-"
        + pick(rng, string.digits, 13)
        + "-"
        + pick(rng, _LOWER_ALNUM, 64),
        "{}",
    )
    add(
        "slack-legacy-bot-token",
        "xoxb" + "-" + pick(rng, string.digits, 8) + "-" + pick(rng, _ALNUM, 24),
        "{}",
    )
    add(
        "slack-legacy-token",
        "xoxs"
        + "".join("-" + pick(rng, string.digits, 10) for _ in range(3))
        + "-"
        + pick(rng, "0123456789abcdef", 64),
        "{}",
    )
    add("slack-legacy-workspace-token", "xoxa" + "-2-" + pick(rng, _ALNUM, 40), "{}")
    add(
        "slack-webhook-url",
        "https://hooks.slack"
        + ".com/services/T"
        + pick(rng, string.ascii_uppercase + string.digits, 8)
        + "/B"
        + pick(rng, string.ascii_uppercase + string.digits, 10)
        + "/"
        + pick(rng, _ALNUM, 24),
        "curl -X POST {}",
    )
    add("stripe-access-token", "sk" + "_live_" + pick(rng, _ALNUM, 24), "stripe.api_key = '{}'")
    add(
        "npm-access-token",
        "npm" + "_" + pick(rng, _ALNUM, 36),
        "//registry.npmjs.org/:_authToken={}",
    )
    add(
        "pypi-upload-token",
        "pypi" + "-AgEIcHlwaS5vcmc" + pick(rng, _ALNUM + "_-", 120),
        "password = {}",
    )
    header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        .decode()
        .rstrip("=")
    )
    claims = (
        base64.urlsafe_b64encode(
            json.dumps({"sub": pick(rng, _ALNUM, 12), "exp": 1999999999}).encode()
        )
        .decode()
        .rstrip("=")
    )
    add("jwt", f"{header}.{claims}.{pick(rng, _ALNUM + '_-', 43)}", "Authorization: Bearer {}")
    add("private-key", _pem(rng), "{}\n")
    add("database-url-password", pick(rng, _ALNUM, 16), "postgresql://app:{}@db.internal:5432/prod")
    add(
        "database-url-password",
        pick(rng, _ALNUM, 14),
        "mongodb+srv://admin:{}@cluster0.mongodb.net/test",
    )
    add("database-url-password", pick(rng, _ALNUM, 12), "redis://default:{}@cache:6379/0")
    add("database-url-password", pick(rng, _ALNUM, 12), "amqp://guest:{}@broker:5672/")
    add("database-url-password", pick(rng, _ALNUM, 12), "mysql://root:{}@localhost/db")
    add("generic-secret-assignment", pick(rng, _ALNUM, 24), 'DB_PASSWORD="{}"')
    add("generic-secret-assignment", pick(rng, _ALNUM, 32), "client_secret: {}")
    return [Planted(rule, value, text) for rule, value, text in made]


def gcp_service_account(seed: int = 26) -> tuple[str, str]:
    """A service account key file as ``cat`` shows it, and its private key (which
    the JSON text holds with escaped newlines)."""
    key = _pem(_random(seed))
    document = {
        "type": "service_account",
        "project_id": "fake-project",
        "private_key_id": hashlib.sha1(key.encode()).hexdigest(),
        "private_key": key + "\n",
        "client_email": "svc@fake-project.iam.gserviceaccount.com",
    }
    text = json.dumps(document, indent=2)
    escaped = json.dumps(key)[1:-1]
    return text, escaped


def decoys(seed: int = 27) -> dict[str, str]:
    """What transcripts are full of and no rule may flag."""
    rng = _random(seed)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + rng.randbytes(3000)).decode()
    integrity = "sha512-" + base64.b64encode(rng.randbytes(64)).decode()
    sha = hashlib.sha1(rng.randbytes(8)).hexdigest()
    return {
        "uuid": f"session {uuid.UUID(int=rng.getrandbits(128), version=4)} resumed",
        "git sha": f"commit {sha}\nAuthor: A <a@b.c>\n\n    fix token refresh ({sha[:7]})",
        "sha256": f"sha256: {hashlib.sha256(rng.randbytes(32)).hexdigest()}  dist/app.tar.gz",
        "hash assigned": f"token_hash = {hashlib.sha256(rng.randbytes(8)).hexdigest()}",
        "image": f"![chart](data:image/png;base64,{png})",
        "lock integrity": json.dumps(
            {"node_modules/x": {"version": "1.0.0", "integrity": integrity}}
        ),
        "minified": (
            'var e=require("x");function t(n){return n.token||n.apiKey||""}'
            "var r={password:t,secret:function(o){return o.accessKey},apiKey:process.env.API_KEY};"
            "module.exports={getToken:t,r:r};//# sourceMappingURL=index.min.js.map"
        ),
        "code": (
            "max_tokens = 4096\ninput_tokens: 12345\npassword = os.environ['DB_PASSWORD']\n"
            "token_count = compute_tokens(messages)\napi_key = settings.ANTHROPIC_API_KEY\n"
            "secret = ${SECRET_VALUE}\npassword: <your-password>\n"
        ),
        "aws example": "aws_access_key_id = AKIAIOSFODNN7" + "EXAMPLE",
        "masked url": "postgresql://app:****@db.internal:5432/prod and redis://cache:6379/0",
        "placeholder url": "postgres://user:$PGPASSWORD@localhost/db",
        "prose": "The key is to rotate your password often; a token bucket limits requests.",
    }
