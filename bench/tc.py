"""Benchmark: exact True Contribution for one era vs cvxpy's ``requires_grad`` derivative.

One synthetic era: n stocks, m models, sector one-hots + dense factor neutralities, a factor risk
model, position bounds and an active gross cap. In one run it times

1. Kardashev optimize + backward (``vjp``) for the era's meta model (fast path),
2. the whole era's TC for every model, including gaussianizing the predictions,
3. TC averaged over stake-dropout bags (warm starts, gaussianized predictions shared),
4. cvxpy ``solve(requires_grad=True)`` + ``backward()`` (diffcp/SCS) on the same problem,

and prints the ratio, plus the gradient agreement against a high-accuracy reference (the generic
path: Clarabel + active-set polish, exact KKT backward), against cvxpy, and against central finite
differences on the stakes through re-solves.

    .venv/bin/python bench/tc.py                       # full size: 5000 stocks, 2000 models
    .venv/bin/python bench/tc.py --n-stocks 1000 --n-models 200 --bags 20   # quick
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

import cvxpy as cp
import numpy as np
import scipy.linalg

from kardashev.contribution import true_contribution
from kardashev.contribution.true_contribution import standardization_vjp
from kardashev.metamodel import gaussianize_predictions, standardize
from kardashev.portfolio import OptimizerConfig, RiskModel, optimize
from kardashev.portfolio.basis import clear_cache
from kardashev.scoring import gaussianize


def make_era(n_stocks: int, n_models: int, n_sectors: int, n_factors: int, seed: int) -> dict:
    """A synthetic era with planted signal, a factor risk model and staked models."""
    rng = np.random.default_rng(seed)
    sectors = rng.integers(0, n_sectors, n_stocks)
    sector_one_hot = np.zeros((n_stocks, n_sectors))
    sector_one_hot[np.arange(n_stocks), sectors] = 1.0
    factors = rng.standard_normal((n_stocks, n_factors))
    exposures = np.column_stack([sector_one_hot, factors])
    factor_covariance = np.diag(rng.uniform(0.5, 2.0, n_factors)) * 0.02**2
    specific_variance = rng.uniform(0.5, 2.0, n_stocks) * 0.03**2
    risk_model = RiskModel(
        factor_loadings=factors, factor_covariance=factor_covariance, specific_variance=specific_variance
    )
    signal = rng.standard_normal(n_stocks)
    returns = 0.01 * signal + factors @ rng.normal(0, 0.01, n_factors) + rng.normal(0, 0.03, n_stocks)
    quality = rng.uniform(0.0, 0.5, n_models)
    common = rng.standard_normal(n_stocks)
    predictions = (
        signal[:, None] * quality + 0.5 * common[:, None] + rng.standard_normal((n_stocks, n_models))
    ).astype(np.float32)
    stakes = rng.lognormal(3.0, 1.5, n_models)
    stakes[rng.random(n_models) < 0.2] = 0.0
    return {
        "predictions": predictions,
        "stakes": stakes,
        "returns": returns,
        "exposures": exposures,
        "risk_model": risk_model,
    }


def timed(function, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def load_note() -> str:
    """The machine's 1-minute load average (the CPU is shared: timings inflate under load)."""
    try:
        return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unknown"


def scaled_cvxpy_problem(alpha: np.ndarray, era: dict, config: OptimizerConfig, alpha_scale: float):
    """The era's problem written for cvxpy at its best: scaled units and a factor variable.

    Positions are scaled by n (``x = n·w``, so they are O(1) and absolute tolerances mean
    something), the objective is multiplied by ρ·n with ρ the inverse median curvature (so its
    Hessian's diagonal is O(1)), the factor risk enters through ``y = Vᵀx`` (no dense n × n
    quadratic form) and the neutrality columns are normalized. Same optimum as ``optimize``:
    ``w* = x*/n``. Returns the problem, the alpha parameter and the position variable.
    """
    n = alpha.size
    risk_model = era["risk_model"]
    gamma = config.risk_aversion
    curvature = (2.0 / n) * gamma * risk_model.specific_variance
    rho = 1.0 / float(np.median(curvature))
    h = rho * curvature
    V = np.sqrt(rho * 2.0 * gamma / n) * risk_model.factor_root()
    neutral = np.column_stack([np.ones(n), era["exposures"]])
    neutral = neutral / np.linalg.norm(neutral, axis=0)
    parameter = cp.Parameter(n, value=alpha)
    x = cp.Variable(n)
    y = cp.Variable(V.shape[1])
    objective = 0.5 * cp.sum(cp.multiply(h, cp.square(x))) + 0.5 * cp.sum_squares(y)
    objective = objective - (rho * alpha_scale) * (parameter @ x)
    constraints = [
        neutral.T @ x == 0,
        V.T @ x == y,
        cp.abs(x) <= config.max_position * config.gross_leverage,
        cp.norm1(x) <= n * config.gross_leverage,
    ]
    return cp.Problem(cp.Minimize(objective), constraints), parameter, x


CLARABEL_TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "tol_ktratio": 1e-8}


def cvxpy_forward(alpha: np.ndarray, era: dict, config: OptimizerConfig, alpha_scale: float) -> tuple:
    """cvxpy + Clarabel (tight tolerances), timed on a re-solve (canonicalization cached, no warm start).

    Returns (wall time of the re-solve, Clarabel's own solve time, first-solve wall time incl.
    canonicalization, weights).
    """
    problem, _, x = scaled_cvxpy_problem(alpha, era, config, alpha_scale)
    start = time.perf_counter()
    problem.solve(solver=cp.CLARABEL, **CLARABEL_TIGHT)
    first = time.perf_counter() - start
    start, cpu_start = time.perf_counter(), time.process_time()
    problem.solve(solver=cp.CLARABEL, warm_start=False, **CLARABEL_TIGHT)
    again, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return again, cpu, problem.solver_stats.solve_time, first, np.asarray(x.value) / alpha.size


def cvxpy_gradient(
    alpha: np.ndarray, era: dict, config: OptimizerConfig, alpha_scale: float, *, solve_method: str, mode: str
) -> tuple:
    """cvxpy's ``requires_grad`` derivative (diffcp) of rᵀw* with respect to alpha.

    ``solve_method`` is diffcp's forward solver ("SCS" at eps 1e-12, or "Clarabel" at tight
    tolerances), ``mode`` its backward ("dense": exact linear algebra on the whole conic
    system, feasible up to n ≈ 500-1000; "lsqr": iterative). Returns (gradient, forward time,
    backward time, weights); the forward is timed on a re-solve (canonicalization cached).
    """
    problem, parameter, x = scaled_cvxpy_problem(alpha, era, config, alpha_scale)
    n = alpha.size
    if solve_method == "SCS":
        options = {"eps_abs": 1e-12, "eps_rel": 1e-12, "max_iters": 200_000, "acceleration_lookback": 0}
    else:
        options = dict(CLARABEL_TIGHT)
    problem.solve(requires_grad=True, solve_method=solve_method, mode=mode, **options)  # compile
    start, cpu_start = time.perf_counter(), time.process_time()
    problem.solve(requires_grad=True, solve_method=solve_method, mode=mode, warm_start=False, **options)
    forward = time.perf_counter() - start
    x.gradient = era["returns"] / n
    start = time.perf_counter()
    problem.backward()
    backward = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return np.asarray(parameter.gradient), forward, backward, np.asarray(x.value) / n, cpu


def realized_return(gaussianized, stakes, era, config, method="fast") -> float:
    """R(s) = rᵀ optimize(standardize(G s/Σs)), no stake validation, tolerance 1e-13 (finite differences)."""
    config = dataclasses.replace(config, tolerance=1e-13)
    alpha = standardize(gaussianized @ (stakes / stakes.sum()))
    weights = optimize(
        alpha, exposures=era["exposures"], risk_model=era["risk_model"], config=config, method=method
    ).weights
    return float(era["returns"] @ weights)


def direct_kkt_gradient(alpha: np.ndarray, era: dict, config: OptimizerConfig, result) -> np.ndarray:
    """Independent reference for ∂(rᵀw*)/∂alpha: one dense KKT solve on the optimizer's active set.

    With F the free names, C = [1, E, sign(w)] restricted to F (the sign column while the gross
    cap binds) and Σ_FF = B_F F B_Fᵀ + diag(d_F), differentiating the stationarity conditions gives
    ``[2γΣ_FF, C; Cᵀ, 0] [dw_F; dz] = [alpha_scale·da_F; 0]``, and fixed names do not move.
    Dependent columns of C (sectors sum to the ones column) are dropped by a pivoted QR.
    """
    risk_model = era["risk_model"]
    free = result.active.free
    root = risk_model.factor_root()[free]
    hessian = 2.0 * config.risk_aversion * (root @ root.T + np.diag(risk_model.specific_variance[free]))
    columns = [np.ones((int(free.sum()), 1)), era["exposures"][free]]
    if result.active.gross:
        columns.append(np.sign(result.weights[free])[:, None])
    constraints = np.hstack(columns)
    _, triangular, pivots = scipy.linalg.qr(constraints, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(triangular))
    constraints = constraints[:, pivots[: int((diagonal > 1e-10 * diagonal[0]).sum())]]
    size, k = hessian.shape[0], constraints.shape[1]
    kkt = np.block([[hessian, constraints], [constraints.T, np.zeros((k, k))]])
    right = np.concatenate([era["returns"][free], np.zeros(k)])
    gradient = np.zeros(alpha.size)
    gradient[free] = result.alpha_scale * np.linalg.solve(kkt, right)[:size]
    return gradient


def relative_error(value: np.ndarray, reference: np.ndarray) -> float:
    return float(np.linalg.norm(value - reference) / np.linalg.norm(reference))


def tc_from_gradient(gaussianized: np.ndarray, stakes: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """TC of every model from ∂R/∂alpha (the contribution layer's chain rule, for references)."""
    blend = gaussianized @ (stakes / stakes.sum())
    pulled_back = standardization_vjp(standardize(blend), float(np.std(blend)), gradient)
    return gaussianized.T @ pulled_back - blend @ pulled_back


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-stocks", type=int, default=5000)
    parser.add_argument("--n-models", type=int, default=2000)
    parser.add_argument("--n-sectors", type=int, default=40)
    parser.add_argument("--n-factors", type=int, default=20)
    parser.add_argument("--bags", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the optimize+backward timing")
    parser.add_argument("--fd-models", type=int, default=4, help="models checked by finite differences")
    parser.add_argument(
        "--cvxpy-mode", default="lsqr", help="diffcp backward mode at the main size (lsqr|dense)"
    )
    parser.add_argument(
        "--dense-stocks", type=int, default=250, help="size of the dense-diffcp check (0: skip)"
    )
    parser.add_argument("--skip-cvxpy", action="store_true")
    parser.add_argument("--grid", action="store_true", help="also time the hundreds-of-rows grid")
    parser.add_argument(
        "--grid-sizes",
        default="5000x61,5000x200,5000x500,20000x500",
        help="stocks x rows of the grid, comma-separated (e.g. 400x61 for a quick run)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    era = make_era(args.n_stocks, args.n_models, args.n_sectors, args.n_factors, args.seed)
    stakes, returns = era["stakes"], era["returns"]
    config = OptimizerConfig(risk_aversion=1.0, gross_leverage=1.0, max_position=2.5)
    options = {"exposures": era["exposures"], "risk_model": era["risk_model"], "config": config}
    print(
        f"era: {args.n_stocks} stocks, {args.n_models} models ({int((stakes == 0).sum())} unstaked), "
        f"{args.n_sectors} sectors + {args.n_factors} factor neutralities, "
        f"{args.n_factors}-factor risk model, position bounds, gross cap"
    )

    start = time.perf_counter()
    gaussianized = gaussianize(era["predictions"])
    serial_time = time.perf_counter() - start
    gaussianize_time, blocks = timed(lambda: gaussianize_predictions(era["predictions"]), 1)
    assert np.array_equal(blocks, gaussianized), "block-parallel gaussianization must be bit-identical"
    alpha = standardize(gaussianized @ (stakes / stakes.sum()))

    def optimize_and_backward(method: str):
        result = optimize(alpha, method=method, **options)
        return result, result.vjp(returns)

    # the first solve of an exposure matrix also finds its equality basis (kept for re-solves)
    clear_cache()
    cold_time, _ = timed(lambda: optimize_and_backward("fast"), 1)
    cpu_start = time.process_time()
    fast_time, (fast_result, fast_gradient) = timed(lambda: optimize_and_backward("fast"), args.repeats)
    fast_cpu = (time.process_time() - cpu_start) / args.repeats
    generic_time, (_, generic_gradient) = timed(lambda: optimize_and_backward("generic"), 1)
    print(
        f"optimum: {fast_result.status}, {fast_result.iterations} Newton iterations, "
        f"active: {fast_result.active.counts()}"
    )

    print(f"\n-- timings (median of repeats where stated; {load_note()}) --")
    print(
        f"gaussianize {args.n_stocks}x{args.n_models}: {serial_time * 1e3:.0f} ms in one call, "
        f"{gaussianize_time * 1e3:.0f} ms in parallel column blocks (bit-identical)"
    )
    print(
        f"optimize + backward, fast path (median of {args.repeats}): {fast_time * 1e3:.1f} ms wall, "
        f"{fast_cpu * 1e3:.1f} ms CPU   (target <= 8 ms for the 61-row era); first solve of the era "
        f"(finds the equality basis): {cold_time * 1e3:.1f} ms"
    )
    print(f"optimize + backward, generic path (Clarabel + polish): {generic_time * 1e3:.0f} ms")
    call = (era["predictions"], stakes, returns, era["exposures"], config)
    tc_time, tc = timed(lambda: true_contribution(*call, risk_model=era["risk_model"]), 3)
    print(
        f"whole-era TC, {args.n_models} models incl. gaussianization (median of 3): {tc_time:.3f} s"
        "   (target <= 1.5 s)"
    )
    if args.bags:
        bag_call = (gaussianized, stakes, returns, era["exposures"], config)
        bag_time, _ = timed(
            lambda: true_contribution(
                *bag_call, risk_model=era["risk_model"], bags=args.bags, seed=1, gaussianized=True
            ),
            2,
        )
        print(
            f"{args.bags}-bag TC (dropout 0.5, warm starts, gaussianization shared; median of 2): "
            f"{bag_time:.3f} s   "
            f"(target <= 3 s); with gaussianization {bag_time + gaussianize_time:.3f} s"
        )

    print(f"(after the timings: {load_note()})")
    print("\n-- gradient agreement (relative L2 error unless stated) --")
    start = time.perf_counter()
    reference_gradient = direct_kkt_gradient(alpha, era, config, fast_result)
    reference_time = time.perf_counter() - start
    reference_tc = tc_from_gradient(gaussianized, stakes, reference_gradient)
    print(
        f"dR/d(alpha), fast vs direct dense KKT solve ({reference_time:.2f} s): "
        f"{relative_error(fast_gradient, reference_gradient):.2e}"
    )
    print(f"TC, fast vs direct dense KKT solve: {relative_error(tc.tc, reference_tc):.2e}   (target <= 1e-6)")
    print(
        "dR/d(alpha), fast vs generic path (Clarabel + active-set polish): "
        f"{relative_error(fast_gradient, generic_gradient):.2e}"
    )
    generic_tc = true_contribution(*call, risk_model=era["risk_model"], method="generic")
    print(f"TC, fast vs generic path: {relative_error(tc.tc, generic_tc.tc):.2e}")
    print(f"sum_k s_k TC_k / sum_k s_k |TC_k| = {stakes @ tc.tc / (stakes @ np.abs(tc.tc)):.1e}")

    order = np.argsort(-stakes)
    checked = [int(k) for k in order[: max(1, args.fd_models - 1)]]
    checked += [int(k) for k in np.flatnonzero(stakes == 0)[:1]]
    total = stakes.sum()
    for step in (1e-4, 1e-5, 1e-6):
        differences = []
        for k in checked:
            up, down = stakes.copy(), stakes.copy()
            up[k] += step * total
            down[k] -= step * total
            difference = realized_return(gaussianized, up, era, config) - realized_return(
                gaussianized, down, era, config
            )
            differences.append(difference / (2 * step))
        errors = np.abs(tc.tc[checked] - np.array(differences)) / np.abs(differences)
        print(
            f"TC vs central differences, step {step:g}·Σs, models {checked} (last unstaked): "
            f"max relative error {errors.max():.2e}"
        )

    if not args.skip_cvxpy:
        compare_with_cvxpy(
            args, era, config, alpha, (fast_time, fast_cpu, fast_result, fast_gradient), gaussianized, tc.tc
        )
    if args.grid:
        sizes = [tuple(int(part) for part in size.split("x")) for size in args.grid_sizes.split(",")]
        print_grid(args.repeats, sizes)


def compare_with_cvxpy(args, era, config, alpha, ours, gaussianized, tc) -> None:
    """The honest comparison: cvxpy at its best on the same problem, in the same run."""
    fast_time, fast_cpu, fast_result, fast_gradient = ours
    stakes = era["stakes"]
    print(f"\n-- cvxpy at its best on the same problem (scaled units x = n·w; {load_note()}) --")
    again, again_cpu, solver_time, first, weights = cvxpy_forward(alpha, era, config, fast_result.alpha_scale)
    print(
        f"forward, cvxpy + Clarabel (tol 1e-10), re-solve with canonicalization cached: {again:.3f} s "
        f"(Clarabel itself {solver_time:.3f} s; first solve incl. canonicalization {first:.2f} s); "
        f"weights vs Kardashev {relative_error(weights, fast_result.weights):.1e}"
    )
    print(
        f"ratio cvxpy+Clarabel forward alone / Kardashev optimize + backward: {again / fast_time:.0f}x wall, "
        f"{again_cpu / fast_cpu:.0f}x CPU (Kardashev {fast_time * 1e3:.1f} ms wall, "
        f"{fast_cpu * 1e3:.1f} ms CPU)"
    )
    gradient, forward, backward, grad_weights, grad_cpu = cvxpy_gradient(
        alpha, era, config, fast_result.alpha_scale, solve_method="SCS", mode=args.cvxpy_mode
    )
    print(
        f"gradient, cvxpy requires_grad (diffcp, SCS eps 1e-12, {args.cvxpy_mode} backward): "
        f"solve {forward:.2f} s + backward {backward:.2f} s; weights vs Kardashev "
        f"{relative_error(grad_weights, fast_result.weights):.1e}, dR/d(alpha) vs Kardashev "
        f"{relative_error(gradient, fast_gradient):.1e}, TC vs Kardashev "
        f"{relative_error(tc_from_gradient(gaussianized, stakes, gradient), tc):.1e}"
    )
    print(
        f"ratio cvxpy requires_grad (solve + backward) / Kardashev optimize + backward: "
        f"{(forward + backward) / fast_time:.0f}x wall, {grad_cpu / fast_cpu:.0f}x CPU   (goal >= 1000x)"
    )
    try:
        import cvxpylayers  # noqa: F401
    except ImportError:
        print("cvxpylayers: not installed (skipped)")
    if args.dense_stocks:
        small = make_era(args.dense_stocks, 10, min(args.n_sectors, args.dense_stocks // 20), 10, args.seed)
        options = {"exposures": small["exposures"], "risk_model": small["risk_model"], "config": config}
        small_alpha = standardize(np.random.default_rng(args.seed).standard_normal(args.dense_stocks))

        def small_run():
            result = optimize(small_alpha, **options)
            return result, result.vjp(small["returns"])

        cpu_start = time.process_time()
        ours_time, (result, ours) = timed(small_run, args.repeats)
        ours_cpu = (time.process_time() - cpu_start) / args.repeats
        gradient, forward, backward, weights, small_cpu = cvxpy_gradient(
            small_alpha, small, config, result.alpha_scale, solve_method="SCS", mode="dense"
        )
        print(
            f"dense diffcp check at {args.dense_stocks} stocks: cvxpy solve {forward:.2f} s + backward "
            f"{backward:.2f} s vs Kardashev {ours_time * 1e3:.1f} ms "
            f"({(forward + backward) / ours_time:.0f}x wall, {small_cpu / ours_cpu:.0f}x CPU); "
            f"weights {relative_error(weights, result.weights):.1e}, dR/d(alpha) "
            f"{relative_error(gradient, ours):.1e} apart"
        )


def feasible_previous(exposures: np.ndarray, n: int, max_position: float, seed: int) -> np.ndarray:
    """A previous book that is itself feasible: neutral to every row, within the bounds, gross ≤ 1."""
    rng = np.random.default_rng(seed)
    full = np.column_stack([np.ones(n), exposures])
    raw = rng.standard_normal(n)
    raw -= full @ np.linalg.lstsq(full, raw, rcond=None)[0]
    previous = raw / np.abs(raw).sum()
    return previous * min(1.0, max_position / n / np.abs(previous).max())


def print_grid(repeats: int, sizes: list[tuple[int, ...]]) -> None:
    """optimize + backward with hundreds of neutrality rows, with and without a turnover cap."""
    print(
        f"\n-- hundreds of rows: optimize + backward, median wall and mean CPU of {repeats} after a "
        f"first (cold) solve that finds the era's equality basis (one BLAS thread; {load_note()}) --"
    )
    targets = {(5000, 61): 8e-3, (5000, 500): 50e-3, (20000, 500): 200e-3}
    for n, rows in sizes:
        n_sectors = 40
        era = make_era(n, 2, n_sectors, rows - 1 - n_sectors, 0)
        # a 20-factor risk model as in the standard era (the neutrality rows are more numerous)
        risk = RiskModel(
            factor_loadings=era["exposures"][:, n_sectors : n_sectors + 20],
            factor_covariance=era["risk_model"].factor_covariance[:20, :20],
            specific_variance=era["risk_model"].specific_variance,
        )
        signal = standardize(np.random.default_rng(1).standard_normal(n))
        previous = feasible_previous(era["exposures"], n, 2.5, 2)
        for cap in (None, 0.1, 0.01):
            config = OptimizerConfig(max_turnover=cap)
            options = {"exposures": era["exposures"], "risk_model": risk, "config": config}
            if cap is not None:
                options["previous_weights"] = previous

            def run(options=options, signal=signal, returns=era["returns"]):
                result = optimize(signal, **options)
                return result, result.vjp(returns)

            clear_cache()
            cold, _ = timed(run, 1)
            cpu_start = time.process_time()
            elapsed, (result, _) = timed(run, repeats)
            cpu = (time.process_time() - cpu_start) / repeats
            target = targets.get((n, rows)) if cap is None else None
            note = f"   (target <= {target * 1e3:.0f} ms)" if target else ""
            print(
                f"{n:6d} stocks x {rows:3d} rows, turnover cap {cap!s:>5}: {elapsed * 1e3:7.1f} ms wall "
                f"(CPU {cpu * 1e3:6.1f} ms; cold {cold * 1e3:7.1f} ms), {result.iterations} iterations, "
                f"{int(result.active.free.sum())} free{note}"
            )


if __name__ == "__main__":
    main()
