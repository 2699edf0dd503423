"""Flask commands: `flask seed-demo`, `flask users …`, `flask jobs run`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from rich.console import Console
from rich.table import Table

console = Console()
users_cli = AppGroup("users", help="People and their roles.")
jobs_cli = AppGroup("jobs", help="The background jobs process.")


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


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(seed_demo)
