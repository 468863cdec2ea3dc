"""Secrets in stored sessions: ``secrets scan``, ``secrets redact`` and ``secrets policy``."""

from __future__ import annotations

import click

from claude_sessions.cli.common import echo_json, json_option, open_store, resolve_id, store_option
from claude_sessions.cli.terminal import for_terminal


@click.group("secrets")
def secrets_group() -> None:
    """Find secrets (keys, tokens, passwords) in stored sessions, and keep them out.

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


@secrets_group.command("redact")
@click.argument("session_ids", nargs=-1, metavar="[ID]...")
@click.option("--all", "everything", is_flag=True, help="Redact every stored session.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@store_option
@json_option
def redact_command(
    session_ids: tuple[str, ...],
    everything: bool,
    yes: bool,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Replace each secret found in sessions ID... (or --all) with [REDACTED:rule], in
    the store itself: entries, titles, summaries and the full-text index, then the
    database's files are rewritten so no byte of the old text remains. This cannot be
    undone."""
    from claude_sessions.store import redact_stored

    if everything == bool(session_ids):
        raise click.UsageError("give either session IDs or --all")
    store = open_store(store_location, write=True)
    chosen = None if everything else [resolve_id(store, one) for one in session_ids]
    which = "every stored session" if chosen is None else f"{len(chosen)} session(s)"
    if not yes:
        click.confirm(
            f"Redact the secrets of {which} in place? This cannot be undone.",
            abort=True,
            err=True,
        )
    report = redact_stored(store, chosen)
    if as_json:
        echo_json(report.to_dict())
        return
    for one in report.redacted:
        rules = ", ".join(one.rules)
        click.echo(for_terminal(f"{one.session_id}: redacted {rules}"))
    click.echo(f"Redacted {len(report.redacted)} of {report.sessions_seen} session(s).", err=True)
    if not report.scrubbed:
        click.echo(
            "Warning: another process was reading the store, so its log may still hold "
            "the old text; run this again when nothing else uses the store.",
            err=True,
        )


@secrets_group.command("policy")
@click.argument("setting", type=click.Choice(["redact-on-capture"]))
@click.argument("value", type=click.Choice(["on", "off"]), required=False)
@store_option
@json_option
def policy_command(
    setting: str, value: str | None, store_location: str | None, as_json: bool
) -> None:
    """Show or set a policy of the store: with redact-on-capture on, capture, import and
    watch store each secret found as [REDACTED:rule], so it never reaches the store."""
    from claude_sessions.store import redaction_policy, set_redaction_policy

    store = open_store(store_location, write=value is not None)
    on = redaction_policy(store) if value is None else set_redaction_policy(store, value == "on")
    if as_json:
        echo_json({setting: on})
    else:
        click.echo(f"{setting}: {'on' if on else 'off'}")
