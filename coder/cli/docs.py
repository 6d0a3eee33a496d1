"""`coder docs ...`: train on labelled documents, batch-code a folder of documents, search their passages,
and send low-confidence documents through the Label Studio review queue (push, pull, accept).

Thin commands over coder.documents (whose review module shares coder.labelstudio with the answers' queue).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from coder.cli.options import (
    CodebookOpt,
    ModelDirOpt,
    ProjectOpt,
    ResetConfigOpt,
    StoreOpt,
    check_store,
    echo_pull,
    load_codebook,
    model_files,
    progress,
    refuse_other_model,
)
from coder.documents.embed import DEFAULT_DOCUMENT_EMBEDDER
from coder.files import check_output

docs_app = typer.Typer(help="Auto-code good-practice documents (type, sections, questions, priorities).",
                       no_args_is_help=True)


def _rate_columns(state: dict):
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rates(ProgressColumn):
        def render(self, task) -> Text:
            dt = max(time.perf_counter() - state["t0"], 1e-9)
            return Text(f"{state['docs'] / dt:5.2f} docs/s  {state['pages'] / dt:6.1f} pages/s  "
                        f"{state['errors']} errors", style="cyan")

    return Rates()


@docs_app.command("train")
def train_cmd(
    labels: Annotated[Path, typer.Option("--labels", help="labels.csv beside the labelled documents.")],
    answers: Annotated[Path, typer.Option("--answers", help="Answer bank JSONL ({slot,qid,codes,text}).")],
    model_dir: ModelDirOpt,
    codebook: CodebookOpt = None,
    embedder: Annotated[str, typer.Option(
        "--embedder", help="Sentence embedder (an installed sentence-transformers model).")
    ] = DEFAULT_DOCUMENT_EMBEDDER,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="Skip the leave-one-out figures.")] = False,
) -> None:
    """Learn document codes from labelled documents and the answer bank; report leave-one-out figures.

    Example:
        coder docs train --labels coder/data/documents/labels.csv --answers coder/data/answers.jsonl \\
            --model-dir models/docs
    """
    from rich.console import Console

    from coder.documents.train import train

    check_output(model_dir, [labels, labels.parent, answers, codebook], folder=True, option="--model-dir")
    refuse_other_model(model_dir, "documents")
    with progress(transient=True) as stage:
        manifest = train(labels, answers, model_dir, codebook=load_codebook(codebook), embedder_name=embedder,
                         evaluate=not no_eval, progress=lambda what, done, total: stage(f"embedding {what}",
                                                                                          done, total))
    con = Console()
    con.print(f"model {manifest['model_version']} saved in {model_dir} "
              f"({manifest['labelled_documents']} labelled documents, {manifest['answers']} answers)")
    m = manifest["metrics_leave_one_out"]
    if m:
        con.print(f"leave-one-out: type accuracy {m['type_accuracy']:.3f}, sections micro-F1 "
                  f"{m['sections_micro_f1']:.3f}, questions micro-F1 {m['questions_micro_f1']:.3f}, "
                  f"priorities micro-F1 {m['priorities_micro_f1']:.3f}")
    fr = manifest.get("field_routing") or {}
    if fr:
        con.print(f"field routing (held out, target precision {fr['target_precision']}): "
                  f"{fr['decisions_auto']:.1%} of field decisions auto-accepted, precision "
                  f"{fr['precision_auto']}, {fr['documents_nothing_to_review']:.0%} of documents with nothing "
                  f"to review; ECE " + ", ".join(f"{k} {v['ece']:.3f}" for k, v in fr["by_kind"].items()))
    for group, codes in manifest["fallbacks"].items():
        if codes:
            con.print(f"no labelled examples for {group} {', '.join(codes)}: "
                      f"coded from {', '.join(sorted(set(codes.values())))}")


@docs_app.command("code")
def code_cmd(
    input_dir: Annotated[Path, typer.Option("--input", help="Folder of PDF, DOCX, TXT, MD, HTML documents.")],
    model_dir: ModelDirOpt,
    out: Annotated[Path, typer.Option("--out", help="CSV to write (a .json with evidence beside it).")],
    target_precision: Annotated[float, typer.Option(
        "--target-precision", min=0.5, max=1.0,
        help="Auto-accept a field where held-out decisions like it reach this precision; the rest wait.")
    ] = 0.95,
    max_mb: Annotated[float, typer.Option("--max-mb", min=0.001, max=10_000,
                                          help="Documents larger than this get an error row.")] = 50.0,
    max_pages: Annotated[int, typer.Option("--max-pages", min=1, max=1_000_000,
                                           help="Documents longer than this get an error row.")] = 2000,
    workers: Annotated[int, typer.Option("--workers", min=0, max=32,
                                         help="Extraction processes running ahead (0: none).")] = 1,
) -> None:
    """Code every document in a folder: type, sections, questions, priorities, evidence, and per field
    whether it is accepted automatically or waits for a reviewer.

    Resumable: a re-run skips documents already coded (by content), and a bad document gets an error row
    without stopping the batch.

    Example:
        coder docs code --input incoming/ --model-dir models/docs --out coded/documents.csv
    """
    from rich.console import Console

    from coder.documents.batch import BatchOptions, code_folder, remember_index

    check_output(out, [input_dir, *model_files(model_dir)])
    state = {"t0": time.perf_counter(), "docs": 0, "pages": 0, "errors": 0, "done": 0, "total": None}
    opts = BatchOptions(max_bytes=int(max_mb * 2**20), max_pages=max_pages, target_precision=target_precision,
                        workers=workers)
    with progress(_rate_columns(state)) as stage:

        def on_start(total: int, done: int) -> None:
            state["total"] = total
            stage("coding documents", 0, total)

        def on_document(rec: dict) -> None:
            if not rec.get("skipped"):
                state["docs"] += 1
                state["pages"] += rec.get("pages", 0)
                state["errors"] += rec.get("status") != "ok"
            state["done"] += 1
            stage("coding documents", state["done"], state["total"])

        summary = code_folder(input_dir, model_dir, out, options=opts, on_start=on_start,
                              on_document=on_document)
    remember_index(model_dir, summary.index)
    con = Console()
    con.print(f"{summary.documents} documents: {summary.coded} coded, {summary.skipped} already done, "
              f"{summary.errors} errors"
              + (f" ({', '.join(f'{k} {v}' for k, v in summary.errors_by_kind.items())})"
                 if summary.errors else ""))
    con.print(f"{summary.pages} pages in {summary.seconds:.1f} s ({summary.pages_per_second:.1f} pages/s)")
    r = summary.routed
    if r.get("fields_auto", 0) + r.get("fields_wait", 0):
        con.print(f"routing: {r['documents_auto']} document(s) need no review, {r['documents_review']} have "
                  f"uncertain fields; {r['fields_auto']} field decisions auto-accepted, {r['fields_wait']} wait")
    if not summary.calibrated:
        con.print("this model has no held-out decisions to calibrate field routing (trained on fewer than three "
                  "labelled documents, or before field routing): every field waits; retrain to route fields")
    con.print(f"wrote {summary.out}, {summary.details}, {summary.index}")
    from coder.returns import read_table

    table = read_table(summary.out)
    failed = table[table["status"] != "ok"]
    if len(failed):
        for r in failed.itertuples():
            typer.echo(f"failed: {r.file}: {r.error}", err=True)
        typer.echo(f"{len(failed)} document(s) failed (listed above; their rows are in {summary.out})", err=True)
        sys.exit(1)  # the table is written; a script must still see that documents failed


@docs_app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    model_dir: ModelDirOpt,
    index: Annotated[Path | None, typer.Option(
        "--index", help="An .index.json written by `coder docs code` (default: the last one coded with "
                        "this model).")] = None,
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=1000, help="How many passages.")] = 10,
) -> None:
    """Passages most similar to a query across the coded documents, with file and page.

    Example:
        coder docs search "pooled budget for children and adults" --model-dir models/docs
    """
    from rich.console import Console

    from coder.documents.search import search
    from coder.errors import printable

    con = Console()
    for hit in search(query, model_dir, index=index, k=k):
        # documents are untrusted: no terminal escapes, no rich markup from their names or text
        con.print(f"{hit['score']:.3f} {printable(hit['file'], one_line=True)} p. {printable(hit['page'])}",
                  markup=False, highlight=False)
        con.print(f"    {printable(hit['text'])}", markup=False, highlight=False)


Coded = Annotated[Path, typer.Option("--coded", help="CSV written by `coder docs code` (its .json beside it).")]
@docs_app.command("push")
def push_cmd(
    coded: Coded,
    project: ProjectOpt = None,
    codebook: CodebookOpt = None,
    reset_config: ResetConfigOpt = False,
) -> None:
    """Queue every document with uncertain fields as a Label Studio task, least-confident first.

    The task shows the auto-accepted codes as settled and asks only about the uncertain fields, each with its
    evidence passage; the model's view is pre-selected. Pushing again
    adds only documents (by content) not queued yet. Start the server with `coder review server start`.

    Example:
        coder docs push --coded coded/documents.csv --project "coder documents"
    """
    from coder.documents.review import push_documents

    cb = load_codebook(codebook)
    with progress(transient=True) as stage:
        result = push_documents(coded, cb, project=project, reset_config=reset_config,
                                progress=lambda done, total: stage("pushing documents", done, total))
    for title in result.created:
        typer.echo(f"created project {title!r}")
    projects = ", ".join(f"{t!r} (id {i})" for t, i in result.projects.items())
    typer.echo(f"pushed {result.added} new document task(s); {result.already} already queued (left as they "
               f"are); {result.routed_auto} document(s) with nothing uncertain not queued. Project: {projects}")


@docs_app.command("pull")
def pull_cmd(
    project: ProjectOpt = None,
    store: StoreOpt = Path("annotations"),
    codebook: CodebookOpt = None,
) -> None:
    """Record completed document reviews in the store: who, when, codes, agreed with the suggestion.

    Pulling twice records nothing twice; skipped tasks stay in the queue. An annotation with a code that is
    not in the codebook is reported and not recorded (the others are); the command then exits 1.

    Example:
        coder docs pull --project "coder documents" --store annotations
    """
    from coder.documents.review import DOCUMENTS_FILE, pull_documents

    check_store(store)

    result, added = pull_documents(store, load_codebook(codebook), project=project)
    echo_pull(result, added, "document review", "document", store / DOCUMENTS_FILE)


@docs_app.command("accept")
def accept_cmd(
    coded: Coded,
    out: Annotated[Path, typer.Option("--out", help="Final documents table (CSV) to write.")],
    store: StoreOpt = Path("annotations"),
) -> None:
    """Write the final documents table: per field, the reviewer's answer where one was asked, else the
    auto-accepted code.

    Documents with fields still in the queue are `pending` (code columns hold what is settled, `waiting`
    names the rest); error documents are `error`.

    Example:
        coder docs accept --coded coded/documents.csv --store annotations --out coded/documents-final.csv
    """
    from coder.documents.review import accept_documents

    check_output(out, [coded, coded.with_suffix(".json"), store])
    check_store(store)
    table = accept_documents(coded, out, store=store)
    counts = table["source"].value_counts()
    parts = ", ".join(f"{counts[k]} {k}" for k in ("human", "auto", "pending", "error") if k in counts)
    typer.echo(f"wrote {out}: {len(table)} document(s) ({parts or 'none'})")


def register(app: typer.Typer) -> None:
    app.add_typer(docs_app, name="docs")
