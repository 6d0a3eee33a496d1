"""A wheel install works away from the checkout: the codebook and report YAML ship inside the package, and
`coder train` / `coder suggest` run on a small sample from a folder that knows nothing of the source tree."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pandas as pd

from coder.returns import read_returns

ROOT = Path(__file__).resolve().parent.parent


def run(*cmd, cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd}: {r.stdout[-2000:]} {r.stderr[-2000:]}"
    return r


def test_the_wheel_carries_the_yaml_and_runs_train_and_suggest_outside_the_checkout(tmp_path, codebook,
                                                                                    returns_path):
    # build from a copy of the tracked files, so the checkout is left untouched (no build/ or egg-info)
    src = tmp_path / "src"
    files = run("git", "ls-files", cwd=ROOT).stdout.split()
    for f in files:
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w",
        tmp_path / "dist", src, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("coder-*.whl"))
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for f in [*(ROOT / "codebook").glob("*.yaml"), *(ROOT / "codebook").glob("*.csv")]:
        assert f"coder/data/{f.name}" in names

    # a fresh venv without the checkout; its dependencies come from the shared environment via a .pth line
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    py = venv / "bin" / "python"
    own = Path(run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
               .stdout.strip())
    (own / "shared-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run(sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path,
        env=env)
    where = run(py, "-c", "import coder; print(coder.__file__)", cwd=tmp_path, env=env).stdout.strip()
    assert where.startswith(str(venv)), where

    work = tmp_path / "elsewhere"
    work.mkdir()
    df = read_returns(returns_path, codebook)
    df[df["qid"].isin([3, 5])].to_csv(work / "sample.csv", index=False)
    coder = venv / "bin" / "coder"
    r = run(coder, "train", "--data", "sample.csv", "--round", "2013-06", "--model-dir", "models", cwd=work,
            env=env)
    assert "saved model v1" in r.stdout
    run(coder, "suggest", "--data", "sample.csv", "--model-dir", "models", "--out", "s.csv", cwd=work, env=env)
    assert len(pd.read_csv(work / "s.csv")) == len(pd.read_csv(work / "sample.csv"))
    r = run(coder, "--version", cwd=work, env=env)
    assert r.stdout.strip().startswith("coder ")
