"""Test inputs for the review loop: a suggestions file made from the bundled hand-coded returns, and a
command-line runner. (The session's Label Studio server is the `label_studio` fixture in review_server.py.)

Until a trained classifier writes suggestions, the hand codes stand in for the model's output, a few of them
deliberately changed and every confidence drawn at random, as the shared brief allows. Blank answers follow
the real rule: suggested NR, confidence 1.0, route auto, model_version `rule`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from cli_runner import coder as run_coder

from coder.codebook import Codebook, format_codes
from coder.returns import read_returns
from coder.spreadsheet import write_csv_atomic

MODEL_VERSION = "fixture-hand-codes"


def make_suggestions(returns_path: Path, codebook: Codebook, out: Path, localities: int = 3,
                     round_: str = "2014-05", threshold: float = 0.5, seed: int = 7) -> pd.DataFrame:
    """A suggestions CSV for `localities` localities of one round; about half the answers go to review."""
    rng = np.random.default_rng(seed)
    df = read_returns(returns_path, codebook)
    df = df[df["round"] == round_]
    keep = sorted(df["locality"].unique())[:localities]
    df = df[df["locality"].isin(keep)].reset_index(drop=True)
    rows = []
    for r in df.itertuples(index=False):
        if not str(r.text).strip():
            suggested, conf, route, version = codebook.blank_code, 1.0, "auto", "rule"
        else:
            conf = float(np.round(rng.uniform(0.2, 0.99), 4))
            suggested = r.codes
            if rng.random() < 0.2:  # the "model" is wrong now and then
                q = codebook.question(r.qid)
                others = [c for c in q.code_values if c != r.codes]
                suggested = format_codes([str(rng.choice(others))])
            route = "review" if conf < threshold else "auto"
            version = MODEL_VERSION
        rows.append({"round": r.round, "locality": r.locality, "region": r.region, "qid": r.qid,
                     "text": r.text, "suggested": suggested, "confidence": conf, "route": route,
                     "model_version": version, "ref": r.ref, "support": r.support, "source_id": r.source_id})
    out_df = pd.DataFrame(rows)
    write_csv_atomic(out_df, out)
    return out_df


def sign_up_reviewer(invite_url: str, email: str, password: str) -> str:
    """Sign a second reviewer up through the invite link, as a person does in the browser; returns their
    API key (Label Studio's Community edition lets only signed-up users log in)."""
    import re

    import httpx

    with httpx.Client(follow_redirects=True, timeout=60) as web:
        page = web.get(invite_url)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert csrf, "the sign-up page has no CSRF token"
        web.post(str(page.url), data={"csrfmiddlewaretoken": csrf.group(1), "email": email,
                                      "password": password}, headers={"Referer": str(page.url)})
        r = web.get(f"{page.url.scheme}://{page.url.host}:{page.url.port}/api/current-user/token")
        r.raise_for_status()
        return r.json()["token"]


def coder(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the command line as a user does."""
    return run_coder(*args, cwd=cwd, env=env, timeout=600)
