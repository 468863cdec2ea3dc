"""The store's users and their tokens: ``users add``, ``list``, ``remove``, ``token`` and
``set``."""

from __future__ import annotations

import click

from claude_sessions.cli.common import echo_json, json_option, open_store, store_option
from claude_sessions.cli.terminal import for_terminal
from claude_sessions.model.identity import User
from claude_sessions.store import users
from claude_sessions.store.visibility import set_share_by_default


@click.group("users")
def users_group() -> None:
    """Users of the store and their tokens (for a team server).

    A token is shown once, when it is made: the store keeps only a slow salted
    hash of it.
    """


@users_group.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="The user sees and manages every session.")
@click.option(
    "--as",
    "session_user",
    metavar="VALUE",
    help="The user value this user's sessions record (e.g. their git e-mail); default: NAME.",
)
@store_option
@json_option
def add_command(
    name: str, admin: bool, session_user: str | None, store_location: str | None, as_json: bool
) -> None:
    """Create user NAME and print their token (this once)."""
    store = open_store(store_location, write=True)
    user, token = users.add_user(store, name, admin=admin, session_user=session_user)
    if as_json:
        echo_json({"user": user.name, "token": token})
        return
    click.echo(f"Added {for_terminal(_described(user))}. Token (shown this once):", err=True)
    click.echo(token)


@users_group.command("list")
@store_option
@json_option
def list_command(store_location: str | None, as_json: bool) -> None:
    """Every user, by name."""
    found = users.list_users(open_store(store_location))
    if as_json:
        echo_json([user.to_dict() for user in found])
        return
    if not found:
        click.echo("No users (claude-sessions users add NAME).", err=True)
    for user in found:
        click.echo(for_terminal(_described(user)))


@users_group.command("remove")
@click.argument("name")
@store_option
@json_option
def remove_command(name: str, store_location: str | None, as_json: bool) -> None:
    """Remove user NAME: their token stops working and their sign-ins end; their
    sessions stay."""
    users.remove_user(open_store(store_location, write=True), name)
    if as_json:
        echo_json({"removed": name})
    else:
        click.echo(f"Removed user {for_terminal(name)}.")


@users_group.command("token")
@click.argument("name")
@store_option
@json_option
def token_command(name: str, store_location: str | None, as_json: bool) -> None:
    """Give user NAME a new token (printed this once); the old one stops working and
    their sign-ins end."""
    token = users.issue_token(open_store(store_location, write=True), name)
    if as_json:
        echo_json({"user": name, "token": token})
        return
    click.echo(f"New token for {for_terminal(name)} (the old one no longer works):", err=True)
    click.echo(token)


@users_group.command("set")
@click.argument("name")
@click.option(
    "--share-by-default",
    type=click.Choice(["on", "off"]),
    required=True,
    help="Whether NAME's new sessions start shared with the team.",
)
@store_option
def set_command(name: str, share_by_default: str, store_location: str | None) -> None:
    """Change user NAME's settings."""
    store = open_store(store_location, write=True)
    set_share_by_default(store, name, share_by_default == "on")
    click.echo(f"New sessions of {for_terminal(name)} start {_sharing(share_by_default)}.")


def _sharing(choice: str) -> str:
    return "shared with the team" if choice == "on" else "unshared"


def _described(user: User) -> str:
    role = "admin" if user.admin else "member"
    linked = f", sessions of {user.session_user}" if user.session_user != user.name else ""
    return f"{user.name} ({role}{linked})"
