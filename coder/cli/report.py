"""`coder report`: the usual reports from accepted or coded returns (thin over coder.report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coder.cli.options import CodebookOpt, DefinitionsOpt, EncodingOpt, Pending, load_codebook, progress

REPORT_HELP = """Write a round's reports: Appendix 3b tables and charts, Appendix 4, pro-formas, change.

The folder gets appendix3b.csv/.xlsx, charts/*.png, appendix4.csv, proforma/<locality>.html/.xlsx,
change.csv (with --compare) and index.html, which ties them together and opens without a server.

Answers still pending review are counted with the model's suggested code (or under no line
with --pending exclude) and the report is marked PROVISIONAL.

Example:

    coder report --data accepted.csv --out reports/2014-05 --compare 2013-06

    coder report --data coder/data/returns.csv --out reports/2013-06 --round 2013-06
"""


def register(app: typer.Typer) -> None:
    @app.command("report", help=REPORT_HELP)
    def report(
        data: Annotated[Path, typer.Option(
            "--data", help="Accepted-codes table or coded returns (CSV/XLSX).")],
        out: Annotated[Path, typer.Option(
            "--out", help="Folder to write the report into (created if missing).")],
        round_: Annotated[str | None, typer.Option(
            "--round", help="Round to report; default the latest.")] = None,
        compare: Annotated[str | None, typer.Option(
            "--compare", help="Earlier round (in the same data) to compare with.")] = None,
        definitions: DefinitionsOpt = None,
        codebook: CodebookOpt = None,
        pending: Annotated[Pending, typer.Option(
            "--pending", help="How pending answers count: 'suggested' (the model's code, provisionally) or "
                              "'exclude' (under no line).")] = Pending.suggested,
        min_requests: Annotated[int, typer.Option(
            "--min-requests", min=1, max=1000,
            help="Appendix 4 keeps questions with at least this many requests.")] = 5,
        published: Annotated[Path | None, typer.Option(
            "--published", help="Published Appendix 3b CSV to set the figures beside.")] = None,
        encoding: EncodingOpt = "utf-8",
    ) -> None:
        from coder.files import check_output
        from coder.report.definitions import load_report_definitions
        from coder.report.tables import read_coded

        check_output(out, [data, published, definitions, codebook], folder=True)
        cb = load_codebook(codebook)
        defs = load_report_definitions(definitions, codebook=cb)
        frame = read_coded(data, cb, encoding=encoding)
        from coder.report.build import write_report  # charts and workbooks load once the input is good
        with progress(transient=True) as stage:
            result = write_report(frame, out, cb, defs, round_=round_, compare=compare, pending=pending.value,
                                  min_requests=min_requests, published=published, progress=stage,
                                  data_name=str(data))
        s = result.summary
        state = (f"PROVISIONAL: {s['pending']} pending, {s['uncoded']} uncoded answers" if s["provisional"]
                 else "final: every answer coded")
        typer.echo(f"round {result.round}: {s['localities']} localities, {len(result.table)} figures, "
                   f"{len(result.appendix4)} Appendix 4 rows; {state}")
        typer.echo(f"wrote {result.out / 'index.html'} in {result.seconds:.1f} s")
