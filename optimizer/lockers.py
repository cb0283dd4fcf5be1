r"""The smart-parcel-locker model: which sites, how many modules, who walks where.

The model
---------
Demand points :math:`i` (residential buildings) have :math:`d_i` daily parcels; candidate sites
:math:`j` are within walking reach :math:`N(i)` of a point when the network walk is at most the
radius (default 300 m: the 5-minute circle of GB 50180-2018). New sites open with
:math:`y_j \in \{0,1\}` and get :math:`m_j \in \mathbb{Z}_{\ge 0}` modules of :math:`K`
compartments; existing lockers stay open with their capacity :math:`Q_j` and get no modules.
A planner may *force* new sites (ArcGIS Location-Allocation's required facilities): a forced
site :math:`j \in F` opens, :math:`y_j = 1`, so by (5) it gets at least one module. Every
bound below is of the problem with the planner's forced sites.
A point's parcels may be split between lockers in its reach (:math:`x_{ij} \in [0,1]`, the
share sent to :math:`j`), as couriers do when a locker is full; :math:`z_i \in \{0,1\}` says
whether point :math:`i` is served at all.

Rule R2 (seed 004, 五(二) 公共末端工程: 智能揽投设施按照社区日均投递量的 1-1.3 倍配设格口) asks
each *community's* compartments to be :math:`\rho^- = 1.0` to :math:`\rho^+ = 1.3` times its
daily deliveries. A home :math:`i` belongs to community :math:`c(i)` or to none (:math:`0`);
:math:`D_c` is *all* the daily parcels of community :math:`c`, served or not. A new site is
*communal* when it reaches a home with a community, else *plain*. Each communal site gives
its compartments to the communities :math:`c \in C(j)` of the homes it reaches (:math:`w_{jc}
\ge 0`, one column per community met there, :math:`c = 0` for its homes without one):

.. math::

    \min\; & f \sum_{j\,\text{new}} y_j + g \sum_{j\,\text{new}} m_j                     \\
    (1)\;& \textstyle\sum_{j \in N(i)} x_{ij} = z_i  && \forall i \\
    (2)\;& x_{ij} \le y_j  && \forall i, j \in N(i) \\
    (3)\;& \rho^- L_j \le K m_j, \quad L_j := \textstyle\sum_i d_i x_{ij}  && j \text{ plain} \\
    (3')\;& L_j \le Q_j  && j \text{ existing} \\
    (4)\;& K m_j \le \rho^{+} L_j  && j \text{ plain} \\
    (5)\;& y_j \le m_j  && j \text{ new} \\
    (3a)\;& \textstyle\sum_{c \in C(j)} w_{jc} = K m_j  && j \text{ communal} \\
    (3b)\;& \rho^- L_{jc} \le w_{jc}, \quad L_{jc} := \textstyle\sum_{i: c(i) = c} d_i x_{ij}
        && j \text{ communal}, c \in C(j) \\
    (4a)\;& \textstyle\sum_{j} w_{jc} \le \rho^+ D_c  && c \ne 0 \\
    (4b)\;& w_{j0} \le \rho^+ L_{j0}  && j \text{ communal}

(4a) is R2's upper end per community on all its parcels; (3b) summed over :math:`c` gives
(3) for every locker, so a locker always has a compartment per parcel it takes (its physical
capacity), and a community fully served has at least :math:`\rho^-` compartments per daily
parcel. Homes without a community are held per locker, as a plain site holds all its homes:
(3)-(4) and (3b)/(4b). R2's lower end is held on the parcels the lockers take: a parcel no
locker takes (no site in its reach, or left out by a budget) is goal G1's shortfall, not R2's,
since a compartment for it would stand where its home cannot walk. The check
(:func:`optimizer.compliance.locker_compliance`) reads R2 the same way.
Existing lockers keep (3'), are not attributed and do not draw on (4a): their compartments
exist already; the check counts them in proportion to the parcels they take.

How it is solved
----------------
``min-cost`` (every servable point served, :math:`z_i = 1`) is decomposed exactly. Any plan's
new sites reach every point no existing locker reaches, and its new modules hold
:math:`\rho^- (D - \sum_{\text{existing}} \min(Q_j, R_j))` parcels, so

.. math:: f \cdot SC^* + g \lceil \rho^- (D - Q) / K \rceil

is a lower bound of the whole problem, where :math:`SC^*` is the set-cover bound. With forced
sites :math:`F`, :math:`SC^*` is :math:`|F|` plus the set-cover bound of the points neither an
existing locker nor a forced site reaches, and the module count is at least :math:`|F|` (one
module per forced site, (5)): both hold for every plan that opens :math:`F`. Modules sized on
that cover give a plan, not a proof: the bound of a model with its sites fixed is no bound of
the problem. The plan is proven optimal only when its cost meets the floor; otherwise the whole
model is solved, starting from that plan, and its bound is the larger of the solver's bound of
the whole model and the floor. A phase is ``optimal`` only when its objective is within the gap
tolerance of such a bound. ``max-cover`` is lexicographic: most parcels served within the
budget (phase *cover*), then least cost at that service (phase *cost*). Last, with sites and
modules fixed, a linear program routes parcels to the nearest lockers (phase *walk*).

Exact reductions
----------------
*Unusable sites.* By (4), (4a) and (4b), a new site's compartments are at most
:math:`\rho^+` times its *allowance*: the parcels of its homes without a community plus
:math:`D_c` of every community it reaches. A site whose allowance is below :math:`K/\rho^+`
can never hold one module; it is dropped. (Without communities the allowance is the parcels
in reach, the per-locker rule.)

*Candidate dominance.* With no per-site module cap, a new site :math:`a` (not forced) whose
reach set is contained in another new site :math:`b`'s can be dropped: moving its points,
modules and attribution to :math:`b` (:math:`m_b + m_a`, :math:`w_{bc} + w_{ac}`; :math:`C(a)
\subseteq C(b)`) keeps (1)–(5) and (3a)–(4b), since each is a sum over sites or holds term by
term, and never costs more (if :math:`b` is forced it is open anyway). A forced site is never
dropped; ties between equal reach sets keep a forced site, else the first site in the given
order. A forced site that can never hold one module within R2 (its allowance, above) cannot be
opened: it is left out and the plan lists it (:attr:`LockerPlan.forced_refused`).

*Parts.* (4a) links the communal sites of a community, so the homes of one community are
joined in the exact split into parts (:func:`_components`).

The floor stays valid: (3b) summed gives (3) at every new locker, so any plan's new modules
hold :math:`\rho^-` compartments per parcel they take.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from geodata.demand import UNASSIGNED
from geodata.errors import ParameterError

from .budget import in_turn, open_share_s, reserving, sharing, stage
from .locker_bounds import lift_whole_model
from .locker_search import joined_sites
from .milp import Milp, MilpResult, SolverName, solve_milp
from .models import Solution, set_cover
from .rules import R2_RATIO, WALK_RADIUS_M
from .solve_record import SolveRecord

__all__ = [
    "LockerParameters",
    "LockerProblem",
    "LockerPlan",
    "ModelSize",
    "PhaseResult",
    "dominated_sites",
    "model_size",
    "solve_lockers",
]

log = logging.getLogger(__name__)

#: Solver seconds kept for the walk phase's linear program per home-site pair: that much of a
#: run's budget is held back for it. Measured by ``python benchmarks/size_guard.py`` (column
#: ``walk s/pair`` of its entry in benchmarks/RESULTS.md): 5-19 µs per pair on the extracts and
#: tiled cities of 58 to 686,771 pairs at a load of 6-12 on 2 cores; 50 µs keeps 2.6 times the
#: slowest.
WALK_S_PER_PAIR = 5e-5

#: Share of a part's budget left after its start that is kept for its cost phase, the solve
#: that can prove the plan beyond the floor: the sizing, the join search and the cover phase
#: run without it, so a slow cover phase under load cannot leave the cost phase no time (and
#: no bound). The set cover and the start are not held back: the floor is a bound of the plan
#: only once a start serves every home.
COST_SHARE = 0.25

#: Most of a part's open budget its start and its sizing (the models on the cover's sites)
#: may each use, so the whole part's model, which can prove, gets at least a quarter.
PLAN_SHARE = 0.5

Mode = Literal["min-cost", "max-cover"]
BudgetKind = Literal["modules", "sites"]

#: Reasons written for demand that the plan does not serve: (English, Chinese) templates.
REASON_NO_SITE = ("no candidate site within {radius:g} m walk", "步行 {radius:g} 米内无候选站点")
REASON_BUDGET = (
    "left out by the budget of {budget} {kind}",
    "受预算限制未覆盖（{budget} 个{kind_zh}）",
)
REASON_TOO_SMALL = (
    "too few parcels within {radius:g} m walk to fill one locker module of {k} compartments "
    "at the R2 ratio of at most {hi:g} compartments per daily parcel",
    "步行 {radius:g} 米内件量过少：按 R2 格口数至多为日均件量的 {hi:g} 倍，"
    "配不满一个 {k} 格口的箱体模组",
)
REASON_TOO_SMALL_COMMUNITY = (
    "too few parcels to fill one locker module of {k} compartments: the sites within "
    "{radius:g} m walk reach at most {most:.1f} parcels/day, counting every daily parcel of "
    "the communities they reach, and R2 gives a community at most {hi:g} compartments per "
    "daily parcel",
    "件量过少，配不满一个 {k} 格口的箱体模组：步行 {radius:g} 米内的站点可达的件量"
    "（计入所达社区的全部日均件量）至多 {most:.1f} 件，而 R2 规定社区格口数至多为其日均件量的 "
    "{hi:g} 倍",
)
REASON_WINDOW = (
    "serving it with the homes served would break R2: no whole number of {k}-compartment "
    "modules at the sites within {radius:g} m walk keeps {lo:g}-{hi:g} compartments per daily "
    "parcel of each community (all its parcels), and per locker for homes without a community",
    "在已服务住户之外再服务该户将违反 R2：步行 {radius:g} 米内的站点无论配几个 {k} 格口模组，"
    "都无法使每个社区的格口数保持为其全部日均件量的 {lo:g}-{hi:g} 倍（无社区的住户按单个快件箱计）",
)
REASON_CAPACITY = (
    "existing lockers in reach are full and no new site can be opened",
    "可达的现有快件箱已满，且无法新增站点",
)
REASON_FORCED = (
    "the {n} required sites cannot all open, each with a module of {k} compartments, within "
    "R2's {hi:g} compartments per daily parcel of the homes and communities they reach; "
    "require fewer sites",
    "{n} 个必选点位无法各配至少一个 {k} 格口模组而不超过 R2 的上限（所达住户与社区日均件量的 "
    "{hi:g} 倍）；请减少必选点位",
)
REASON_NO_SOLUTION = (
    "the solver found no plan within the time limit ({status}); rerun with a longer --time-limit",
    "求解器在时限内未找到方案（{status}）；请加大 --time-limit 后重算",
)


@dataclass(frozen=True)
class LockerParameters:
    """Parameters of the locker model, each with its source.

    Attributes
    ----------
    radius_m
        Longest walk from a home to its locker. Default 300 m: the 5-minute walking circle of
        GB 50180-2018 (城市居住区规划设计标准), which lists express delivery among the services
        of the residential block.
    compartments_per_module
        Compartments in one locker module (one cabinet column). Default 24: a stated
        assumption for a common cabinet; override with the planner's supplier figure.
    ratio
        Compartments per average daily delivery, rule R2 (seed 004, 五(二)): 1.0 to 1.3.
    site_cost
        Cost of opening a new locker site (installation, power, network). Default 20,000 CNY,
        a stated assumption.
    module_cost
        Cost of one module. Default 6,000 CNY, a stated assumption.
    max_modules_per_site
        Physical cap on modules at one site, or ``None`` for no cap (the default; it also
        makes candidate dominance exact).
    existing_capacity
        Compartments assumed for an existing locker whose OSM tags give none. Default 60, a
        stated assumption for one common cabinet.
    """

    radius_m: float = WALK_RADIUS_M
    compartments_per_module: int = 24
    ratio: tuple[float, float] = R2_RATIO
    site_cost: float = 20_000.0
    module_cost: float = 6_000.0
    max_modules_per_site: int | None = None
    existing_capacity: float = 60.0

    def __post_init__(self) -> None:
        lo, hi = self.ratio
        faults = []
        if not self.radius_m > 0:
            faults.append(f"radius_m={self.radius_m!r} must be positive (metres of walk)")
        if not (isinstance(self.compartments_per_module, int) and self.compartments_per_module > 0):
            faults.append(
                f"compartments_per_module={self.compartments_per_module!r} must be a positive "
                "integer"
            )
        if not 0 < lo <= hi:
            faults.append(f"ratio={self.ratio!r} must satisfy 0 < low <= high (R2: 1.0 to 1.3)")
        if self.site_cost < 0 or self.module_cost < 0:
            faults.append("site_cost and module_cost must not be negative")
        if self.max_modules_per_site is not None and self.max_modules_per_site < 1:
            faults.append(f"max_modules_per_site={self.max_modules_per_site!r} must be >= 1")
        if faults:
            raise ParameterError("; ".join(faults))


@dataclass(frozen=True)
class LockerProblem:
    """A locker-siting instance in index form.

    Attributes
    ----------
    daily_parcels
        Daily parcels of each demand point, shape ``(n_demand,)``.
    pair_demand, pair_site, pair_walk_m
        The demand-site pairs within the walking radius, with their walk in metres (COO
        triplets; sites are indices into the candidate list).
    n_sites
        Number of candidate sites.
    existing
        ``True`` for existing lockers, shape ``(n_sites,)``.
    existing_capacity
        Compartments of each existing locker (ignored for new sites), shape ``(n_sites,)``.
    community
        Community id of each demand point, shape ``(n_demand,)``, or ``None`` when no point
        has one. ``None``, NaN, ``""`` and :data:`geodata.demand.UNASSIGNED` mean no community.
    forced
        ``True`` for new sites the planner forces open (each gets at least one module), shape
        ``(n_sites,)``, or ``None`` when none is forced. Ignored for existing lockers.
    """

    daily_parcels: np.ndarray
    pair_demand: np.ndarray
    pair_site: np.ndarray
    pair_walk_m: np.ndarray
    n_sites: int
    existing: np.ndarray
    existing_capacity: np.ndarray
    community: np.ndarray | None = None
    forced: np.ndarray | None = None

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return len(self.daily_parcels)

    def forced_mask(self) -> np.ndarray:
        """Return the mask of forced new sites (never an existing locker)."""
        if self.forced is None:
            return np.zeros(self.n_sites, dtype=bool)
        return np.asarray(self.forced, dtype=bool) & ~np.asarray(self.existing, dtype=bool)

    def coverage(self) -> sparse.csr_array:
        """Return the demand x site 0/1 reach matrix."""
        ones = np.ones(len(self.pair_demand))
        return sparse.csr_array(
            (ones, (self.pair_demand, self.pair_site)), shape=(self.n_demand, self.n_sites)
        )


@dataclass(frozen=True)
class PhaseResult:
    """Outcome of one lexicographic phase (``"cover"`` or ``"cost"``)."""

    name: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    build_s: float
    solve_s: float
    rows: int
    columns: int
    skipped_reason: str = ""


@dataclass(frozen=True)
class LockerPlan:
    """A solved locker plan.

    Attributes
    ----------
    status
        ``"optimal"`` when every phase was proven optimal, else the first non-optimal phase's
        status (``"time_limit"``, ``"interrupted"``, ``"infeasible"``, ...).
    objective, bound, gap
        Of the deciding phase: the cost (``min-cost``) or the parcels served (``max-cover``);
        when a phase stopped unproven, the one with the widest gap (never understated).
    sites
        Indices of open sites (existing and new), sorted.
    modules
        New modules at each site in ``sites``.
    compartments
        Compartments at each site in ``sites`` (existing capacity plus new modules).
    assignment
        The locker taking the largest share of each demand point's parcels (the nearest on a
        tie), ``-1`` when not served.
    walk_m
        Walk from each demand point to that locker (NaN when not served).
    reasons
        Why each unserved demand point is not served (empty string when served).
    reasons_zh
        The same in Chinese.
    pair_demand, pair_site, pair_share, pair_walk_m
        The allocation: the share of a demand point's parcels each locker takes, and the walk.
    attribution_site, attribution_community, attribution_compartments
        The model's attribution :math:`w_{jc}` of new lockers' compartments to the
        communities of the homes they reach (constraints (3a)-(4b)). The rest of a locker's
        compartments belongs to its homes without a community, held per locker (R2 per
        locker: in proportion to their parcels there). Empty without communities.
    phases
        One :class:`PhaseResult` per phase.
    build_s, solve_s
        Seconds spent building models and in the solver, over all phases.
    kept_sites
        Number of candidate sites left after the exact reductions.
    forced_refused
        Forced sites that cannot be opened: within the walk radius they reach fewer parcels
        than one module needs under R2's upper end (module docstring, *Unusable sites*).
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    sites: np.ndarray
    modules: np.ndarray
    compartments: np.ndarray
    assignment: np.ndarray
    walk_m: np.ndarray
    reasons: list[str]
    reasons_zh: list[str] = field(default_factory=list)
    pair_demand: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    pair_site: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    pair_share: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pair_walk_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    attribution_site: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    attribution_community: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    attribution_compartments: np.ndarray = field(default_factory=lambda: np.zeros(0))
    phases: list[PhaseResult] = field(default_factory=list)
    build_s: float = 0.0
    solve_s: float = 0.0
    kept_sites: int = 0
    forced_refused: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def solve(self) -> SolveRecord:
        """The plan's status, objective, bound, gap and times, as every tier's plan has them."""
        return SolveRecord(self.status, self.objective, self.bound, self.gap, self.build_s,
                           self.solve_s)

    def site_load(self, daily_parcels: np.ndarray) -> np.ndarray:
        """Daily parcels served at each site in ``sites``."""
        load = np.bincount(
            self.pair_site,
            weights=self.pair_share * np.asarray(daily_parcels)[self.pair_demand],
            minlength=int(self.sites.max(initial=-1)) + 1,
        )
        return load[self.sites]


def dominated_sites(problem: LockerProblem) -> np.ndarray:
    """Return a mask of new candidate sites that an exact reduction may drop.

    A new site is dominated when another new site reaches a superset of its demand points;
    among sites with equal reach sets a forced one is kept, else the first one. Sites that
    reach no demand are dominated too. A forced site (:attr:`LockerProblem.forced`) never is.

    Parameters
    ----------
    problem
        The instance.

    Returns
    -------
    numpy.ndarray
        Boolean mask over sites, ``True`` where the site can be dropped.
    """
    cover = problem.coverage()
    size = np.asarray(cover.sum(axis=0)).ravel()
    new = ~problem.existing
    forced = problem.forced_mask()
    dropped = new & (size == 0)
    cov_new = cover[:, np.flatnonzero(new & (size > 0))]
    cols = np.flatnonzero(new & (size > 0))
    if len(cols) == 0:
        return dropped & ~forced
    overlap = sparse.coo_array(cov_new.T @ cov_new)
    a, b, shared = overlap.row, overlap.col, overlap.data
    ja, jb = cols[a], cols[b]
    # a is within b when they share all of a's points; equal sets keep a forced site, else
    # the lower index.
    first = (forced[jb] & ~forced[ja]) | ((forced[jb] == forced[ja]) & (jb < ja))
    inside = (a != b) & (shared == size[ja]) & ((size[jb] > size[ja]) | first)
    dropped[ja[inside]] = True
    return dropped & ~forced


class _Layout:
    """Column offsets of the locker MILP: y, m, x, z and w (attribution to communities)."""

    def __init__(self, n_sites: int, n_new: int, n_pairs: int, n_demand: int, n_attr: int = 0
                 ) -> None:
        self.y = 0
        self.m = n_sites
        self.x = self.m + n_new
        self.z = self.x + n_pairs
        self.w = self.z + n_demand
        self.n = self.w + n_attr


@dataclass(frozen=True)
class _Reduced:
    """The instance restricted to servable demand and kept sites (indices into the original)."""

    demand: np.ndarray
    sites: np.ndarray
    parcels: np.ndarray
    pair_d: np.ndarray
    pair_s: np.ndarray
    pair_walk: np.ndarray
    existing: np.ndarray
    capacity: np.ndarray
    community: np.ndarray
    community_parcels: np.ndarray
    forced: np.ndarray

    @property
    def new_sites(self) -> np.ndarray:
        return np.flatnonzero(~self.existing)


@dataclass(frozen=True)
class _Attribution:
    """The w columns: one per (communal new site, community code) met there, sorted.

    A new site is communal when it reaches a home with a community; code -1 is the share of
    its homes without one. ``pairs`` are the pairs on communal sites, ``pair_attr`` their column.
    """

    site: np.ndarray
    code: np.ndarray
    communal: np.ndarray
    pairs: np.ndarray
    pair_attr: np.ndarray

    @staticmethod
    def of(red: _Reduced) -> _Attribution:
        width = len(red.community_parcels) + 1
        code = red.community[red.pair_d]
        communal = np.zeros(len(red.sites), dtype=bool)
        communal[red.pair_s[~red.existing[red.pair_s] & (code >= 0)]] = True
        pairs = np.flatnonzero(communal[red.pair_s])
        keys, pair_attr = np.unique(red.pair_s[pairs] * width + code[pairs] + 1,
                                    return_inverse=True)
        return _Attribution(keys // width, keys % width - 1, communal, pairs, pair_attr)

    def keys(self, sites: np.ndarray, width: int) -> np.ndarray:
        """Sort keys of the columns, with their sites renumbered by ``sites``."""
        return sites[self.site] * width + self.code + 1


def _community_codes(problem: LockerProblem) -> tuple[np.ndarray, np.ndarray]:
    """Return each home's community code (-1: none) and each code's id."""
    if problem.community is None:
        return np.full(problem.n_demand, -1), np.zeros(0, dtype=object)
    ids = np.asarray(problem.community, dtype=object)
    none = np.array([c is None or c != c or c in ("", UNASSIGNED) for c in ids], dtype=bool)
    labels, codes = np.unique(ids[~none].astype(str), return_inverse=True)
    full = np.full(problem.n_demand, -1)
    full[~none] = codes
    return full, labels


def _allowance(problem: LockerProblem, codes: np.ndarray) -> np.ndarray:
    """Return the parcels on which R2 lets each site's modules be sized.

    They are its homes without a community plus every daily parcel of each community it
    reaches (a community gets at most ``hi`` compartments per daily parcel).
    """
    parcels = np.asarray(problem.daily_parcels, dtype=float)
    own = codes[problem.pair_demand]
    allowance = np.bincount(problem.pair_site, weights=parcels[problem.pair_demand] * (own < 0),
                            minlength=problem.n_sites)
    totals = np.bincount(codes[codes >= 0], weights=parcels[codes >= 0])
    width = len(totals) + 1
    met = np.unique(problem.pair_site[own >= 0] * width + own[own >= 0])
    np.add.at(allowance, met // width, totals[met % width])
    return allowance


@dataclass(frozen=True)
class ModelSize:
    """Size of the ``min-cost`` locker model after the exact reductions.

    Attributes
    ----------
    homes, sites, pairs
        Demand points, candidate sites and home–site pairs kept.
    rows, columns
        Of the whole model (before it is split into parts).
    parts
        Independent parts of the reach graph, each solved alone.
    largest_part_pairs
        Home–site pairs of the largest part, which sets the solve time.
    """

    homes: int
    sites: int
    pairs: int
    rows: int
    columns: int
    parts: int
    largest_part_pairs: int


def model_size(problem: LockerProblem, params: LockerParameters | None = None) -> ModelSize:
    """Return the size of the ``min-cost`` model of ``problem``, built but not solved.

    Parameters
    ----------
    problem
        The instance.
    params
        Model parameters; defaults when ``None``.

    Returns
    -------
    ModelSize
        Homes, sites, pairs, rows and columns after the reductions, and the parts.
    """
    params = params or LockerParameters()
    red = _reduce(problem, params)
    if not len(red.demand):
        return ModelSize(0, len(red.sites), 0, 0, 0, 0, 0)
    milp, _ = _build(red, params, objective="cost", serve_all=True)
    parts = _components(red)
    return ModelSize(len(red.demand), len(red.sites), len(red.pair_d), *milp.shape, len(parts),
                     max(len(pairs) for _, _, pairs in parts))


def _reduce(problem: LockerProblem, params: LockerParameters) -> _Reduced:
    codes, _ = _community_codes(problem)
    parcels = np.asarray(problem.daily_parcels, dtype=float)
    # A new site needs an allowance of K / hi parcels to fill one module at the R2 ratio.
    unusable = ~problem.existing & (
        _allowance(problem, codes) < params.compartments_per_module / params.ratio[1]
    )
    # a forced site is never dominated; one that cannot hold a module is refused (LockerPlan)
    drop = unusable | (
        dominated_sites(problem) & ~problem.forced_mask()
        if params.max_modules_per_site is None
        else np.zeros(problem.n_sites, dtype=bool)
    )
    sites = np.flatnonzero(~drop)
    site_pos = np.full(problem.n_sites, -1)
    site_pos[sites] = np.arange(len(sites))
    keep = site_pos[problem.pair_site] >= 0
    pd_, ps_ = problem.pair_demand[keep], site_pos[problem.pair_site[keep]]
    demand = np.unique(pd_)
    demand_pos = np.full(problem.n_demand, -1)
    demand_pos[demand] = np.arange(len(demand))
    order = np.lexsort((ps_, demand_pos[pd_]))
    return _Reduced(
        demand=demand,
        sites=sites,
        parcels=parcels[demand],
        pair_d=demand_pos[pd_][order],
        pair_s=ps_[order],
        pair_walk=problem.pair_walk_m[keep][order],
        existing=np.asarray(problem.existing, dtype=bool)[sites],
        capacity=np.asarray(problem.existing_capacity, dtype=float)[sites],
        community=codes[demand],
        community_parcels=np.bincount(codes[codes >= 0], weights=parcels[codes >= 0]),
        forced=problem.forced_mask()[sites],
    )


def _build(
    red: _Reduced,
    params: LockerParameters,
    *,
    objective: Literal["cover", "cost", "walk"],
    budget: tuple[BudgetKind, int] | None = None,
    required: float | None = None,
    fixed_sites: np.ndarray | None = None,
    fixed_modules: np.ndarray | None = None,
    serve_all: bool = False,
) -> tuple[Milp, _Layout]:
    """Build one phase's MILP on the reduced instance, fully vectorised.

    ``fixed_sites`` (a mask over reduced sites) closes every other site but the forced ones;
    ``fixed_modules`` fixes the module counts of new sites (then the problem is a linear
    program); ``serve_all`` fixes every ``z_i`` at 1. Existing and forced sites are open.
    """
    n_sites, n_pairs, n_dem = len(red.sites), len(red.pair_d), len(red.demand)
    new = red.new_sites
    n_new = len(new)
    att = _Attribution.of(red)
    lay = _Layout(n_sites, n_new, n_pairs, n_dem, len(att.site))
    k = float(params.compartments_per_module)
    lo_ratio, hi_ratio = params.ratio
    new_pos = np.full(n_sites, -1)
    new_pos[new] = np.arange(n_new)
    pair_idx = np.arange(n_pairs)
    weights = red.parcels[red.pair_d]
    on_new = new_pos[red.pair_s] >= 0
    rows = _Rows()
    # (1) sum_j x_ij - z_i = 0   (x_ij is the share of point i's parcels sent to site j)
    rows.add(
        np.concatenate([red.pair_d, np.arange(n_dem)]),
        np.concatenate([lay.x + pair_idx, lay.z + np.arange(n_dem)]),
        np.concatenate([np.ones(n_pairs), -np.ones(n_dem)]),
        0.0,
        0.0,
    )
    # (2) x_ij - y_j <= 0
    rows.add(
        np.concatenate([pair_idx, pair_idx]),
        np.concatenate([lay.x + pair_idx, lay.y + red.pair_s]),
        np.concatenate([np.ones(n_pairs), -np.ones(n_pairs)]),
        -np.inf,
        0.0,
    )
    # (3) lo * L_j - K m_j <= 0 (plain new); (3') L_j <= Q_j (existing)
    plain = np.flatnonzero(~red.existing & ~att.communal)
    sel = np.flatnonzero(~att.communal[red.pair_s])
    rows.add(
        np.concatenate([red.pair_s[sel], plain]),
        np.concatenate([lay.x + sel, lay.m + new_pos[plain]]),
        np.concatenate([np.where(on_new[sel], lo_ratio, 1.0) * weights[sel],
                        -k * np.ones(len(plain))]),
        -np.inf,
        np.where(red.existing, red.capacity, 0.0),
    )
    # (4) K m_j - hi * L_j <= 0 (plain new)
    plain_pos = np.full(n_sites, -1)
    plain_pos[plain] = np.arange(len(plain))
    sel = np.flatnonzero(plain_pos[red.pair_s] >= 0)
    rows.add(
        np.concatenate([plain_pos[red.pair_s[sel]], np.arange(len(plain))]),
        np.concatenate([lay.x + sel, lay.m + new_pos[plain]]),
        np.concatenate([-hi_ratio * weights[sel], k * np.ones(len(plain))]),
        -np.inf,
        np.zeros(len(plain)),
    )
    _attribution_rows(rows, red, params, att, lay, new_pos)
    # (5) y_j - m_j <= 0 (new); with a cap also m_j - M y_j <= 0
    twice = np.concatenate([np.arange(n_new), np.arange(n_new)])
    rows.add(
        twice,
        np.concatenate([lay.y + new, lay.m + np.arange(n_new)]),
        np.concatenate([np.ones(n_new), -np.ones(n_new)]),
        -np.inf,
        np.zeros(n_new),
    )
    if params.max_modules_per_site is not None:
        rows.add(
            twice,
            np.concatenate([lay.m + np.arange(n_new), lay.y + new]),
            np.concatenate([np.ones(n_new), -float(params.max_modules_per_site) * np.ones(n_new)]),
            -np.inf,
            np.zeros(n_new),
        )
    if budget is not None:
        kind, amount = budget
        cols = lay.y + new if kind == "sites" else lay.m + np.arange(n_new)
        rows.add(np.zeros(n_new, dtype=int), cols, np.ones(n_new), -np.inf, float(amount))
    if required is not None:
        rows.add(
            np.zeros(n_dem, dtype=int), lay.z + np.arange(n_dem), red.parcels, required, np.inf
        )

    cost = np.zeros(lay.n)
    if objective == "cover":
        cost[lay.z : lay.z + n_dem] = -red.parcels
    elif objective == "cost":
        cost[lay.y + new] = params.site_cost
        cost[lay.m : lay.m + n_new] = params.module_cost
    else:
        cost[lay.x : lay.x + n_pairs] = weights * red.pair_walk
    col_lower = np.zeros(lay.n)
    col_upper = np.ones(lay.n)
    col_lower[lay.y + np.flatnonzero(red.existing | red.forced)] = 1.0  # existing, forced open
    col_upper[lay.m : lay.m + n_new] = np.inf
    col_upper[lay.w :] = np.inf
    if fixed_sites is not None:
        col_upper[lay.y + np.flatnonzero(~fixed_sites & ~red.forced)] = 0.0
    if fixed_modules is not None:
        col_lower[lay.m : lay.m + n_new] = fixed_modules
        col_upper[lay.m : lay.m + n_new] = fixed_modules
        col_lower[lay.y + new] = col_upper[lay.y + new] = (fixed_modules > 0).astype(float)
    if serve_all:
        col_lower[lay.z : lay.z + n_dem] = 1.0
    integrality = np.zeros(lay.n, dtype=bool)
    if fixed_modules is None:
        integrality[: lay.x] = True
        integrality[lay.z : lay.z + n_dem] = not serve_all
    lower, upper = rows.bounds()
    milp = Milp(
        c=cost,
        a=rows.matrix(lay.n),
        row_lower=lower,
        row_upper=upper,
        col_lower=col_lower,
        col_upper=col_upper,
        integrality=integrality,
    )
    return milp, lay


def _attribution_rows(
    rows: _Rows,
    red: _Reduced,
    params: LockerParameters,
    att: _Attribution,
    lay: _Layout,
    new_pos: np.ndarray,
) -> None:
    """Add (3a)-(4b): R2 per community on the communal new sites (module docstring)."""
    n_attr = len(att.site)
    if not n_attr:
        return
    k, (lo, hi) = float(params.compartments_per_module), params.ratio
    weights = red.parcels[red.pair_d[att.pairs]]
    communal = np.flatnonzero(att.communal)
    pos = np.full(len(red.sites), -1)
    pos[communal] = np.arange(len(communal))
    cols = lay.w + np.arange(n_attr)
    # (3a) sum_c w_jc - K m_j = 0
    rows.add(np.concatenate([pos[att.site], np.arange(len(communal))]),
             np.concatenate([cols, lay.m + new_pos[communal]]),
             np.concatenate([np.ones(n_attr), -k * np.ones(len(communal))]), 0.0, 0.0)
    # (3b) lo * L_jc - w_jc <= 0
    rows.add(np.concatenate([att.pair_attr, np.arange(n_attr)]),
             np.concatenate([lay.x + att.pairs, cols]),
             np.concatenate([lo * weights, -np.ones(n_attr)]), -np.inf, np.zeros(n_attr))
    # (4b) w_j0 - hi * L_j0 <= 0, the share of homes without a community
    none = np.flatnonzero(att.code < 0)
    if len(none):
        none_pos = np.full(n_attr, -1)
        none_pos[none] = np.arange(len(none))
        sel = np.flatnonzero(none_pos[att.pair_attr] >= 0)
        rows.add(np.concatenate([none_pos[att.pair_attr[sel]], np.arange(len(none))]),
                 np.concatenate([lay.x + att.pairs[sel], lay.w + none]),
                 np.concatenate([-hi * weights[sel], np.ones(len(none))]),
                 -np.inf, np.zeros(len(none)))
    # (4a) sum_j w_jc <= hi * D_c, D_c all the community's daily parcels
    some = np.flatnonzero(att.code >= 0)
    codes, row = np.unique(att.code[some], return_inverse=True)
    rows.add(row, lay.w + some, np.ones(len(some)), -np.inf, hi * red.community_parcels[codes])


class _Rows:
    """Collects blocks of constraint rows as COO triplets with their bounds."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.count = 0

    def add(
        self,
        r: np.ndarray,
        c: np.ndarray,
        v: np.ndarray,
        lo: float | np.ndarray,
        hi: float | np.ndarray,
    ) -> None:
        n = int(r.max()) + 1 if len(r) else 0
        n = max(n, np.size(lo) if np.ndim(lo) else 0, np.size(hi) if np.ndim(hi) else 0)
        self.parts.append((r + self.count, c, v))
        self.lower.append(np.broadcast_to(np.asarray(lo, dtype=float), (n,)))
        self.upper.append(np.broadcast_to(np.asarray(hi, dtype=float), (n,)))
        self.count += n

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.lower), np.concatenate(self.upper)

    def matrix(self, n_cols: int) -> sparse.csr_array:
        r = np.concatenate([p[0] for p in self.parts])
        c = np.concatenate([p[1] for p in self.parts])
        v = np.concatenate([p[2] for p in self.parts])
        return sparse.csr_array((v, (r, c)), shape=(self.count, n_cols))


def _set_cover_sites(
    red: _Reduced,
    params: LockerParameters,
    *,
    solver: SolverName,
    time_limit: float | None,
    gap: float,
) -> tuple[np.ndarray, Solution]:
    """Fewest new sites reaching every point that no existing locker reaches (proven).

    The forced sites are open: the cover is theirs plus the fewest other new sites reaching
    the points neither they nor an existing locker reach; its objective and bound count them.
    """
    n_dem, n_sites = len(red.demand), len(red.sites)
    cover = sparse.csr_array(
        (np.ones(len(red.pair_d)), (red.pair_d, red.pair_s)), shape=(n_dem, n_sites)
    )
    by_open = np.asarray(
        cover[:, np.flatnonzero(red.existing | red.forced)].sum(axis=1)).ravel() > 0
    new = np.flatnonzero(~red.existing & ~red.forced)
    with stage("sites"):
        sol = set_cover(cover[np.flatnonzero(~by_open)][:, new], solver=solver,
                        time_limit=time_limit, gap=gap)
    chosen = red.forced.copy()
    chosen[new[sol.open_sites]] = True
    n_forced = int(red.forced.sum())
    if n_forced:
        sol = replace(sol, objective=None if sol.objective is None else sol.objective + n_forced,
                      bound=None if sol.bound is None else sol.bound + n_forced)
    return chosen, sol


def _module_floor(red: _Reduced, params: LockerParameters) -> int:
    """Fewest new modules any plan serving every point needs: ceil(lo * (D - Q) / K).

    At least one per forced site, too (constraint (5)).
    """
    n_sites = len(red.sites)
    reach = np.bincount(red.pair_s, weights=red.parcels[red.pair_d], minlength=n_sites)
    held = np.minimum(red.capacity, reach)[red.existing].sum()
    need = params.ratio[0] * max(0.0, float(red.parcels.sum()) - held)
    return max(int(red.forced.sum()), int(np.ceil(need / params.compartments_per_module - 1e-9)))


def _solve(
    name: str,
    milp: Milp,
    *,
    solver: SolverName,
    time_limit: float | None,
    gap: float,
    start: np.ndarray | None = None,
    share: float = 1.0,
) -> MilpResult:
    """Solve one model of the phase ``name`` (the label of its progress and budget use).

    ``share`` is the most of the open budget the call may use (:func:`optimizer.budget.sharing`).
    """
    with stage(name), sharing(share):
        return solve_milp(milp, solver=solver, time_limit=time_limit, gap=gap, start=start)


def _phase(
    name: str,
    res: MilpResult,
    milp: Milp,
    build_s: float,
    *,
    sign: float = 1.0,
    bound: float | None = None,
    gap_tol: float = 1e-6,
    note: str = "",
) -> PhaseResult:
    objective = None if res.objective is None else sign * res.objective
    best = None if res.bound is None else sign * res.bound
    if bound is not None:
        best = bound if best is None else max(best, bound)
    gap = None
    if objective is not None and best is not None:
        gap = (
            max(0.0, (objective - best) / max(abs(objective), 1e-9))
            if sign > 0
            else max(0.0, (best - objective) / max(abs(best), 1e-9))
        )
    status = res.status
    if status in ("time_limit", "work_limit", "interrupted") and gap is not None and gap <= gap_tol:
        status = "optimal"
    log.info(
        "locker phase %s: %s, objective %s, bound %s, %d rows x %d cols, build %.2f s, "
        "solve %.2f s",
        name,
        status,
        objective,
        best,
        *milp.shape,
        build_s,
        res.solve_s,
    )
    return PhaseResult(
        name, status, objective, best, gap, build_s, res.solve_s, *milp.shape, skipped_reason=note
    )


def solve_lockers(
    problem: LockerProblem,
    params: LockerParameters | None = None,
    *,
    mode: Mode = "min-cost",
    budget: int | None = None,
    budget_kind: BudgetKind = "modules",
    solver: SolverName = "highs",
    time_limit: float | None = 60.0,
    gap: float = 1e-6,
) -> LockerPlan:
    """Site lockers and size them under rule R2; see the module docstring for the model.

    Parameters
    ----------
    problem
        The instance.
    params
        Model parameters; defaults documented on :class:`LockerParameters`.
    mode
        ``"min-cost"``: serve every point that can be served, at least cost. ``"max-cover"``:
        serve the most parcels within ``budget``, then at least cost.
    budget
        Most new modules (or new sites, see ``budget_kind``); required for ``max-cover``.
    budget_kind
        What ``budget`` counts: ``{"modules", "sites"}``.
    solver
        ``{"highs", "cbc"}``.
    time_limit
        Seconds per solver call before it stops with its incumbent; inside a
        :class:`optimizer.budget.SolveBudget` each call also gets at most what is left of
        the run's budget, and a stop request ends each MIP at its incumbent
        (status ``"interrupted"``).
    gap
        Relative gap at which a phase counts as optimal.

    Returns
    -------
    LockerPlan
        The plan with its status, bound, gap and the reason for each unserved point.

    Raises
    ------
    ParameterError
        If the mode, budget or solver is invalid, or the budget cannot open the forced sites.
    """
    params = params or LockerParameters()
    if mode not in ("min-cost", "max-cover"):
        raise ParameterError(f"mode={mode!r} is unknown; use 'min-cost' or 'max-cover'")
    if mode == "max-cover" and budget is None:
        raise ParameterError("mode='max-cover' needs a budget (--budget N)")
    if budget is not None and budget < 0:
        raise ParameterError(f"budget={budget!r} must not be negative")
    if budget_kind not in ("modules", "sites"):
        raise ParameterError(f"budget_kind={budget_kind!r} must be 'modules' or 'sites'")
    limit = (budget_kind, int(budget)) if budget is not None else None
    forced = int(problem.forced_mask().sum())
    if budget is not None and budget < forced:
        raise ParameterError(f"budget={budget!r} {budget_kind} is below the {forced} forced "
                             "sites, each opened with a module: raise the budget")
    opts = {"solver": solver, "time_limit": time_limit, "gap": gap}

    t0 = time.perf_counter()
    red = _reduce(problem, params)
    log.info(
        "locker reductions: %d of %d sites kept, %d of %d demand points in reach of a usable "
        "site, %d pairs (%.2f s)",
        len(red.sites),
        problem.n_sites,
        len(red.demand),
        problem.n_demand,
        len(red.pair_d),
        time.perf_counter() - t0,
    )
    phases: list[PhaseResult] = []
    x = lay = None
    with reserving(WALK_S_PER_PAIR * len(red.pair_d)):  # the walk phase's slice of the run
        if mode == "min-cost" and len(red.demand):
            x, lay, status = _min_cost_by_component(red, params, phases, opts)
        if x is None and len(red.demand):
            x, lay, status = _lexicographic(red, params, limit, phases, opts)
    if x is None or lay is None:
        status = phases[-1].status if phases else "optimal"
        return _plan_from(problem, red, params, None, None, status, phases, mode, limit)
    x = _shortest_walks(red, params, x, lay, phases, opts)
    return _plan_from(problem, red, params, x, lay, status, phases, mode, limit)


def _components(red: _Reduced) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Return the demand, site and pair indices of each connected part of the reach graph.

    The homes of one community are joined too (their community's R2 allowance (4a) links
    them). Parts share no home, no site and no community, so ``min-cost`` (most parcels, then
    least cost) splits exactly: the plan of the whole is the union of the parts' plans, its
    cost and its bound the sums of theirs. Parts without demand (an unused existing locker)
    are left out.
    """
    n, n_sites = len(red.demand), len(red.sites)
    size = n + n_sites + len(red.community_parcels)
    member = np.flatnonzero(red.community >= 0)
    graph = sparse.coo_array(
        (np.ones(len(red.pair_d) + len(member)),
         (np.r_[red.pair_d, member], np.r_[n + red.pair_s, n + n_sites + red.community[member]])),
        shape=(size, size),
    )
    _, label = connected_components(graph, directed=False)
    by_label = np.argsort(label, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(label[by_label]) != 0])
    pair_label = label[red.pair_d]
    parts = []
    for members in np.split(by_label, starts[1:]):
        demand = members[members < n]
        if len(demand):
            sites = members[(members >= n) & (members < n + n_sites)] - n
            parts.append((demand, sites, np.flatnonzero(pair_label == label[demand[0]])))
    return parts


def _part(red: _Reduced, demand: np.ndarray, sites: np.ndarray, pairs: np.ndarray) -> _Reduced:
    """Return the instance restricted to one part (indices into ``red``)."""
    dpos = np.full(len(red.demand), -1)
    dpos[demand] = np.arange(len(demand))
    spos = np.full(len(red.sites), -1)
    spos[sites] = np.arange(len(sites))
    return _Reduced(red.demand[demand], red.sites[sites], red.parcels[demand],
                    dpos[red.pair_d[pairs]], spos[red.pair_s[pairs]], red.pair_walk[pairs],
                    red.existing[sites], red.capacity[sites], red.community[demand],
                    red.community_parcels, red.forced[sites])


def _min_cost_by_component(
    red: _Reduced, params: LockerParameters, phases: list[PhaseResult], opts: dict
) -> tuple[np.ndarray | None, _Layout | None, str]:
    """Solve ``min-cost`` part by part (:func:`_components`) and join the parts' plans."""
    parts = _components(red)
    if len(parts) < 2:
        return _min_cost(red, params, phases, opts)
    new_pos = np.full(len(red.sites), -1)
    new_pos[red.new_sites] = np.arange(len(red.new_sites))
    att, width = _Attribution.of(red), len(red.community_parcels) + 1
    whole = att.keys(np.arange(len(red.sites)), width)
    lay = _Layout(len(red.sites), len(red.new_sites), len(red.pair_d), len(red.demand),
                  len(att.site))
    x = np.zeros(lay.n)
    x[lay.y + np.flatnonzero(red.existing)] = 1.0
    solved = []
    for demand, sites, pairs in in_turn(parts, size=lambda part: len(part[2])):  # small first
        sub = _part(red, demand, sites, pairs)
        own: list[PhaseResult] = []
        xs, ls, status = _min_cost(sub, params, own, opts)
        if xs is None or ls is None:
            return _min_cost(red, params, phases, opts)
        x[lay.y + sites] = xs[ls.y : ls.m]
        x[lay.m + new_pos[sites[sub.new_sites]]] = xs[ls.m : ls.x]
        x[lay.x + pairs] = xs[ls.x : ls.z]
        x[lay.z + demand] = xs[ls.z : ls.w]
        x[lay.w + np.searchsorted(whole, _Attribution.of(sub).keys(sites, width))] = xs[ls.w :]
        solved.append((own, float(sub.parcels.sum()), status))
    joined = _joined_phases(solved, opts["gap"])
    phases.extend(joined)
    status = next((p.status for p in joined if p.status != "optimal"), "optimal")
    log.info("locker plan joined from %d independent parts: %s", len(parts), status)
    return x, lay, status


def _joined_phases(
    solved: list[tuple[list[PhaseResult], float, str]], gap_tol: float
) -> list[PhaseResult]:
    """Sum the parts' phases into one ``cover`` (if any part had one) and one ``cost`` phase.

    A part solved without a cover phase served all its parcels, so it adds them to the cover
    phase's objective and bound alike.
    """
    joined = []
    for name in ("cover", "cost"):
        if name == "cover" and not any(p.name == "cover" for own, _, _ in solved for p in own):
            continue
        objective = bound = 0.0
        known, status, times, rows, cols = True, "optimal", [0.0, 0.0], 0, 0
        for own, parcels, _ in solved:
            phase = next((p for p in own if p.name == name), None)
            if phase is None:
                objective += parcels if name == "cover" else 0.0
                bound += parcels if name == "cover" else 0.0
                continue
            objective += phase.objective or 0.0
            known = known and phase.bound is not None
            bound += phase.bound or 0.0
            if phase.status != "optimal" and status != "interrupted":
                status = phase.status  # a part stopped on request marks the whole phase
            times = [times[0] + phase.build_s, times[1] + phase.solve_s]
            rows, cols = rows + phase.rows, cols + phase.columns
        gap = None
        if known:
            slack = objective - bound if name == "cost" else bound - objective
            gap = max(0.0, slack / max(abs(bound if name == "cover" else objective), 1e-9))
            status = "optimal" if gap <= gap_tol else status
        joined.append(PhaseResult(name, status, objective, bound if known else None, gap,
                                  times[0], times[1], rows, cols,
                                  skipped_reason=f"summed over {len(solved)} independent parts"))
    return joined


def _min_cost(
    red: _Reduced, params: LockerParameters, phases: list[PhaseResult], opts: dict
) -> tuple[np.ndarray | None, _Layout | None, str]:
    """Serve every servable point at least cost: a cheap plan first, proven by a valid floor.

    Modules sized on a proven-minimal set cover give a plan; it is proven optimal only when
    its cost meets the floor of :func:`_cost_floor`, a lower bound of the *whole* problem.
    Otherwise the whole model is solved from that plan, the floor kept as a bound. Under the
    R2 window some points in reach cannot be served at all (a lone load of 30 parcels a day
    fits neither one module of 24 nor two at 1.3 compartments per parcel); when the cover
    cannot serve everything, the whole model is solved lexicographically from its plan.
    """
    t0 = time.perf_counter()
    chosen, cover_res = _set_cover_sites(red, params, **opts)
    fixed = chosen | red.existing
    milp, lay = _build(red, params, objective="cover", fixed_sites=fixed)
    # a start on the cover's sites; serving every home, it makes the floor a bound of the plan
    most = _solve("start", milp, share=PLAN_SHARE, **opts)
    keep = open_share_s(COST_SHARE)  # the cost phase's slice, kept from the calls up to it
    floor = _cost_floor(red, params, cover_res)
    if most.x is None or -(most.objective or 0.0) < float(red.parcels.sum()) * (1 - 1e-9):
        return _lexicographic(red, params, None, phases, opts, start=most.x, floor=floor,
                              keep=keep)
    with reserving(keep):
        milp, lay = _build(red, params, objective="cost", fixed_sites=fixed, serve_all=True)
        sized = _solve("cost", milp, start=most.x, share=PLAN_SHARE, **opts)
        start = sized.x if sized.x is not None else most.x
        if sized.objective is not None and floor is not None and sized.objective <= floor + max(
            opts["gap"] * abs(sized.objective), 1e-6
        ):
            build_s = time.perf_counter() - t0
            phases.append(_proven_by_floor(sized, milp, build_s, floor))
            return sized.x, lay, "optimal"
        # The floor was not met by that plan: join its isolated groups, then solve the whole model.
        start = _joined_start(red, params, start[lay.y : lay.m] > 0.5, start, opts)
    t0 = time.perf_counter()
    milp, lay = _build(red, params, objective="cost", serve_all=True)
    milp = lift_whole_model(milp, red, lay, params, sites_floor=cover_res.bound,
                            open_sites=start[lay.y : lay.m] > 0.5)
    build_s = time.perf_counter() - t0
    full = _solve("cost", milp, start=start, **opts)
    if full.x is None:
        full = replace(full, x=start, objective=float(milp.c @ start))
    phases.append(_phase("cost", full, milp, build_s, bound=floor, gap_tol=opts["gap"]))
    return full.x, lay, phases[-1].status


def _joined_start(
    red: _Reduced, params: LockerParameters, open_sites: np.ndarray, start: np.ndarray,
    opts: dict
) -> np.ndarray:
    """Return a cheaper start of the whole cost model on joined groups of sites, or ``start``.

    ``start`` is a plan of the cost model (:func:`_build` with ``serve_all``) opening
    ``open_sites``; so is the plan returned (:func:`optimizer.locker_search.joined_sites`
    picks its sites).
    """
    joined = joined_sites(red, params, open_sites, time_limit=opts["time_limit"])
    if joined is None:
        return start
    milp, lay = _build(red, params, objective="cost", fixed_sites=joined, serve_all=True)
    milp = lift_whole_model(milp, red, lay, params, sites_floor=None, open_sites=joined)
    better = _solve("start", milp, **opts)
    if better.x is not None and float(milp.c @ better.x) < float(milp.c @ start) - 1e-6:
        return better.x
    return start


def _cost_floor(red: _Reduced, params: LockerParameters, cover: Solution) -> float | None:
    """Return a lower bound of the whole min-cost problem: f * (cover bound) + g * module floor.

    Any plan's new sites reach every point no existing locker reaches (at least the set
    cover's proven bound, rounded up to whole sites), and its new modules hold every parcel
    the existing lockers cannot (:func:`_module_floor`). ``None`` when the cover has no bound.
    """
    if cover.bound is None:
        return None
    sites_floor = np.ceil(cover.bound - 1e-6)
    return float(params.site_cost * sites_floor + params.module_cost * _module_floor(red, params))


def _proven_by_floor(res: MilpResult, milp: Milp, build_s: float, floor: float) -> PhaseResult:
    """Record the cost phase of a plan whose cost meets the floor: optimal by the floor alone."""
    objective = float(res.objective or 0.0)
    gap = max(0.0, (objective - floor) / max(abs(objective), 1e-9))
    log.info("locker phase cost: optimal by the valid floor %s, objective %s", floor, objective)
    return PhaseResult("cost", "optimal", objective, floor, gap, build_s, res.solve_s,
                       *milp.shape, skipped_reason="cost meets the valid floor of the whole model")


def _lexicographic(
    red: _Reduced,
    params: LockerParameters,
    limit: tuple[BudgetKind, int] | None,
    phases: list[PhaseResult],
    opts: dict,
    *,
    start: np.ndarray | None = None,
    floor: float | None = None,
    keep: float | None = None,
) -> tuple[np.ndarray | None, _Layout | None, str]:
    """Serve the most parcels (within the budget), then at least cost.

    ``floor`` (:func:`_cost_floor`) bounds the cost phase when the cover phase's plan serves
    every parcel: the floor holds for any plan that does. ``keep`` is the cost phase's slice
    of the run's seconds, kept from the cover phase (default: :data:`COST_SHARE` of the
    seconds open now).
    """
    t0 = time.perf_counter()
    milp, lay = _build(red, params, objective="cover", budget=limit)
    build_s = time.perf_counter() - t0
    with reserving(open_share_s(COST_SHARE) if keep is None else keep):
        res = _solve("cover", milp, start=start, **opts)
    phases.append(_phase("cover", res, milp, build_s, sign=-1.0, gap_tol=opts["gap"]))
    if res.x is None:
        return None, None, res.status
    served = float(red.parcels @ res.x[lay.z : lay.z + len(red.demand)])
    t0 = time.perf_counter()
    milp2, lay2 = _build(red, params, objective="cost", budget=limit, required=served * (1 - 1e-9))
    build_s = time.perf_counter() - t0
    res2 = _solve("cost", milp2, start=res.x, **opts)
    status = phases[-1].status
    if res2.x is None:
        return res.x, lay, status
    everything = served >= float(red.parcels.sum()) * (1 - 1e-9)
    phases.append(_phase("cost", res2, milp2, build_s, bound=floor if everything else None,
                         gap_tol=opts["gap"]))
    return res2.x, lay2, status if status != "optimal" else phases[-1].status


def _shortest_walks(
    red: _Reduced,
    params: LockerParameters,
    x: np.ndarray,
    lay: _Layout,
    phases: list[PhaseResult],
    opts: dict,
) -> np.ndarray:
    """Re-route parcels to the nearest lockers with sites, modules and service fixed (an LP)."""
    n_new = len(red.new_sites)
    modules = np.rint(x[lay.m : lay.m + n_new])
    sites = x[lay.y : lay.y + len(red.sites)] > 0.5
    t0 = time.perf_counter()
    milp, lay2 = _build(red, params, objective="walk", fixed_sites=sites, fixed_modules=modules)
    col_lower, col_upper = milp.col_lower.copy(), milp.col_upper.copy()
    col_lower[lay2.z : lay2.w] = col_upper[lay2.z : lay2.w] = np.rint(x[lay.z : lay.w])
    milp = replace(milp, col_lower=col_lower, col_upper=col_upper)
    build_s = time.perf_counter() - t0
    res = _solve("walk", milp, **opts)
    if res.x is None:
        return x
    phases.append(
        _phase(
            "walk",
            res,
            milp,
            build_s,
            note="parcel-metres walked, with sites, modules and service fixed",
        )
    )
    return res.x


def _plan_from(
    problem: LockerProblem,
    red: _Reduced,
    params: LockerParameters,
    x: np.ndarray | None,
    lay: _Layout | None,
    status: str,
    phases: list[PhaseResult],
    mode: Mode,
    limit: tuple[BudgetKind, int] | None,
) -> LockerPlan:
    k = params.compartments_per_module
    n = problem.n_demand
    parcels = np.asarray(problem.daily_parcels, dtype=float)
    modules = np.zeros(problem.n_sites, dtype=int)
    share = np.zeros(0)
    pair_d = pair_s = np.zeros(0, dtype=int)
    if x is not None and lay is not None:
        share = x[lay.x : lay.x + len(red.pair_d)]
        keep = share > 1e-7
        pair_d, pair_s, share = (
            red.demand[red.pair_d[keep]],
            red.sites[red.pair_s[keep]],
            share[keep],
        )
        modules[red.sites[red.new_sites]] = np.rint(x[lay.m : lay.m + len(red.new_sites)])
    served_share = np.bincount(pair_d, weights=share, minlength=n)
    # primary locker: the one taking the largest share (ties: the nearest, then lowest index)
    walk_lookup = sparse.csr_array(
        (problem.pair_walk_m + 1.0, (problem.pair_demand, problem.pair_site)),
        shape=(n, problem.n_sites),
    )
    pair_walk = (
        np.asarray(walk_lookup[pair_d, pair_s]).ravel() - 1.0 if len(pair_d) else np.zeros(0)
    )
    order = np.lexsort((pair_s, pair_walk, -np.round(share, 9), pair_d))
    first = order[np.r_[True, pair_d[order][1:] != pair_d[order][:-1]]] if len(order) else order
    assignment = np.full(n, -1)
    walk = np.full(n, np.nan)
    assignment[pair_d[first]] = pair_s[first]
    walk[pair_d[first]] = pair_walk[first]
    served = served_share > 0.5
    assignment[~served] = -1
    walk[~served] = np.nan

    load = np.bincount(pair_s, weights=share * parcels[pair_d], minlength=problem.n_sites)
    open_mask = np.asarray(problem.existing, dtype=bool) | (modules > 0) | (load > 1e-9)
    sites = np.flatnonzero(open_mask)
    capacity = np.where(problem.existing, problem.existing_capacity, 0.0)
    attribution = _attributed(problem, red, x, lay)
    reasons, reasons_zh = _reasons(problem, red, params, served, x is None, status,
                                   limit if mode == "max-cover" else None)
    # The plan is judged by the unproven phase with the widest gap (its gap is the plan's);
    # when all are proven, by the phase the mode optimises.
    ranked = [p for p in phases if p.name in ("cover", "cost")]
    unproven = sorted(
        (p for p in ranked if p.status != "optimal"),
        key=lambda p: -np.inf if p.gap is None else -p.gap,
    )
    deciding = [p for p in ranked if p.name == ("cover" if mode == "max-cover" else "cost")]
    decisive = unproven[0] if unproven else (deciding[-1] if deciding else None)
    return LockerPlan(
        status=status,
        objective=decisive.objective if decisive else 0.0,
        bound=decisive.bound if decisive else 0.0,
        gap=decisive.gap if decisive else 0.0,
        sites=sites,
        modules=modules[sites],
        compartments=capacity[sites] + k * modules[sites],
        assignment=assignment,
        walk_m=walk,
        reasons=reasons,
        reasons_zh=reasons_zh,
        pair_demand=pair_d,
        pair_site=pair_s,
        pair_share=share,
        pair_walk_m=pair_walk,
        attribution_site=attribution[0],
        attribution_community=attribution[1],
        attribution_compartments=attribution[2],
        phases=phases,
        build_s=sum(p.build_s for p in phases),
        solve_s=sum(p.solve_s for p in phases),
        kept_sites=len(red.sites),
        forced_refused=np.setdiff1d(np.flatnonzero(problem.forced_mask()), red.sites),
    )


def _attributed(
    problem: LockerProblem, red: _Reduced, x: np.ndarray | None, lay: _Layout | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (site, community id, compartments) of the model's attribution :math:`w_{jc}`.

    The rest of a new locker's compartments is the share of its homes without a community
    (:math:`w_{j0}`, all of a plain site's). Empty when there is no plan.
    """
    if x is None or lay is None:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=object), np.zeros(0)
    _, labels = _community_codes(problem)
    att = _Attribution.of(red)
    w = x[lay.w : lay.n]
    some = (att.code >= 0) & (w > 1e-9)
    return red.sites[att.site[some]], labels[att.code[some]].astype(object), w[some]


def _reasons(
    problem: LockerProblem,
    red: _Reduced,
    params: LockerParameters,
    served: np.ndarray,
    unsolved: bool,
    status: str,
    limit: tuple[BudgetKind, int] | None,
) -> tuple[list[str], list[str]]:
    """Why each unserved home is not served, in English and Chinese ("" when served)."""
    n, k, (lo, hi) = problem.n_demand, params.compartments_per_module, params.ratio
    codes, _ = _community_codes(problem)
    allowance = _allowance(problem, codes)
    kept_new = np.zeros(problem.n_sites, dtype=bool)
    kept_new[red.sites[red.new_sites]] = True
    usable = np.zeros(n, dtype=bool)
    usable[red.demand] = True
    reasons, reasons_zh = [""] * n, [""] * n
    for i in np.flatnonzero(~served):
        sites = problem.pair_site[problem.pair_demand == i]
        args: dict = {"radius": params.radius_m, "k": k, "lo": lo, "hi": hi}
        if not len(sites):
            why = REASON_NO_SITE
        elif unsolved and usable[i] and status == "infeasible" and red.forced.any():
            why, args = REASON_FORCED, {"n": int(red.forced.sum()), "k": k, "hi": hi}
        elif unsolved and usable[i]:
            why, args = REASON_NO_SOLUTION, {"status": status}
        elif limit is not None and usable[i]:
            why, args = REASON_BUDGET, {"budget": limit[1], "kind": limit[0],
                                        "kind_zh": {"modules": "模组", "sites": "站点"}[limit[0]]}
        elif usable[i] and not kept_new[sites].any():
            why = REASON_CAPACITY
        elif usable[i]:
            why = REASON_WINDOW
        else:
            why = REASON_TOO_SMALL if codes[i] < 0 else REASON_TOO_SMALL_COMMUNITY
            args["most"] = float(allowance[sites].max())
        reasons[i], reasons_zh[i] = (text.format(**args) for text in why)
    return reasons, reasons_zh
