"""Flask commands: `flask seed-demo`, `flask users …`, `flask jobs run`, `flask schedule solve`,
`flask reports refresh`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from rich.console import Console
from rich.table import Table

console = Console()
users_cli = AppGroup("users", help="People and their roles.")
jobs_cli = AppGroup("jobs", help="The background jobs process.")
schedule_cli = AppGroup("schedule", help="Scheduling: place a cycle's awards on the instruments' calendars.")
reports_cli = AppGroup("reports", help="Reports: the rollup tables behind the directors' dashboard.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None, help="Defaults to the e-mail's local part.")
@click.option("--role", "roles", multiple=True, help="A facility role (admin, user_office, director…); repeatable.")
@click.password_option(prompt="Password", confirmation_prompt=True)
def users_create(email: str, name: str | None, roles: tuple[str, ...], password: str) -> None:
    """Create a verified account, e.g. the first admin."""
    from app.accounts import services
    from app.accounts.models import Role
    from app.core.errors import DomainError
    from app.web.messages import message

    try:
        parsed = [(Role(r), None) for r in roles]
    except ValueError as exc:
        raise click.BadParameter(f"{exc}; roles: {', '.join(r.value for r in Role)}") from None
    try:
        user = services.create_user(
            email=email, name=name or email.partition("@")[0], password=password, verified=True, roles=parsed
        )
    except DomainError as exc:
        raise click.ClickException(message(exc)) from None
    console.print(f"[green]Created[/green] {user.email} (id {user.id}) roles: {', '.join(roles) or 'user'}")


@users_cli.command("list")
def users_list() -> None:
    """List accounts and their roles."""
    from sqlalchemy import select

    from app.accounts.models import User
    from app.extensions import db

    table = Table("id", "e-mail", "name", "roles")
    for user in db.session.scalars(select(User).order_by(User.id)):
        table.add_row(str(user.id), user.email, user.name, ", ".join(sorted(user.role_names)))
    console.print(table)


@jobs_cli.command("run")
def jobs_run() -> None:
    """Run the scheduler (one process per deployment; others wait as standby)."""
    from app.jobs.runner import run_forever

    console.print("[bold]Beamtime jobs[/bold]: scheduler starting (Ctrl-C to stop)")
    run_forever(current_app._get_current_object())


@jobs_cli.command("list")
def jobs_list() -> None:
    """The periodic jobs and the kinds of job request."""
    from app.jobs import registry

    table = Table("job", "every")
    for job in registry.PERIODIC:
        every = (
            job.cron
            or f"{current_app.config.get(job.seconds_config, job.seconds) if job.seconds_config else job.seconds} s"
        )
        table.add_row(job.name, str(every))
    console.print(table)
    console.print("job request kinds: " + ", ".join(sorted(registry.HANDLERS)))


@schedule_cli.command("solve")
@click.option("--cycle", "cycle_name", required=True, help="The cycle's name, e.g. 2027-I.")
@click.option(
    "--effort",
    type=click.IntRange(1, 10),
    default=2,
    show_default=True,
    help="1 fast … 10 thorough (2: about 10 s for 70 instruments).",
)
@click.option("--dry-run", is_flag=True, help="Solve and show the summary; store nothing.")
def schedule_solve(cycle_name: str, effort: int, dry_run: bool) -> None:
    """Solve a cycle and store the result as planned experiments (replacing the previous draft)."""
    from collections import Counter, defaultdict

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.core.errors import DomainError
    from app.facility import queries as facility_queries
    from app.scheduling import adapters, solver
    from app.web.messages import message, unplaced_message

    try:
        cycle = facility_queries.get_cycle_by_name(cycle_name)
        built = adapters.build_problem(cycle)
    except DomainError as exc:
        raise click.ClickException(message(exc)) from None
    problem = built.problem
    console.print(
        f"[bold]{cycle.name}[/bold]: {len(problem.awards)} awards on {len(problem.instruments)} instruments, "
        f"{problem.horizon} shifts, sessions that stay: {len(problem.pins)}; effort {effort}"
    )
    totals = {"objective": 0, "bound": 0}
    with Progress(
        TextColumn("groups solved"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, report: solver.GroupReport | None) -> None:
            if report is not None:
                totals["objective"] += report.objective
                totals["bound"] += report.bound
            gap = solver.model.gap(totals["objective"], totals["bound"])
            bar.update(
                task, completed=done, total=total, description=f"objective {totals['objective']:,}  gap {gap:.1%}"
            )

        solution = solver.solve(problem, effort=effort, progress=progress)

    per_instrument: dict[str, dict] = defaultdict(lambda: {"awards": 0, "placed": 0, "reasons": Counter()})
    unplaced = {u.award: u for u in solution.unplaced}
    for award in problem.awards:
        row = per_instrument[award.instrument]
        row["awards"] += 1
        if award.key in unplaced:
            row["reasons"][unplaced[award.key].reason] += 1
        else:
            row["placed"] += 1
    table = Table("instrument", "awards", "placed", "not fully placed", "reasons", title=f"Schedule of {cycle.name}")
    for code in sorted(per_instrument):
        row = per_instrument[code]
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(row["reasons"].items()))
        table.add_row(code, str(row["awards"]), str(row["placed"]), str(sum(row["reasons"].values())), reasons)
    console.print(table)
    for u in solution.unplaced:
        params = dict(u.params)
        if "person" in params:
            params["person"] = built.people.get(str(params["person"]), params["person"])
        console.print(
            f"  {u.award}: {u.placed} of {u.placed + u.missing} shifts — {unplaced_message(u.reason, params)}"
        )
    console.print(
        f"objective {solution.objective:,} (greedy {solution.greedy_objective:,}, bound {solution.bound:,}, "
        f"gap {solution.gap:.1%}), {len(solution.sessions)} sessions, {solution.wall_time:.1f} s"
    )
    if dry_run:
        console.print("[yellow]Dry run[/yellow]: nothing stored.")
        return
    try:
        stored = adapters.store_solution(built, solution)
    except DomainError as exc:
        raise click.ClickException(message(exc)) from None
    console.print(
        f"[green]Stored[/green] {stored.created} planned experiments (replacing {stored.replaced} of the previous draft)."
    )


@click.command("seed-demo")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def seed_demo(quiet: bool) -> None:
    """Fill an empty database with the demo facility (idempotent)."""
    from app.demo import seed

    result = seed(progress=None if quiet else console)
    if not quiet:
        table = Table("role", "log in as", "password", title="Demo log-ins")
        for role, email in result.logins:
            table.add_row(role, email, result.password)
        console.print(table)


@reports_cli.command("refresh")
@click.option("--full", is_flag=True, help="Rebuild every cycle (the nightly reconcile), not only the dirty ones.")
def reports_refresh(full: bool) -> None:
    """Bring the report rollups up to date: the cycles marked dirty, or all of them with --full."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.reports import services as reports

    with Progress(
        TextColumn("cycles refreshed"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, cycle: str) -> None:
            bar.update(task, completed=done, total=total, description=f"cycle id {cycle}")

        run = reports.rebuild_all if full else reports.refresh_dirty
        report = run(progress=progress)
    kind = "full rebuild" if report.full else "incremental refresh"
    console.print(f"[green]{kind}[/green]: {report.cycles} cycle(s), {report.rows:,} rollup row(s).")


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(schedule_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(reports_cli)
