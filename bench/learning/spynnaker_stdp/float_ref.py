"""Float re-implementation of NEST 3.10 stdp_synapse (as driven by PyNN 0.13) for
the same case format -- used to check that we understand NEST's conventions, so
that model-vs-NEST differences can be attributed.  Imported by build.py."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as m  # noqa: E402  (the fixed-point model beside this file)


def nest_float(case, post_spikes):
    dt = case["dt_ms"]
    r = case["rule"]
    tp, tm = r["tau_plus"], r["tau_minus"]
    wmax = r["w_max"]
    lam = r["A_plus"]
    alpha = r["A_minus"] / r["A_plus"]
    mult = r["weight_dependence"] == "multiplicative"
    mu = 1.0 if mult else 0.0
    eps = 1e-6
    # post histories: (t, Kminus) with Kminus including the spike
    hist = []
    for st in post_spikes:
        h, K, tl = [], 0.0, None
        for s in st:
            t = s * dt
            K = (K * math.exp((tl - t) / tm) if tl is not None else 0.0) + 1.0
            h.append((t, K)); tl = t
        hist.append(h)

    def K_value(h, t):
        for (ts, K) in reversed(h):
            if t - ts > eps:
                return K * math.exp((ts - t) / tm)
        return 0.0

    def fac(w, kp):
        nw = w / wmax + lam * (1 - w / wmax) ** mu * kp
        return nw * wmax if nw < 1.0 else wmax

    def dep(w, km):
        nw = w / wmax - alpha * lam * (w / wmax) ** mu * km
        return nw * wmax if nw > 0.0 else 0.0

    final = []
    for (i, j, w0, d) in case["synapses"]:
        w = float(w0); Kp = 0.0; tlast = 0.0; D = d * dt
        for s in case["pre_spikes"][i]:
            t = s * dt
            for (ts, K) in hist[j]:
                if ts >= tlast - D + eps and ts < t - D + eps:
                    w = fac(w, Kp * math.exp((tlast - (ts + D)) / tp))
            w = dep(w, K_value(hist[j], t - D))
            Kp = Kp * math.exp((tlast - t) / tp) + 1.0
            tlast = t
        final.append(w)
    return final


def spy_float(case, post_spikes, lut_cutoff=True, history_limit=True, dep_at_zero=True):
    """sPyNNaker's event-driven algorithm (post_events window, placeholder entry,
    16-event history, Delta=0 depression, zero beyond the LUT) in float64 without
    any quantisation -- isolates the fixed-point error of the model."""
    dt = case["dt_ms"]
    r = case["rule"]
    size_p = m.exp_lut(dt, r["tau_plus"])[0]
    size_m = m.exp_lut(dt, r["tau_minus"])[0]

    def dec(delta, tau, size):
        if lut_cutoff and delta >= size:
            return 0.0
        return math.exp(-delta * dt / tau)
    add = r["weight_dependence"] == "additive"
    wmin, wmax, ap, am = r["w_min"], r["w_max"], r["A_plus"], r["A_minus"]
    n_post = len(post_spikes)
    maxev = 16 if history_limit else 10 ** 9
    hist = [[(0, 0.0)] for _ in range(n_post)]     # placeholder first
    timeline = {}
    for j, st in enumerate(post_spikes):
        for t in st:
            timeline.setdefault(t, ([], []))[0].append(j)
    for i, st in enumerate(case["pre_spikes"]):
        for t in st:
            timeline.setdefault(t, ([], []))[1].append(i)
    pre_h = [(0, 0.0) for _ in case["pre_spikes"]]
    w = [float(s[2]) for s in case["synapses"]]
    rows = {}
    for k, s in enumerate(case["synapses"]):
        rows.setdefault(s[0], []).append(k)
    for T in sorted(timeline):
        posts, pres = timeline[T]
        for j in posts:
            h = hist[j]
            lt, ltr = h[-1]
            tr = ltr * dec(T - lt, r["tau_minus"], size_m) + 1.0
            h.append((T, tr))
            if len(h) > maxev:
                del h[1]
        for i in pres:
            lpt, lptr = pre_h[i]
            pre_h[i] = (T, lptr * dec(T - lpt, r["tau_plus"], size_p) + 1.0)
            for k in rows.get(i, []):
                d = case["synapses"][k][3]
                h = hist[case["synapses"][k][1]]
                b = max(lpt - d, 0); e = max(T - d, 0)
                # scan back like post_events_get_window_delayed
                idx = len(h) - 1
                while idx > 0 and h[idx][0] > b:
                    idx -= 1
                prev = h[idx]; valid = idx != 0
                for (tp_, trp) in h[idx + 1:]:
                    if tp_ > e:
                        break
                    x = lptr * dec(tp_ + d - lpt, r["tau_plus"], size_p)
                    if add:
                        w[k] = min(w[k] + ap * x, wmax)
                    else:
                        w[k] = w[k] + ap * (wmax - w[k]) * x
                    prev = (tp_, trp); valid = True
                if valid:
                    lag = T - prev[0] - d
                    if lag == 0 and not dep_at_zero:
                        continue
                    y = prev[1] * dec(lag, r["tau_minus"], size_m)
                    if add:
                        w[k] = max(w[k] - am * y, wmin)
                    else:
                        w[k] = w[k] - am * (w[k] - wmin) * y
    return w
