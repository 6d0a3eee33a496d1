"""The `coder` command line: thin commands over the library; user mistakes print one line and exit 2."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from coder.errors import InputError, printable

app = typer.Typer(help="coder: NLP-assisted coding of free-text returns, with people in the loop.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _register() -> None:
    # Each area of the tool keeps its commands in its own module under coder/cli/.
    from coder.cli import core

    core.register(app)
    for name in ("review", "report", "docs", "rounds", "people"):
        try:
            module = __import__(f"coder.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name != f"coder.cli.{name}":
                raise
            continue
        module.register(app)


def _show_version(value: bool) -> None:
    if value:
        from coder import __version__

        typer.echo(f"coder {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True, help="Print coder's version and exit.")] = False) -> None:
    """coder: NLP-assisted coding of free-text returns, with people in the loop."""


_register()


def fail(message: object) -> None:
    """Print `error: <message>` as one clean line on stderr and exit 2."""
    typer.echo(f"error: {printable(message, one_line=True)}", err=True)
    sys.exit(2)


INTERRUPTED = 130  # the exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it


def main() -> None:
    """Entry point: run the app, turning InputError into `error: <file>, row N, column 'c': ...` + exit 2.

    Problems with the user's files the library did not name itself (a folder where a file belongs, a
    read-only folder, a full disk) are reported the same way, with the path the system names.
    """
    try:
        rc = app(standalone_mode=False)
        # Outside standalone mode click returns typer.Exit's code instead of exiting.
        if isinstance(rc, int) and rc:
            if rc == INTERRUPTED:  # typer turns Ctrl-C into this code, silently
                typer.echo("interrupted", err=True)
            sys.exit(rc)
    except InputError as e:
        fail(e)
    except FileNotFoundError as e:
        fail(f"{e.filename}: file not found")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        fail(f"{where}{e.strerror or e}")
    except UnicodeDecodeError as e:
        fail(f"input is not {e.encoding} text (byte {e.start})")
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(INTERRUPTED)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as e:  # usage errors from click or typer's vendored click: one line too
        message = getattr(e, "format_message", None)
        if callable(message) and hasattr(e, "exit_code"):
            ctx = getattr(e, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            typer.echo(f"error: {printable(message(), one_line=True)}{hint}", err=True)
            sys.exit(e.exit_code or 2)
        raise


if __name__ == "__main__":
    main()
