"""Case definitions (inputs only).  post spikes are produced in NEST by a teacher
SpikeSourceArray (static synapse, 200 nA, tau_syn_E = 0.2 ms, delay = dt) -- in NEST
the post neuron fires 2 steps after a teacher spike at dt = 1 ms -- and the recorded
NEST post spikes become the cases' post_spikes.

usage: make_cases.py [--work DIR]      -> DIR/cases_input.json
(DIR defaults to paths.DEFAULT_WORK, a scratch directory; make_cases() is also
imported by build.py --check to compare the inputs with the committed cases.json)"""
import argparse, json, os, random, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paths

DT_LIST = [-20, -5, -1, 0, 1, 5, 20]


def pairs_case(name, dep, d, A_plus, A_minus, w0=0.5, w_max=1.0, dt=1.0, scale=1,
               desc="", dts=None):
    dts = dts or [x * scale for x in DT_LIST]
    n = len(dts)
    t_pre, t_flush = 100 * scale, 400 * scale
    pre = [[t_pre, t_flush] for _ in range(n)]
    post_target = [[t_pre + dd] for dd in dts]
    syn = [[i, i, w0, d] for i in range(n)]
    return dict(name=name, description=desc or (
        f"single pre/post pairs, synapse i: pre at {t_pre}, post at {t_pre} + dt_i "
        f"(dt_i = {dts} steps), delay {d} steps, then a flush pre spike at {t_flush} "
        "(potentiation is only applied when the next pre spike is processed)"),
        dt_ms=dt, steps=500 * scale,
        rule=dict(tau_plus=20.0, tau_minus=20.0, A_plus=A_plus, A_minus=A_minus,
                  weight_dependence=dep, w_min=0.0, w_max=w_max),
        synapses=syn, pre_spikes=pre, post_target=post_target)


# bursts: post 0 gets repeated causal pairing (weights climb to w_max), post 1 gets
# repeated anti-causal pairing (weights fall to w_min = 0); pre 0/2 delay 1, pre 1/3 delay 5
def burst_case(name, dep, A_plus, A_minus, w0, tau_p=16.8, tau_m=33.7):
    P = [60 + 40 * k for k in range(20)]          # post burst starts
    post0 = sorted({p + o for p in P for o in (0, 3)})
    post1 = sorted({p + o for p in P for o in (0, 3)})
    pre = []
    syn = []
    # causal on post 0: effective lag L = t_post + d - t_pre in {+2, +4, +7}
    for i, d in enumerate((1, 5)):
        pre.append(sorted({p + d - L for p in P for L in (2, 4, 7)}))
        syn.append([i, 0, w0, d])
    # anti-causal on post 1: post 3..9 steps (effective) before pre
    for i, d in enumerate((1, 5)):
        pre.append(sorted({p + 3 + d + L for p in P for L in (1, 3, 6)}))
        syn.append([2 + i, 1, w0, d])
    # post 2: isolated causal pairs every 300 steps (lag +3), so that no depression
    # follows (previous post > LUT length ago) and the weight reaches w_max exactly
    Q = [100 + 300 * k for k in range(6)]
    post2 = list(Q)
    for i, d in enumerate((1, 5)):
        pre.append(sorted([q + d - 3 for q in Q] + [1990]))
        syn.append([4 + i, 2, w0, d])
    return dict(name=name, description=(
        "bursts: 20 post bursts (2 spikes 3 steps apart, every 40 steps); post 0 is "
        "preceded by 3-spike pre bursts (effective lags +2,+4,+7: potentiation), "
        "post 1 is followed by 3-spike pre bursts (weights fall to w_min = 0); "
        "post 2 gets isolated causal pairs every 300 steps (weights reach w_max); "
        "pre 0/2/4 delay 1, pre 1/3/5 delay 5"),
        dt_ms=1.0, steps=2000,
        rule=dict(tau_plus=tau_p, tau_minus=tau_m, A_plus=A_plus, A_minus=A_minus,
                  weight_dependence=dep, w_min=0.0, w_max=1.0),
        synapses=syn, pre_spikes=pre, post_target=[post0, post1, post2])


def poisson_case(name, dep, seed, A_plus, A_minus, w_max=1.0):
    rng = random.Random(seed)
    steps = 1000
    n_pre, n_post = 20, 3
    pre = [sorted(t for t in range(1, steps - 10) if rng.random() < 0.02)
           for _ in range(n_pre)]
    teach = []
    for _ in range(n_post):
        ts, t = [], 5
        while True:
            t += 3 + int(rng.expovariate(1 / 60.0))
            if t >= steps - 10:
                break
            ts.append(t)
        teach.append(ts)
    post_target = [[t + 2 for t in ts] for ts in teach]
    syn = [[i, j, round(rng.uniform(0.1, 0.9) * w_max, 4), rng.choice((1, 5))]
           for i in range(n_pre) for j in range(n_post)]
    return dict(name=name, description=(
        f"20 pre x 3 post all-to-all, random (seed {seed}) Bernoulli pre trains "
        "(p = 0.02 per step), post spikes forced by random teacher trains "
        "(mean ISI ~ 60 steps), delays 1 or 5 steps, 1000 steps"),
        dt_ms=1.0, steps=steps,
        rule=dict(tau_plus=20.0, tau_minus=20.0, A_plus=A_plus, A_minus=A_minus,
                  weight_dependence=dep, w_min=0.0, w_max=w_max),
        synapses=syn, pre_spikes=pre, post_target=post_target)


def make_cases():
    cases = []
    cases.append(pairs_case("pairs_additive_d1", "additive", 1, 0.01, 0.012))
    cases.append(pairs_case("pairs_additive_d5", "additive", 5, 0.01, 0.012))
    cases.append(pairs_case("pairs_multiplicative_d1", "multiplicative", 1, 0.1, 0.12))
    cases.append(pairs_case("pairs_multiplicative_d5", "multiplicative", 5, 0.1, 0.12))

    cases.append(burst_case("bursts_additive_wmax_wmin", "additive", 0.1, 0.02, 0.6))
    cases.append(burst_case("bursts_multiplicative", "multiplicative", 0.3, 0.35, 0.6))

    cases.append(poisson_case("poisson_20x3_additive", "additive", 12345, 0.01, 0.0105))
    cases.append(poisson_case("poisson_20x3_multiplicative", "multiplicative", 54321, 0.05, 0.055))

    # post-history overflow: 41 post spikes (every 2 steps) between two pre spikes
    post = list(range(100, 181, 2))
    cases.append(dict(name="post_history_overflow", description=(
        "41 post spikes every 2 steps in 100..180 between pre spikes at 95 and 190: "
        "sPyNNaker keeps only the last 15 post events (MAX_POST_SYNAPTIC_EVENTS = 16 "
        "incl. the time-0 placeholder), so the potentiation at 190 misses the early ones"),
        dt_ms=1.0, steps=400,
        rule=dict(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012,
                  weight_dependence="additive", w_min=0.0, w_max=1.0),
        synapses=[[0, 0, 0.3, 1], [1, 0, 0.3, 5]],
        pre_spikes=[[95, 190, 300], [95, 190, 300]], post_target=[post]))

    # pre-trace int16 wrap: a pre neuron firing every step for 40 steps (tau_plus = 20:
    # the trace would converge to ~41943 > 32767 and wraps negative)
    cases.append(dict(name="pre_trace_int16_wrap", description=(
        "pre 0 fires every step 100..139 (tau_plus 20): its 16-bit pre trace wraps "
        "negative after ~30 spikes, so later potentiation has the wrong sign in sPyNNaker; "
        "pre 1 fires at 100..109 only (no wrap); post at 112, 125, 150"),
        dt_ms=1.0, steps=300,
        rule=dict(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012,
                  weight_dependence="additive", w_min=0.0, w_max=1.0),
        synapses=[[0, 0, 0.5, 1], [1, 0, 0.5, 1]],
        pre_spikes=[list(range(100, 140)) + [200], list(range(100, 110)) + [200]],
        post_target=[[112, 125, 150]]))

    # dt = 0.1 ms: pairs, delay 10 steps (1 ms), times in steps of 0.1 ms
    c = pairs_case("pairs_additive_dt0.1", "additive", 10, 0.01, 0.012, dt=0.1, scale=10,
                   dts=[-203, -47, -11, -10, -9, 0, 7, 53, 197],
                   desc="pairs at dt = 0.1 ms: pre at step 1000, post at 1000 + "
                        "[-203, -47, -11, -10, -9, 0, 7, 53, 197] steps, delay 10 steps (1 ms; "
                        "-10 gives the effective lag 0), flush pre at 4000; LUTs have 1526 entries")
    cases.append(c)
    return cases


def main():
    ap = argparse.ArgumentParser(
        description="Write the STDP case inputs to WORK/cases_input.json.")
    ap.add_argument("--work", help="output directory (default %s)" % paths.DEFAULT_WORK)
    args = ap.parse_args()
    work = paths.work_dir(args.work)
    cases = make_cases()
    out = os.path.join(work, "cases_input.json")
    json.dump(cases, open(out, "w"), indent=1)
    print(len(cases), "cases:", [c["name"] for c in cases])
    print("wrote", out)


if __name__ == "__main__":
    main()
