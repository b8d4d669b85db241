#!/usr/bin/env python3
"""Paired Wilcoxon tests between the backbones of a results folder, method by method.

`harness report` tests each method against the reference method of the same backbone. A spec whose
backbones are one network started from different sources (experiments/msd-hippocampus-sources.yaml:
unetr-scratch, unetr-synthetic, unetr-ssl) also asks the other question: does a method do better
from one source than from another? This script answers it from the folder's cases.csv, with the
report's conventions (docs/REPORTS.md): the union label's Dice; each case averaged over the seeds of
its row, then paired by case id; zero differences dropped; the exact null distribution when there are
at most 25 non-zero differences and no ties, else the normal approximation with continuity correction.

Dev-time only (the harness itself never needs Python):

    pip install scipy        # scipy >= 1.11
    python3 scripts/compare-backbones.py results/msd-hippocampus-sources [--baseline unetr-scratch]

It prints one Markdown row per budget, method and pair of backbones (each against the baseline when
given, else every pair): the mean Dice of both, their difference, the number of paired cases and p.
"""
import argparse
import csv
import itertools
import sys
from collections import defaultdict
from pathlib import Path

from scipy.stats import rankdata, wilcoxon


def case_means(path):
    """{(budget, method, backbone): {case: Dice averaged over seeds}} from a cases.csv."""
    values = defaultdict(lambda: defaultdict(list))
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["label"] == "all" and row["dice"] != "":
                values[(row["budget"], row["method"], row["backbone"])][row["case"]].append(float(row["dice"]))
    return {key: {case: sum(v) / len(v) for case, v in cases.items()} for key, cases in values.items()}


def paired_test(x, y):
    """(n, p) of the report's two-sided paired Wilcoxon test of x − y; p is None without a difference."""
    differences = [a - b for a, b in zip(x, y) if a != b]
    n = len(differences)
    if n == 0:
        return 0, None
    magnitudes = [abs(d) for d in differences]
    ties = len(set(rankdata(magnitudes))) < n
    method = "exact" if n <= 25 and not ties else "asymptotic"
    return n, wilcoxon(differences, zero_method="wilcox", correction=True, method=method).pvalue


def budget_order(budget):
    return (0, int(budget)) if budget.isdigit() else (1, budget)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a results folder with cases.csv (harness report writes it)")
    parser.add_argument("--baseline", help="compare every other backbone with this one only")
    args = parser.parse_args()
    path = args.results / "cases.csv"
    if not path.is_file():
        sys.exit(f"{path}: no such file; run `harness report {args.results}` first")
    means = case_means(path)
    backbones = sorted({b for (_, _, b) in means})
    if args.baseline and args.baseline not in backbones:
        sys.exit(f"--baseline {args.baseline}: not a backbone of {path} ({', '.join(backbones)})")
    print("| budget | method | backbone A | backbone B | Dice A | Dice B | A − B | cases | p |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    for budget in sorted({k[0] for k in means}, key=budget_order):
        for method in sorted({k[1] for k in means if k[0] == budget}):
            present = [b for b in backbones if (budget, method, b) in means]
            if args.baseline:
                pairs = [(b, args.baseline) for b in present if b != args.baseline and args.baseline in present]
            else:
                pairs = list(itertools.combinations(present, 2))
            for a, b in pairs:
                xa, xb = means[(budget, method, a)], means[(budget, method, b)]
                common = sorted(set(xa) & set(xb))
                if not common:
                    continue
                x, y = [xa[c] for c in common], [xb[c] for c in common]
                n, p = paired_test(x, y)
                mean_a, mean_b = sum(x) / len(x), sum(y) / len(y)
                shown = "—" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}")
                print(f"| {budget} | {method} | {a} | {b} | {mean_a:.3f} | {mean_b:.3f} | {mean_a - mean_b:+.3f} "
                      f"| {len(common)} | {shown} |")


if __name__ == "__main__":
    main()
