"""Assemble bench/update-styles/ from its hand-written source.txt: updates.csv and gold/{people,areas}.csv.

The texts and the gold were written by hand (see README.md); this script only parses source.txt, puts each
text in the CSV format of coder/data/updates.csv and the gold in the format of coder/data/updates-gold/, and
checks them (codes known, months YYYY-MM, every label present in its text). `counts_consistent` is computed
from the gold people as the bundled gold defines it. Usage: python bench/update-styles/build.py
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATUS_OF = {"discharged_count": {"1"}, "in_hospital_count": {"0", "2", "3"}, "not_by_june_count": {"0"}}


def parse(source: str) -> list[dict]:
    areas = []
    for block in re.split(r"^=== ", source, flags=re.M)[1:]:
        head, rest = block.split("\n", 1)
        text, gold = rest.split("\n--- ", 1)
        locality, region, style = (x.strip() for x in head.split("|"))
        lines = [ln for ln in gold.strip().split("\n") if ln.strip()]
        m = re.fullmatch(r"counts:\s*([^,]*),\s*([^,]*),\s*([^|]*)\|\s*plan:\s*(\S+)", lines[0].strip())
        if not m:
            raise SystemExit(f"{locality}: bad counts line {lines[0]!r}")
        people = []
        for ln in lines[1:]:
            label, status, package, reasons, est = (x.strip() for x in ln.split("|"))
            people.append({"person": label, "status": status, "care_package": package, "reasons": reasons,
                           "est_discharge": est})
        areas.append({"locality": locality, "region": region, "style": style,
                      "text": text.strip("\n").replace("<TAB>", "\t"),
                      "counts": [c.strip() for c in m.groups()[:3]], "plan": m.group(4), "people": people})
    return areas


def evidence(text: str, label: str) -> str:
    """The lines of the text that name the person (verbatim), joined by a space."""
    pat = re.compile(r"(?<![\w.])['‘]?" + re.escape(label) + r"(?![\w])")
    return " ".join(ln.strip() for ln in text.split("\n") if pat.search(ln))


def check(a: dict) -> None:
    for p in a["people"]:
        where = f"{a['locality']} {p['person']}"
        assert p["status"] in {"0", "1", "2", "3"}, where
        assert all(c in {str(i) for i in range(1, 9)} for c in p["care_package"].split(";")) or \
            p["care_package"] == "NR", where
        assert all(c in {str(i) for i in range(1, 11)} for c in p["reasons"].split(";")) or p["reasons"] == "NR", where
        assert p["reasons"] == "NR" or p["status"] in {"0", "2"}, where
        assert p["est_discharge"] == "" or re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", p["est_discharge"]), where
        assert evidence(a["text"], p["person"]), f"{where}: label not in text"
    assert a["plan"] in {"0", "1", "2", "3", "4", "NR"}, a["locality"]


def main() -> None:
    areas = parse((HERE / "source.txt").read_text(encoding="utf-8"))
    (HERE / "gold").mkdir(exist_ok=True)
    with open(HERE / "updates.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["round", "locality", "region", "text"])
        for a in areas:
            check(a)
            w.writerow(["2014-05", a["locality"], a["region"], a["text"]])
    with open(HERE / "gold" / "people.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["locality", "person", "status", "care_package", "reasons", "est_discharge", "evidence"])
        for a in areas:
            for p in a["people"]:
                w.writerow([a["locality"], p["person"], p["status"], p["care_package"], p["reasons"],
                            p["est_discharge"], evidence(a["text"], p["person"])])
    with open(HERE / "gold" / "areas.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["locality", "style", "split", "discharged_count", "in_hospital_count", "not_by_june_count",
                    "plan_status", "counts_consistent"])
        for a in areas:
            listed = {k: sum(p["status"] in v for p in a["people"]) for k, v in STATUS_OF.items()}
            ok = all(c == "" or int(c) == listed[k] for c, k in zip(a["counts"], STATUS_OF, strict=True))
            w.writerow([a["locality"], a["style"], "eval", *a["counts"], a["plan"], "yes" if ok else "no"])
    print(f"{len(areas)} areas, {sum(len(a['people']) for a in areas)} people")


if __name__ == "__main__":
    main()
