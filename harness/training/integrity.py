"""What ``ladder verify`` checks of a results store, and the safe repairs ``--repair`` may make.

Checked: the manifest and curves read cleanly and match (sha256, ladder version); every finished pair has
exactly its rows and no row lacks a finished pair; every checkpoint present and every committed weights file has
its recorded sha256. Repaired: only what can be mended without adopting anything unverified.
"""

from __future__ import annotations

import pandas as pd

from harness.errors import Damaged, Problem, UserError
from harness.files import sha256_file
from harness.training import weights
from harness.training.store import ResultsStore, empty_curves, pair_key


def _pair_rows_problem(rows: pd.DataFrame, tasks: list[str], params: int | None, ladder: str) -> str | None:
    """What is wrong with one finished pair's rows (words for a message), or None."""
    if rows.empty:
        return "there are no rows"
    if set(rows["ladder"]) != {ladder} or params is None or set(rows["params"]) != {params}:
        return "the rows are of another ladder version (ladder name or parameter count differ)"
    if sorted(set(rows["task"])) != sorted(tasks):
        return f"the rows hold tasks {sorted(set(rows['task']))}, not the ladder's {sorted(tasks)}"
    if rows.duplicated(["task", "metric", "step"]).any():
        return "some (task, metric, step) rows appear twice"
    grid = rows.groupby(["task", "metric"])["step"].apply(frozenset)
    if grid.nunique() != 1 or rows["metric"].nunique() * len(tasks) != len(grid):
        return "some rows are missing (not every task and metric has the same evaluation steps)"
    if rows["value"].isna().any():
        return "some values are missing (NaN)"
    return None


def problems(store: ResultsStore) -> tuple[list[Problem], int]:
    """What is wrong with this store, each with its repair, and how many recorded checkpoints are absent.

    Checked: the manifest and curves read cleanly and match (sha256, ladder
    version); every finished pair has exactly its rows (each task, metric and
    evaluation step once, the same steps for every task) and no row lacks a
    finished pair; every checkpoint present has its recorded sha256. Absent
    checkpoints are not problems: results are committed without them and
    ``ladder run --restore`` recreates them.
    """
    try:
        manifest = store.manifest()
        curves = store.curves()
    except UserError as exc:
        return [Problem(store.folder, str(exc))], 0
    found, absent = [], 0
    rerun = f"ladder run --ladder {store.ladder.cli_name} --force --rungs {{rung}} --seeds {{seed}}"
    pairs = {(r["rung"], r["seed"]): r for r in manifest["runs"].values()}
    by_pair = dict(tuple(curves.groupby(["rung", "seed"], sort=False)))
    for (rung, seed), rows in by_pair.items():
        if (rung, seed) not in pairs:
            found.append(
                Problem.of(
                    store.curves_path,
                    f"has {len(rows)} rows of {pair_key(rung, seed)}, which the manifest does not list as finished",
                    "Run 'ladder verify --repair' to drop them (what an interrupted run leaves).",
                )
            )
    params = {r.name: r.params for r in store.ladder.rungs}
    for (rung, seed), entry in pairs.items():
        rows = by_pair.get((rung, seed), curves.iloc[:0])
        wrong = _pair_rows_problem(rows, list(store.ladder.spec.tasks), params.get(rung), store.ladder.name)
        if wrong:
            repair = f"Restore the file from git or retrain the pair with '{rerun.format(rung=rung, seed=seed)}'."
            found.append(Problem.of(store.curves_path, f"{wrong} for {pair_key(rung, seed)}", repair))
        for recorded in weights.recorded_files(entry):
            found += weights.recorded_problems(store, recorded)
        archived = {a["step"] for a in entry.get("archive", [])}
        for c in entry.get("checkpoints", []):
            path = store.folder / c["path"]
            if not path.exists():
                absent += c["step"] not in archived  # an archived checkpoint is in git, checked above
            elif sha256_file(path) != c["sha256"]:
                found.append(
                    Problem.of(
                        path,
                        f"no longer has the sha256 the manifest recorded ({c['sha256'][:12]})",
                        f"Delete it and recreate it with 'ladder run --ladder {store.ladder.cli_name} --restore'.",
                    )
                )
    return found + _unrecorded_weights(store, manifest["runs"]), absent


def _unrecorded_weights(store: ResultsStore, runs: dict) -> list[Problem]:
    """Weights and archive files no finished pair records (left by a pair retrained without ``ladder weights``
    after)."""
    recorded = set()
    for entry in runs.values():
        for file in weights.recorded_files(entry):
            try:
                recorded.add(store.inside(file["path"]))
            except Damaged:  # reported with the pair's own files
                continue
    return [
        Problem.of(path, "is a model file no finished pair records", "Delete it, or run 'ladder weights'.")
        for pattern in weights.PATTERNS
        for path in sorted(store.folder.glob(pattern))
        if path.resolve() not in recorded
    ]


def repair(store: ResultsStore) -> list[str]:
    """The safe repairs: drop rows of unfinished pairs, and record the curves' sha256 where the manifest lacks it.

    The hash is recorded only when the curves read cleanly and hold exactly
    the finished pairs' rows; anything else must be restored, not adopted.
    """
    manifest = store.read_manifest(with_curves_hash=False)
    if manifest is None or "curves_sha256" in manifest or not manifest["runs"]:
        dropped = store.recover() if manifest is not None else 0
        return [f"dropped {dropped} rows of unfinished pairs from {store.curves_path}"] if dropped else []
    curves = store.parse_curves(store.curves_path.read_bytes()) if store.curves_path.exists() else empty_curves()
    done = {(run["rung"], run["seed"]) for run in manifest["runs"].values()}
    if set(zip(curves["rung"], curves["seed"])) != done:
        raise Damaged(
            f"'{store.curves_path}' does not hold exactly the pairs '{store.manifest_path}' lists as finished, so "
            "its sha256 is not recorded. Restore both files from git or a backup."
        )
    manifest["curves_sha256"] = sha256_file(store.curves_path)
    store.write_manifest(manifest)
    return [f"recorded the sha256 of {store.curves_path} in {store.manifest_path}"]
