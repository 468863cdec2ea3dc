"""``serve``: the local web app (``claude_sessions.web``) under uvicorn."""

from __future__ import annotations

import secrets
import webbrowser
from urllib.parse import quote

import click

from ..store import SessionStore
from .common import open_store, store_option


def _url(host: str, port: int, token: str | None) -> str:
    if host in ("0.0.0.0", "::", ""):  # every address: this machine's browser uses loopback
        host = "127.0.0.1"
    name = f"[{host}]" if ":" in host else host
    return f"http://{name}:{port}/" + (f"?token={quote(token, safe='')}" if token else "")


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
    help="Access token every request must carry (required off loopback; one is made up "
    "when not given).",
)
@store_option
def serve_command(
    host: str,
    port: int,
    open_browser: bool,
    read_only: bool,
    token: str | None,
    store_location: str | None,
) -> None:
    """Browse, search and tag the stored sessions in a web browser."""
    # Imported here: Starlette, uvicorn, markdown-it and Pygments load only for this command.
    from ..web import create_app
    from ..web.security import is_loopback
    from ..web.server import make_server

    context = click.get_current_context()
    read_only = read_only or bool((context.find_root().obj or {}).get("read_only"))
    if read_only:
        store = SessionStore(store_location, read_only=True)
        context.call_on_close(store.close)
    else:
        store = open_store(store_location)
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    app = create_app(store, read_only=read_only, token=token)

    def started(bound_port: int) -> None:
        url = _url(host, bound_port, token)
        mode = " (read-only)" if read_only else ""
        click.echo(f"Serving {store.location}{mode} at {url}", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)
        if open_browser:
            webbrowser.open(url)

    make_server(app, host, port, on_started=started).run()
