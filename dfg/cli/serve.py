"""dfg serve: the browser application on this machine, with a production WSGI server (waitress)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from dfg.cli.command import Context, pass_context
from dfg.errors import ConfigurationError


def _address(host: str) -> str:
    """``host`` if it is an address this machine could listen on: an IP address, or localhost."""
    if host == "localhost":
        return host
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        raise click.BadParameter(
            f"'{host[:60]}' is not an IP address (for example 127.0.0.1 or 0.0.0.0)"
        ) from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, callback=lambda _c, _p, value: _address(value),
              help="The IP address to listen on (or localhost). Anything but this machine's own needs a "
                   "reverse proxy terminating TLS in front (the cookies are then sent over HTTPS only).")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="The port.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Requests served at once.")  # fmt: skip
@pass_context
def serve(context: Context, host: str, port: int, threads: int) -> None:
    """Run the browser application for officers, OTs and managers.

    It serves the database --db (or DFG_DB) at http://HOST:PORT/ until stopped with Ctrl+C. Users sign
    in with the password they set from an invitation ('dfg user invite USER'). On a single machine the
    key that signs sessions is kept beside the SQLite file; for several workers or machines, set
    DFG_WEB_SECRET_KEY to the same value on each and run 'dfg.web:create_app()' under any WSGI server
    (see the administrator's guide).

    \b
    Examples:
      dfg serve
      dfg --db dfg-demo.sqlite serve --port 8080
    """
    from waitress import serve as waitress_serve

    from dfg.web import create_app
    from dfg.web.settings import WebSettings, secret_beside

    db = context.database()
    local = _loopback(host)
    if not os.environ.get("DFG_WEB_SECRET_KEY") and not os.environ.get("DFG_WEB_SECRET_FILE"):
        if db.sqlite_path is None:
            raise click.UsageError("set DFG_WEB_SECRET_KEY: a shared database's workers must share one key")
        os.environ["DFG_WEB_SECRET_KEY"] = secret_beside(Path(db.sqlite_path))
    settings = WebSettings.from_environment(context.db_option, secure_cookies=not local)
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"dfg: serving {db.display_name} at http://{shown}:{port}/ (Ctrl+C stops)", err=True)
    if not local:
        click.echo("dfg: cookies are sent over HTTPS only: put a reverse proxy with TLS in front", err=True)
    try:
        waitress_serve(
            app, host=host, port=port, threads=threads, ident="dfg", clear_untrusted_proxy_headers=True
        )
    except OSError as error:  # the port is taken, or not ours to use
        raise ConfigurationError(f"cannot listen on {shown}:{port}: {error.strerror or error}") from None
