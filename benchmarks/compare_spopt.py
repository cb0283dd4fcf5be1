"""Solve the same instances with spopt and with optimizer.models (same HiGHS solver) in one run.

Usage: python benchmarks/compare_spopt.py [--quick] [--sizes 100 300 ...] [--pm-sizes 100 ...]
       [--time-limit 300] [--no-spopt] [--no-network] [--only KEY,...] [--mem-limit-gb 8]
       [--out benchmarks/results]

Models: set cover (spopt ``LSCP``), max cover (``MCLP``), p-median (``PMedian``) and p-center
(``PCenter``), on random planar instances (max cover also at 100,000 demand points and 500
sites), the Chengdu district (pipeline demand and candidates, walking distances) and the
Shanghai network (street-grid demand, street-corner sites, walking radius). spopt gets the
dense cost matrix its ``from_cost_matrix`` takes and ``pulp.HiGHS(timeLimit=..., gapRel=1e-6)``;
our models get the sparse pairs within the radius (p-median and p-center: the same dense
matrix) and HiGHS through highspy with the same gap and time limit. ``--only`` runs a subset:
model names (``p_center``) and instance keys (``maxcover100k``, ``random-1000``, ``pm-400``,
``chengdu``, ``shanghai-3000x600``); rows and plots then go to ``compare_spopt_only.*``.
Each solve runs in a fresh process (forked from a server that has the libraries imported), so
the peak memory (resident set above the loaded input, sampled every 10 ms) belongs to that run
alone. Building the instances (distances) is not timed for either tool.

Prints a table (build s, solve s, total s, peak MB, objective, status, our total / spopt's),
checks that the objectives agree where spopt finishes (exit status 1 on a mismatch), and writes
the table (``compare_spopt.md``) and the scaling curves (``scaling.png``) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.instances import Instance  # noqa: E402

__all__ = ["Case", "main", "run_case", "run_worker"]

GAP = 1e-6
P_MEDIAN_P = 5
RESULTS = Path(__file__).resolve().parent / "results"
FULL_SIZES = [100, 300, 1_000, 3_000, 10_000]
QUICK_SIZES = [100, 300, 1_000]
FULL_PM = [100, 200, 400]
QUICK_PM = [100]
MODELS = {"set_cover": "set cover", "max_cover": "max cover", "p_median": "p-median",
          "p_center": "p-center"}
#: the largest instance of p-center: spopt's assignment model has demand x site variables
P_CENTER_MAX_DEMAND = 1_000
#: the city-size max cover: demand points and candidate sites
CITY_DEMAND, CITY_SITES = 100_000, 500


@dataclass(frozen=True)
class Case:
    """One instance and the models to run on it."""

    label: str
    make: Any
    models: tuple[str, ...]
    headline: bool = False
    key: str = ""

    def selected(self, only: set[str] | None) -> tuple[str, ...]:
        """The models to run: all when ``only`` is unset or names this case, else those named."""
        if only is None or self.key in only:
            return self.models
        return tuple(m for m in self.models if m in only)


def cover_p(n_sites: int) -> int:
    """The max-cover budget: one site per 24 candidates, at least 3 (3,000 x 600 -> 25)."""
    return max(3, round(n_sites / 24))


def shanghai_radius(n_sites: int) -> float:
    """Walking radius keeping about 7 of ``n_sites`` Shanghai corners in reach (350 m at 2,000)."""
    return round(350.0 * float(np.sqrt(2_000 / n_sites)), -1)


def cases(args: argparse.Namespace) -> list[Case]:
    """The instances of this run, in order."""
    from benchmarks import instances as ins

    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    pm_sizes = args.pm_sizes or (QUICK_PM if args.quick else FULL_PM)
    out = [Case(f"random {n}", lambda n=n: ins.random_planar(n, seed=n),
                ("set_cover", "max_cover") + (("p_center",) if n <= P_CENTER_MAX_DEMAND else ()),
                key=f"random-{n}")
           for n in sizes]
    out += [Case(f"random pm {n}", lambda n=n: ins.random_pmedian(n, seed=n),
                 ("p_median", "p_center"), key=f"pm-{n}")
            for n in pm_sizes]
    if not args.quick:
        out.append(Case(
            f"random {CITY_DEMAND}",
            lambda: ins.random_planar(CITY_DEMAND, n_sites=CITY_SITES, seed=CITY_DEMAND),
            ("max_cover",), key="maxcover100k"))
    if not args.no_network:
        chengdu_models = ("set_cover", "max_cover") if args.quick else tuple(MODELS)
        out.append(Case("chengdu", lambda: ins.chengdu(radius_m=300.0), chengdu_models,
                        key="chengdu"))
        shapes = [(1_000, 200)] if args.quick else [(3_000, 600), (10_000, 2_000)]
        for n, m in shapes:
            out.append(Case(
                f"shanghai {n}x{m}",
                lambda n=n, m=m: ins.shanghai(n, m, radius_m=shanghai_radius(m), seed=1),
                ("set_cover", "max_cover"), headline=(n, m) == (10_000, 2_000),
                key=f"shanghai-{n}x{m}",
            ))
    only = None if args.only is None else set(args.only.split(","))
    return [replace(c, models=c.selected(only)) for c in out if c.selected(only)]


class PeakRss:
    """Sample this process's resident set every 10 ms and keep the largest value."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> PeakRss:
        self.base = self.process.memory_info().rss
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def mb(self) -> float:
        """Peak above the resident set at entry, in MB."""
        return max(self.peak - self.base, 0) / 2**20


def run_worker(folder: Path, model: str, tool: str, p: int, time_limit: float) -> dict[str, Any]:
    """Solve one model with one tool on the instance saved in ``folder`` (subprocess side).

    Parameters
    ----------
    folder
        Holds ``cost.npy``, ``weights.npy`` and ``meta.json`` (the radius).
    model
        ``set_cover``, ``max_cover``, ``p_median`` or ``p_center``.
    tool
        ``ours`` or ``spopt``.
    p
        Sites to open (max cover, p-median, p-center).
    time_limit
        Solver seconds.

    Returns
    -------
    dict
        ``build_s``, ``solve_s``, ``total_s``, ``peak_mb``, ``objective``, ``status``, ``gap``.
    """
    import gc

    cost = np.load(folder / "cost.npy")
    weights = np.load(folder / "weights.npy")
    radius = json.loads((folder / "meta.json").read_text())["radius"]
    if tool == "ours":
        from scipy import sparse

        from optimizer.models import max_cover, p_center, p_median, set_cover

        rows, cols = np.nonzero(cost <= radius)
        coverage = sparse.csr_array((np.ones(rows.size, dtype=np.int8), (rows, cols)),
                                    shape=cost.shape)
        if model not in ("p_median", "p_center"):
            del cost
        del rows, cols
        gc.collect()
        with PeakRss() as mem:
            t0 = time.perf_counter()
            if model == "set_cover":
                sol = set_cover(coverage, time_limit=time_limit, gap=GAP)
            elif model == "max_cover":
                sol = max_cover(coverage, weights, p, time_limit=time_limit, gap=GAP)
            elif model == "p_median":
                sol = p_median(cost, weights, p, time_limit=time_limit, gap=GAP)
            else:
                sol = p_center(cost, p, time_limit=time_limit, gap=GAP)
            total = time.perf_counter() - t0
        return {"build_s": sol.build_s, "solve_s": total - sol.build_s, "total_s": total,
                "peak_mb": mem.mb, "objective": sol.objective, "status": sol.status,
                "gap": sol.gap}
    import pulp
    from spopt.locate import LSCP, MCLP, PCenter, PMedian

    gc.collect()
    status, objective = "error", None
    with PeakRss() as mem:
        t0 = time.perf_counter()
        if model == "set_cover":
            spopt_model = LSCP.from_cost_matrix(cost, radius)
        elif model == "max_cover":
            spopt_model = MCLP.from_cost_matrix(cost, weights, radius, p)
        elif model == "p_median":
            spopt_model = PMedian.from_cost_matrix(cost, weights, p)
        else:
            spopt_model = PCenter.from_cost_matrix(cost, p)
        t1 = time.perf_counter()
        try:
            spopt_model.solve(pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=GAP),
                              results=False)
        except RuntimeError as exc:  # spopt raises when PuLP's status is not "optimal"
            status = f"error: {exc}"[:60]
        t2 = time.perf_counter()
    problem = spopt_model.problem
    if problem.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif problem.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "time_limit"
    if problem.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        objective = float(pulp.value(problem.objective))
    return {"build_s": t1 - t0, "solve_s": t2 - t1, "total_s": t2 - t0, "peak_mb": mem.mb,
            "objective": objective, "status": status, "gap": None}


def _child(conn: Any, folder: Path, model: str, tool: str, p: int, time_limit: float,
           mem_limit_gb: float | None) -> None:
    """Forked process body: run :func:`run_worker` and send its result (or the error).

    With ``mem_limit_gb`` the process's address space is capped, so a run that would take
    the machine's memory fails with ``MemoryError`` instead.
    """
    if mem_limit_gb is not None:
        import resource

        cap = int(mem_limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        conn.send(run_worker(folder, model, tool, p, time_limit))
    except Exception as exc:  # reported as a crashed run, the benchmark goes on
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    conn.close()


_CONTEXT: Any = None


def _context() -> Any:
    """A forkserver with numpy, scipy, PuLP, spopt and our models already imported."""
    global _CONTEXT
    if _CONTEXT is None:
        import multiprocessing

        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(
            ["benchmarks.compare_spopt", "optimizer.models", "pulp", "psutil", "spopt.locate"])
    return _CONTEXT


def run_case(folder: Path, model: str, tool: str, p: int, time_limit: float,
             mem_limit_gb: float | None = None) -> dict[str, Any]:
    """Run :func:`run_worker` in a fresh process forked from a preloaded server.

    Parameters
    ----------
    folder, model, tool, p, time_limit
        As in :func:`run_worker`.
    mem_limit_gb
        Cap on the process's address space in GB, or ``None``.

    Returns
    -------
    dict
        The worker's result; status ``killed`` if it outlived ``3 * time_limit + 900`` s,
        ``crashed (error type)`` if it failed.
    """
    ctx = _context()
    failed = {"build_s": None, "solve_s": None, "total_s": None, "peak_mb": None,
              "objective": None, "gap": None}
    here, there = ctx.Pipe(duplex=False)
    from benchmarks import compare_spopt as me

    proc = ctx.Process(target=me._child, args=(there, folder, model, tool, p, time_limit,
                                                    mem_limit_gb))
    proc.start()
    there.close()
    result: dict[str, Any] | None = None
    if here.poll(3 * time_limit + 900):
        try:
            result = here.recv()
        except EOFError:
            result = None
    if proc.is_alive() and result is None:
        proc.kill()
        proc.join()
        return {**failed, "status": "killed"}
    proc.join()
    if result is None or "error" in result:
        sys.stderr.write(f"{model} {tool} crashed: {result}\n")
        error = "" if result is None else f" ({result['error'].split(':')[0]})"
        return {**failed, "status": f"crashed{error}"}
    return result


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _objective(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-6 else f"{value:,.2f}"


def check_objectives(ours: dict[str, Any], spopt: dict[str, Any], model: str) -> str:
    """``ok``, ``-`` (nothing to compare) or a description of the mismatch."""
    a, b = ours["objective"], spopt["objective"]
    if a is None or b is None:
        return "-"
    tol = 2 * GAP * max(abs(a), abs(b), 1.0) + 1e-6
    if ours["status"] == "optimal" and spopt["status"] == "optimal":
        return "ok" if abs(a - b) <= tol else f"MISMATCH ours {a} vs spopt {b}"
    better = b > a + tol if model == "max_cover" else b < a - tol
    if ours["status"] == "optimal" and better:
        return f"MISMATCH spopt's incumbent {b} beats our optimum {a}"
    return "ok" if abs(a - b) <= tol else "-"


HEADER = ("| instance | n_demand | n_sites | model | tool | build s | solve s | total s | peak MB "
          "| objective | status | ours / spopt |\n"
          "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|---:|")


def table_row(row: dict[str, Any]) -> str:
    """One markdown table line."""
    ratio = "" if row.get("ratio") is None else f"{row['ratio']:.3f}"
    model = MODELS[row["model"]] + (f" p={row['p']}" if row["model"] != "set_cover" else "")
    return (f"| {row['instance']} | {row['n_demand']:,} | {row['n_sites']:,} | {model} "
            f"| {row['tool']} | {_num(row['build_s'])} | {_num(row['solve_s'])} "
            f"| {_num(row['total_s'])} | {_num(row['peak_mb'], 1)} "
            f"| {_objective(row['objective'])} | {row['status']} | {ratio} |")


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Draw total time against demand points, log-log, one panel per model that has a run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = [m for m in MODELS if any(r["model"] == m and r["total_s"] for r in rows)]
    if not models:
        return
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.6), squeeze=False)
    colors = {"ours": "tab:blue", "spopt": "tab:red"}
    markers = {"random": "o", "chengdu": "s", "shanghai": "^"}
    for ax, model in zip(axes[0], models, strict=True):
        for tool in ("ours", "spopt"):
            sel = [r for r in rows if r["model"] == model and r["tool"] == tool
                   and r["total_s"] is not None]
            rnd = sorted((r for r in sel if r["instance"].startswith("random")),
                         key=lambda r: r["n_demand"])
            if rnd:
                ax.plot([r["n_demand"] for r in rnd], [r["total_s"] for r in rnd], "-",
                        color=colors[tool], label=f"{tool}, random planar")
            for r in sel:
                kind = r["instance"].split()[0]
                hollow = r["status"] != "optimal"
                ax.scatter(r["n_demand"], r["total_s"], marker=markers[kind], s=45, zorder=3,
                           facecolors="none" if hollow else colors[tool],
                           edgecolors=colors[tool])
        for kind in ("chengdu", "shanghai"):
            ax.scatter([], [], marker=markers[kind], color="grey", label=f"{kind} network")
        ax.scatter([], [], marker="o", facecolors="none", edgecolors="grey",
                   label="not proven optimal (time limit)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("demand points")
        ax.set_ylabel("build + solve seconds")
        ax.set_title(MODELS[model])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("optimizer.models vs spopt 0.7, same HiGHS solver (2 cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only (< 2 minutes)")
    parser.add_argument("--sizes", type=int, nargs="+", help="random covering demand sizes")
    parser.add_argument("--pm-sizes", type=int, nargs="+", help="random p-median node counts")
    parser.add_argument("--time-limit", type=float, default=300.0,
                        help="solver seconds per run, both tools (default 300)")
    parser.add_argument("--no-spopt", action="store_true", help="run our models only")
    parser.add_argument("--no-network", action="store_true", help="random instances only")
    parser.add_argument("--only", help="comma-separated model names and instance keys to run "
                        "(e.g. p_center,maxcover100k); default everything")
    parser.add_argument("--mem-limit-gb", type=float, default=None,
                        help="cap each run's address space (GB); a run over it is 'crashed'")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for .md and .png")
    args = parser.parse_args()

    rows: list[dict[str, Any]] = []
    mismatches: list[str] = []
    headline: list[str] = []
    print(HEADER, flush=True)
    t_start = time.perf_counter()
    for case in cases(args):
        t0 = time.perf_counter()
        inst: Instance = case.make()
        n, m = inst.shape
        sys.stderr.write(f"{case.label}: {n} x {m}, {inst.sites_in_reach():.1f} sites in reach, "
                         f"built in {time.perf_counter() - t0:.1f} s\n")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            np.save(folder / "cost.npy", inst.cost)
            np.save(folder / "weights.npy", inst.weights)
            (folder / "meta.json").write_text(json.dumps({"radius": inst.radius}))
            del inst
            for model in case.models:
                p = {"set_cover": 0, "max_cover": cover_p(m), "p_median": P_MEDIAN_P,
                     "p_center": P_MEDIAN_P}[model]
                base = {"instance": case.label.replace(" pm", ""), "n_demand": n, "n_sites": m,
                        "model": model, "p": p}
                ours = {**base, "tool": "ours",
                        **run_case(folder, model, "ours", p, args.time_limit,
                                   args.mem_limit_gb)}
                spopt = None
                if not args.no_spopt:
                    spopt = {**base, "tool": "spopt",
                             **run_case(folder, model, "spopt", p, args.time_limit,
                                        args.mem_limit_gb)}
                    check = check_objectives(ours, spopt, model)
                    if check.startswith("MISMATCH"):
                        mismatches.append(f"{case.label} {model}: {check}")
                        ours["status"] += " MISMATCH"
                    if ours["total_s"] and spopt["total_s"]:
                        ours["ratio"] = ours["total_s"] / spopt["total_s"]
                for row in (ours, spopt):
                    if row is not None:
                        rows.append(row)
                        print(table_row(row), flush=True)
                if case.headline and model == "set_cover":
                    headline.append(
                        f"Headline: Shanghai walking-radius set cover, {n:,} demand x {m:,} "
                        f"candidates: ours {ours['status']} in {_num(ours['total_s'])} s "
                        f"(target: optimal in < 60 s)"
                        + ("" if spopt is None else
                           f"; spopt {spopt['status']} in {_num(spopt['total_s'])} s"))
    elapsed = time.perf_counter() - t_start
    notes = [*headline, *mismatches,
             f"Objectives agree wherever both tools have a solution: "
             f"{'no' if mismatches else 'yes'}.",
             f"Time limit {args.time_limit:.0f} s per solve, relative gap {GAP:g}; "
             f"whole run {elapsed / 60:.1f} min."]
    for line in notes:
        print(line)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "compare_spopt_only" if args.only else (
        "compare_spopt_quick" if args.quick else "compare_spopt")
    body = [HEADER, *(table_row(r) for r in rows), "", *notes, ""]
    (args.out / f"{stem}.md").write_text("\n".join(body), encoding="utf-8")
    (args.out / f"{stem}.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    plot(rows, args.out / ("scaling_only.png" if args.only else
                           "scaling_quick.png" if args.quick else "scaling.png"))
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
