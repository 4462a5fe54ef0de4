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


def cvxpy_gradient(alpha: np.ndarray, era: dict, config: OptimizerConfig, result, eps: float) -> tuple:
    """cvxpy's (diffcp + SCS) derivative of rᵀw* w.r.t. the standardized alpha, and its timings."""
    n = alpha.size
    risk_model = era["risk_model"]
    scale = result.alpha_scale
    parameter = cp.Parameter(n, value=alpha)
    w = cp.Variable(n)
    root = risk_model.factor_root()
    risk = cp.sum_squares(root.T @ w) + cp.sum(cp.multiply(risk_model.specific_variance, cp.square(w)))
    bound = config.max_position * config.gross_leverage / n
    neutral = np.column_stack([np.ones(n), era["exposures"]])
    problem = cp.Problem(
        cp.Maximize(scale * parameter @ w - config.risk_aversion * risk),
        [neutral.T @ w == 0, cp.abs(w) <= bound, cp.norm1(w) <= config.gross_leverage],
    )
    start = time.perf_counter()
    problem.solve(requires_grad=True, solver=cp.SCS, eps_abs=eps, eps_rel=eps, max_iters=100_000)
    forward = time.perf_counter() - start
    w.gradient = era["returns"]
    start = time.perf_counter()
    problem.backward()
    backward = time.perf_counter() - start
    return np.asarray(parameter.gradient), forward, backward, np.asarray(w.value)


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
    parser.add_argument("--cvxpy-eps", type=float, default=1e-7, help="SCS tolerance of the cvxpy reference")
    parser.add_argument("--skip-cvxpy", action="store_true")
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

    optimize(alpha, method="fast", **options)  # warm-up (imports, BLAS threads)
    fast_time, (fast_result, fast_gradient) = timed(lambda: optimize_and_backward("fast"), args.repeats)
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
        f"optimize + backward, fast path (median of {args.repeats}): {fast_time * 1e3:.1f} ms"
        "   (target <= 50 ms)"
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
        print("\n-- cvxpy requires_grad (diffcp + SCS) on the same problem --")
        gradient, forward, backward, weights = cvxpy_gradient(alpha, era, config, fast_result, args.cvxpy_eps)
        print(f"cvxpy solve(requires_grad=True): {forward:.2f} s, backward(): {backward:.2f} s")
        print(
            f"ratio cvxpy (solve + backward) / Kardashev (optimize + backward): "
            f"{(forward + backward) / fast_time:.0f}x   (target >= 100x); "
            f"backward alone vs Kardashev optimize + backward: {backward / fast_time:.0f}x"
        )
        print(f"cvxpy weights vs Kardashev: {relative_error(weights, fast_result.weights):.2e}")
        print(f"cvxpy dR/d(alpha) vs exact: {relative_error(gradient, fast_gradient):.2e}")
        cvxpy_tc = tc_from_gradient(gaussianized, stakes, gradient)
        print(f"cvxpy TC vs exact: {relative_error(cvxpy_tc, tc.tc):.2e}")


if __name__ == "__main__":
    main()
