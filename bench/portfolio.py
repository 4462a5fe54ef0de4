"""Benchmark: the portfolio optimizer + exact backward for one era vs cvxpy ``requires_grad``.

One synthetic era: n stocks, 40 sector one-hots + 20 dense factor neutralities (plus the
dollar-neutral column), a factor risk model with r = 20 factors, position bounds and the gross
cap (both active at the defaults). In one run it times

1. Kardashev ``optimize`` (fast path: dual Newton) + ``vjp``, cold, median over repeats;
2. a warm-started re-solve after a 5% perturbation of the signal (as in stake-dropout bagging);
3. the generic path (Clarabel on the conic form + exact active-set polish) + ``vjp``;
4. cvxpy ``solve(requires_grad=True)`` + ``backward()`` (diffcp) on the same problem;

and prints the speed ratio against (4), the agreement of the fast and generic weights and
gradients, the gradient error of (4), and central finite differences of gᵀw* through re-solves.

    .venv/bin/python bench/portfolio.py                 # 5000 stocks
    .venv/bin/python bench/portfolio.py --n-stocks 1000 # quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cvxpy as cp
import numpy as np

from kardashev.portfolio import OptimizerConfig, RiskModel, optimize


def make_era(n: int, n_sectors: int, n_dense: int, n_factors: int, seed: int):
    rng = np.random.default_rng(seed)
    sectors = np.eye(n_sectors)[rng.integers(0, n_sectors, n)]
    exposures = np.hstack([sectors, rng.standard_normal((n, n_dense))])
    loadings = rng.standard_normal((n, n_factors))
    risk_model = RiskModel(
        factor_loadings=loadings,
        factor_covariance=np.diag(rng.uniform(0.5, 2.0, n_factors)) * 0.02**2,
        specific_variance=rng.uniform(0.5, 2.0, n) * 0.03**2,
    )
    return rng.standard_normal(n), exposures, risk_model


def cvxpy_reference(signal, exposures, risk_model, config, alpha_scale, cotangent):
    """cvxpy's own derivative (diffcp), positions scaled by n, objective by n/alpha_scale."""
    n = signal.size
    parameter = cp.Parameter(n)
    x = cp.Variable(n)
    root = risk_model.factor_loadings * np.sqrt(np.diag(risk_model.factor_covariance))
    risk = cp.sum_squares(root.T @ x) + cp.sum_squares(cp.multiply(np.sqrt(risk_model.specific_variance), x))
    full = np.hstack([np.ones((n, 1)), exposures])
    problem = cp.Problem(
        cp.Minimize(config.risk_aversion / (n * alpha_scale) * risk - parameter @ x),
        [full.T @ x == 0, cp.abs(x) <= config.max_position * config.gross_leverage, cp.norm1(x) <= n],
    )
    parameter.value = signal
    start = time.perf_counter()
    problem.solve(requires_grad=True, solver=cp.DIFFCP)
    forward = time.perf_counter() - start
    x.gradient = cotangent / n
    start = time.perf_counter()
    problem.backward()
    backward = time.perf_counter() - start
    return x.value / n, parameter.gradient, forward, backward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-stocks", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-cvxpy", action="store_true")
    args = parser.parse_args()
    n = args.n_stocks
    signal, exposures, risk_model = make_era(n, 40, 20, 20, args.seed)
    config = OptimizerConfig()
    kwargs = {"exposures": exposures, "risk_model": risk_model, "config": config}
    cotangent = np.random.default_rng(1).standard_normal(n)

    times, cpu = [], []
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = optimize(signal, **kwargs)
        gradient = result.vjp(cotangent)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    fast_time = statistics.median(times)
    counts = result.active.counts()
    print(f"n={n}, k={exposures.shape[1] + 1} equality rows, r=20 factors; active: {counts}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"fast optimize + vjp: median {1e3 * fast_time:.1f} ms wall, "
        f"{1e3 * statistics.median(cpu):.1f} ms CPU ({result.iterations} Newton iterations)"
    )

    perturbed = signal + 0.05 * np.random.default_rng(2).standard_normal(n)
    times, cpu = [], []
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        warm = optimize(perturbed, warm_start=result, **kwargs)
        warm.vjp(cotangent)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    cold = optimize(perturbed, **kwargs)
    print(
        f"warm re-solve (5% perturbed) + vjp: median {1e3 * statistics.median(times):.1f} ms wall, "
        f"{1e3 * statistics.median(cpu):.1f} ms CPU, {warm.iterations} iterations (cold: {cold.iterations})"
    )

    start = time.perf_counter()
    generic = optimize(signal, method="generic", **kwargs)
    generic_gradient = generic.vjp(cotangent)
    generic_time = time.perf_counter() - start
    scale = np.abs(result.weights).max()
    print(
        f"generic (Clarabel + active-set polish) + vjp: {generic_time:.2f} s; "
        f"max |Δw|/max|w| = {np.abs(generic.weights - result.weights).max() / scale:.1e}, "
        f"gradient rel. diff = {np.linalg.norm(generic_gradient - gradient) / np.linalg.norm(gradient):.1e}"
    )

    step, finite, exact = 1e-6, [], []
    rng = np.random.default_rng(3)
    for _ in range(3):
        direction = rng.standard_normal(n)
        plus = optimize(signal + step * direction, **kwargs).weights
        minus = optimize(signal - step * direction, **kwargs).weights
        finite.append(cotangent @ (plus - minus) / (2 * step))
        exact.append(direction @ gradient)
    error = np.linalg.norm(np.subtract(finite, exact)) / np.linalg.norm(exact)
    print(f"central finite differences (3 directions): relative error {error:.1e}")

    if not args.skip_cvxpy:
        weights, reference, forward, backward = cvxpy_reference(
            signal, exposures, risk_model, config, result.alpha_scale, cotangent
        )
        print(
            f"cvxpy requires_grad (diffcp): forward {forward:.2f} s + backward {backward:.2f} s; "
            f"max |Δw|/max|w| = {np.abs(weights - result.weights).max() / scale:.1e}, "
            f"gradient rel. error = {np.linalg.norm(reference - gradient) / np.linalg.norm(gradient):.1e}"
        )
        ratio = (forward + backward) / fast_time
        print(f"speed-up of fast optimize + vjp over cvxpy requires_grad: {ratio:.0f}x")


if __name__ == "__main__":
    main()
