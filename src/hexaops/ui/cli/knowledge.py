"""`hexaops knowledge …`: ingest documents, search them, and work with the incident memory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress

from hexaops.knowledge.embeddings import Embedder, embedder_from_settings
from hexaops.knowledge.incidents import Feedback, feedback, list_incidents, similar_incidents
from hexaops.knowledge.ingest import CORPUS_DIR, CORPUS_SOURCE, IngestReport, ingest
from hexaops.knowledge.search import search_as
from hexaops.platform.access import require_org
from hexaops.platform.core import Platform
from hexaops.platform.errors import PlatformError
from hexaops.settings import load_settings
from hexaops.ui.cli.output import (
    AsUser,
    JsonFlag,
    OrgOption,
    console,
    emit_json,
    emit_table,
    fail,
    platform_session,
)

app = typer.Typer(help="Knowledge base: runbooks, docs and incident memory.", no_args_is_help=True)
incidents_app = typer.Typer(help="Past incidents: similar ones, feedback.", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")


def _embedder() -> Embedder:
    try:
        return embedder_from_settings(load_settings())
    except PlatformError as exc:
        fail(exc.message)


def _run_ingest(
    platform: Platform, path: Path | None, org: str | None, quiet: bool
) -> IngestReport:
    root = path if path is not None else CORPUS_DIR
    source = None if path is not None else CORPUS_SOURCE
    embedder = _embedder()
    if quiet:
        return ingest(platform.engine, root, embedder, org=org, source=source)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("ingesting", total=None)

        def advance(done: int, total: int, current: str) -> None:
            progress.update(task, completed=done, total=total, description=current[-40:])

        return ingest(platform.engine, root, embedder, org=org, source=source, progress=advance)


@app.command("ingest")
def ingest_command(
    path: Annotated[
        Path | None,
        typer.Argument(help="Directory or file to ingest (default: the packaged corpus)."),
    ] = None,
    org: Annotated[
        str | None,
        typer.Option("--org", help="Ingest as this organization's private documents."),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="HEXAOPS_AS",
            help="Who ingests (an owner or admin of --org; needed with --org).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Ingest Markdown/text documents; unchanged documents are skipped, changed ones replaced,
    removed ones deleted. Public documents are the operator's; an organization's private ones
    need an owner or admin of it (--org ORG --as EMAIL)."""
    if org is not None and email is None:
        fail(
            "ingesting private documents of an organization needs --as EMAIL (an owner or admin)", 2
        )
    with platform_session() as platform:
        if org is not None and email is not None:
            with platform.sessions() as session:
                require_org(session, platform.user(email), org).authorize("knowledge.ingest")
        report = _run_ingest(platform, path, org, as_json)
    if as_json:
        emit_json(report.as_dict())
        return
    scope = f"private to {org}" if org else "public"
    console.print(
        f"[bold]ingested[/bold] {escape(str(report.source))} ({scope}): {report.summary()}",
        soft_wrap=True,
        highlight=False,
    )
    for skipped, why in report.skipped.items():
        console.print(
            f"  [yellow]skipped[/yellow] {escape(skipped)}: {escape(why)}",
            soft_wrap=True,
            highlight=False,
        )


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="A question, error message or keywords.")],
    email: AsUser,
    topic: Annotated[str | None, typer.Option("--topic", help="Only this topic.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=50)] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Hybrid (vector + full-text) search over public and your organizations' documents."""
    embedder = _embedder()
    with platform_session() as platform:
        result = search_as(
            platform, platform.user(email), query, embedder, topic=topic, limit=limit
        )
    if as_json:
        emit_json(result)
        return
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    if not result.hits:
        console.print("[dim]no matching passage[/dim]")
        return
    for rank, hit in enumerate(result.hits, start=1):
        private = f" [magenta]({hit.org} private)[/magenta]" if hit.org else ""
        # The top heading usually repeats the title: show the path below it.
        section = hit.section.removeprefix(hit.title).removeprefix(" > ") or hit.section
        console.print(f"[bold]{rank}. {hit.title}[/bold] § {section}{private}", highlight=False)
        console.print(
            f"   {hit.document}:{hit.line_start}-{hit.line_end}  score {hit.score:.4f}",
            highlight=False,
        )
        excerpt = escape(" ".join(hit.content.split())[:240])  # document text, not markup
        console.print(f"   [dim]{excerpt}[/dim]", highlight=False)


@incidents_app.command("list")
def list_command(
    email: AsUser,
    org: OrgOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
    as_json: JsonFlag = False,
) -> None:
    """The most recent incidents of your organizations."""
    with platform_session() as platform:
        views = list_incidents(platform, platform.user(email), org=org, limit=limit)
    if as_json:
        emit_json(views)
        return
    emit_table(
        views,
        [
            ("id", lambda i: i.id),
            ("org", lambda i: i.org),
            ("workspace", lambda i: i.workspace),
            ("title", lambda i: i.title),
            ("outcome", lambda i: i.outcome),
            ("created", lambda i: i.created_at.strftime("%Y-%m-%d %H:%M")),
        ],
        title="incidents",
    )


@incidents_app.command("similar")
def similar_command(
    incident_id: Annotated[int, typer.Argument(help="The incident to find look-alikes of.")],
    email: AsUser,
    limit: Annotated[int, typer.Option("--limit", min=1, max=50)] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Past incidents like this one, ranked by similarity and whether their mitigation worked."""
    embedder = _embedder()
    with platform_session() as platform:
        found = similar_incidents(
            platform, platform.user(email), embedder, incident_id=incident_id, limit=limit
        )
    if as_json:
        emit_json(found)
        return
    if not found:
        console.print(f"[dim]no past incident resembles incident {incident_id}[/dim]")
        return
    for s in found:
        i = s.incident
        console.print(
            f"[bold]#{i.id}[/bold] {i.title} [{i.outcome}] score {s.score:.3f} "
            f"(similarity {s.similarity:.3f})",
            highlight=False,
        )
        if i.root_cause:
            console.print(f"   root cause: {i.root_cause}", highlight=False)
        if i.mitigation:
            console.print(f"   mitigation: {i.mitigation}", highlight=False)


@incidents_app.command("feedback")
def feedback_command(
    incident_id: Annotated[int, typer.Argument(help="The incident the feedback is about.")],
    kind: Annotated[
        Feedback,
        typer.Argument(help="helpful | not_helpful | mitigation_worked | mitigation_failed"),
    ],
    email: AsUser,
    as_json: JsonFlag = False,
) -> None:
    """Say whether a past incident helped, or whether its mitigation worked when reapplied."""
    with platform_session() as platform:
        view = feedback(platform, platform.user(email), incident_id, kind)
    if as_json:
        emit_json(view)
        return
    console.print(
        f"incident #{view.id}: outcome {view.outcome}, feedback score {view.feedback_score}",
        highlight=False,
    )
