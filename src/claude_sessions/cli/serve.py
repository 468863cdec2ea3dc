"""``serve``: the local web app (``claude_sessions.web``) under uvicorn."""

from __future__ import annotations

import webbrowser
from urllib.parse import quote

import click

from claude_sessions.cli.common import open_store, redact_option, store_option
from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.store import SessionStore

EVERY_ADDRESS = ("0.0.0.0", "::", "")


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _url(host: str, port: int, token: str | None) -> str:
    if host in EVERY_ADDRESS:  # this machine's browser reaches them all on loopback
        host = "127.0.0.1"
    return f"http://{_address(host, port)}/" + (f"?token={quote(token, safe='')}" if token else "")


def _exposed_warning(host: str, port: int) -> str:
    every = " (every address of this machine)" if host in EVERY_ADDRESS else ""
    return (
        f"Warning: listening on {_address(host, port)}{every}, reachable from other "
        "machines; every request needs a signed-in user."
    )


def _signing_in(
    store: SessionStore, auth: bool | None, host: str, token: str | None, read_only: bool
) -> bool:
    """Whether the server asks for signing in (``--auth``, or a PostgreSQL store with
    users unless ``--no-auth``); refuses what would leave it open to other machines."""
    from claude_sessions.store.auth import signing_in_by_default
    from claude_sessions.store.users import list_users
    from claude_sessions.web.security import check_exposure

    if auth is None:
        auth = token is None and signing_in_by_default(store)
    if auth and token is not None:
        raise InvalidInputError("--auth and --token do not go together: users sign in instead")
    check_exposure(host, auth=auth)
    if auth and read_only:
        raise InvalidInputError(
            "signing in (--auth) keeps sign-ins in the store, which --read-only would not "
            "write (on loopback, --no-auth serves it without)"
        )
    if auth and not list_users(store):
        raise InvalidInputError(
            "--auth needs a user to sign in: add one with 'claude-sessions users add NAME'"
        )
    return auth


def _checked_token(context: click.Context, param: click.Parameter, token: str | None) -> str | None:
    """The token, refused when empty or short (``--token "$UNSET"`` must not mean none)."""
    from claude_sessions.web.security import check_token  # Starlette: loaded only for this command

    try:
        return check_token(token)
    except InvalidInputError as error:
        raise click.BadParameter(str(error), context, param) from None


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the app in a web browser.")
@click.option("--read-only", is_flag=True, help="Open the store read-only; no page changes it.")
@click.option(
    "--token",
    help="Access token every request must carry, at least 16 characters (on loopback).",
    callback=_checked_token,
)
@click.option(
    "--auth/--no-auth",
    default=None,
    help="Every page, API route, stream and download needs a signed-in user "
    "(users add). Required off loopback; the default on a PostgreSQL store with users.",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="ADDRESSES",
    help="Proxies (comma-separated addresses, or *) whose X-Forwarded-For and "
    "X-Forwarded-Proto are believed: behind a TLS proxy the sign-in cookie is Secure.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes. More than one shares the work of many users; "
    "on PostgreSQL each one's live pages still see every write at once.",
)
@click.option(
    "--ingest-limit",
    type=click.IntRange(1024),
    default=8 * 1024 * 1024,
    show_default=True,
    metavar="BYTES",
    help="The largest batch of transcript entries a laptop may send (POST /api/v1/ingest).",
)
@redact_option
@store_option
def serve_command(
    host: str,
    port: int,
    open_browser: bool,
    read_only: bool,
    token: str | None,
    auth: bool | None,
    forwarded_allow_ips: str | None,
    workers: int,
    ingest_limit: int,
    redact: bool,
    store_location: str | None,
) -> None:
    """Browse, search and tag the stored sessions in a web browser."""
    # Imported here: Starlette, uvicorn, markdown-it and Pygments load only for this command.
    from claude_sessions.cli.serve_workers import AppOptions, build_app, run_workers
    from claude_sessions.web.security import is_loopback
    from claude_sessions.web.server import make_server

    context = click.get_current_context()
    read_only = read_only or bool((context.find_root().obj or {}).get("read_only"))
    if read_only:
        store = SessionStore(store_location, read_only=True)
        context.call_on_close(store.close)
    else:
        store = open_store(store_location)
    signing_in = _signing_in(store, auth, host, token, read_only)
    options = AppOptions(store_location, read_only, token, redact, signing_in, ingest_limit)

    def started(bound_port: int) -> None:
        if not is_loopback(host):
            click.echo(_exposed_warning(host, bound_port), err=True)
        url = _url(host, bound_port, token)
        mode = (" (read-only)" if read_only else "") + (" (sign-in required)" if signing_in else "")
        processes = f" ({workers} worker processes)" if workers > 1 else ""
        click.echo(f"Serving {store.location}{mode} at {url}{processes}", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)
        if open_browser:
            webbrowser.open(url)

    if workers > 1:
        run_workers(options, host, port, workers, forwarded_allow_ips, started)
        return
    app = build_app(store, options)
    make_server(app, host, port, on_started=started, forwarded_allow_ips=forwarded_allow_ips).run()
