"""Build step: the wheel carries the project's codebook folder (codebooks, report definitions, document
vocabulary, training examples) inside the package, as coder/data/*.yaml and *.csv, where
`coder.codebook.project_file` finds it when coder is installed rather than run from a checkout. The files live
once in git, in codebook/."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CODEBOOK_DIR = Path(__file__).resolve().parent / "codebook"


class BuildWithCodebook(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "coder" / "data"
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted([*CODEBOOK_DIR.glob("*.yaml"), *CODEBOOK_DIR.glob("*.csv")]):
            shutil.copy2(f, target / f.name)


setup(cmdclass={"build_py": BuildWithCodebook})
