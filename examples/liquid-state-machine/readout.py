#!/usr/bin/env python3
"""Trains and tests a linear readout on the reservoir's recorded spikes and, for
comparison, on the input spikes alone (standard library only).

State vector of a trial: per neuron (or input channel), its spike counts in
BINS consecutive windows of BIN_MS ms from the trial's start, plus a constant 1.
Readout: ridge regression onto targets ±1 (class 1 / class 0), solved in its
dual form, (K + LAMBDA·I) a = y with K the Gram matrix of the training states,
by Gaussian elimination with partial pivoting; a test state x is class 1 when
sum_i a_i (x_i · x) > 0. The first `train` trials (trials.json) train, the rest
test. check.py uses it; cli/tests/it/example_liquid_state_machine.rs does
exactly the same in Rust.
"""
import csv, json, sys

BIN_MS, BINS, LAMBDA = 25, 3, 10.0


def states(path, trials, sizes):
    """Per trial, a sparse state {feature index: count}; sizes: {population: size} in feature order."""
    T = trials["trial_ms"]
    offset, base = {}, 0
    for p, n in sizes:
        offset[p] = base
        base += n
    st = [dict() for _ in trials["trials"]]
    for r in csv.DictReader(open(path)):
        if r["population"] not in offset:
            continue
        t = float(r["time"])
        k, b = int(t // T), int(t % T) // BIN_MS
        if k < len(st) and b < BINS:
            f = (offset[r["population"]] + int(r["neuron"])) * BINS + b
            st[k][f] = st[k].get(f, 0) + 1
    return st


def dot(x, y):
    if len(x) > len(y):
        x, y = y, x
    return 1.0 + sum(v * y.get(f, 0) for f, v in x.items())  # + 1: the bias feature


def solve(A, y):
    """Gaussian elimination with partial pivoting; A is n x n, y n."""
    n = len(y)
    M = [row[:] + [y[i]] for i, row in enumerate(A)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[p] = M[p], M[c]
        for r in range(c + 1, n):
            f = M[r][c] / M[c][c]
            if f != 0.0:
                Mr, Mc = M[r], M[c]
                for j in range(c, n + 1):
                    Mr[j] -= f * Mc[j]
    a = [0.0] * n
    for r in range(n - 1, -1, -1):
        a[r] = (M[r][n] - sum(M[r][j] * a[j] for j in range(r + 1, n))) / M[r][r]
    return a


def accuracy(st, trials):
    ntr = trials["train"]
    labels = [t["label"] for t in trials["trials"]]
    y = [1.0 if l else -1.0 for l in labels[:ntr]]
    K = [[0.0] * ntr for _ in range(ntr)]
    for i in range(ntr):
        for j in range(i + 1):
            K[i][j] = K[j][i] = dot(st[i], st[j])
        K[i][i] += LAMBDA
    a = solve(K, y)
    def correct(k):
        s = sum(a[i] * dot(st[i], st[k]) for i in range(ntr))
        return (s > 0) == bool(labels[k])
    train = sum(correct(k) for k in range(ntr)) / ntr
    test_idx = range(ntr, len(labels))
    test = sum(correct(k) for k in test_idx) / len(test_idx)
    return train, test
