"""Secrets in stored sessions: ``secrets scan``."""

from __future__ import annotations

import click

from claude_sessions.cli.common import echo_json, json_option, open_store, store_option


@click.group("secrets")
def secrets_group() -> None:
    """Find secrets (keys, tokens, passwords) in stored sessions.

    See the README's "Secrets" section for what is found and what is not.
    """


@secrets_group.command("scan")
@click.argument("session_ids", metavar="[ID]...", nargs=-1)
@store_option
@json_option
def scan_command(session_ids: tuple[str, ...], store_location: str | None, as_json: bool) -> None:
    """List the secrets in the sessions named (unique id prefixes), or in every session.

    Entries already scanned are not read again: a scan looks at what was added since
    and lists every finding kept. Each shows the session, the message's uuid, where
    it is (prompt, reply, tool input, tool result, subagent), the rule and its
    confidence, and the first 4 characters and the length of the value, never more.
    With --read-only nothing is scanned: what earlier scans found is listed.
    """
    from claude_sessions.views.secrets import scan_secrets  # loads the rules

    store = open_store(store_location)
    found = scan_secrets(store, session_ids)
    if as_json:
        echo_json([finding.to_dict() for finding in found])
        return
    for finding in found:
        click.echo(
            f"{finding.session_id}  {finding.entry_uuid or '-'}  {finding.place}  "
            f"{finding.rule} ({finding.confidence})  {finding.preview}"
        )
    sessions = len({finding.session_id for finding in found})
    click.echo(f"{len(found)} secret(s) found in {sessions} session(s).")
