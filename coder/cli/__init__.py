"""The `coder` command line: thin commands over the library; user mistakes print one line and exit 2."""

from __future__ import annotations

import sys

import typer

from coder.errors import InputError

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


@app.callback()
def _root() -> None:
    """coder: NLP-assisted coding of free-text returns, with people in the loop."""


_register()


def main() -> None:
    """Entry point: run the app, turning InputError into `error: <file>, row N, column 'c': ...` + exit 2."""
    try:
        rc = app(standalone_mode=False)
        # Outside standalone mode click returns typer.Exit's code instead of exiting.
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except InputError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except FileNotFoundError as e:
        typer.echo(f"error: {e.filename}: file not found", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as e:  # usage errors from click or typer's vendored click
        show = getattr(e, "show", None)
        if callable(show) and hasattr(e, "exit_code"):
            show()
            sys.exit(e.exit_code or 2)
        raise


if __name__ == "__main__":
    main()
