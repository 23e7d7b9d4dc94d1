#!/usr/bin/env python3
"""How PyNN 0.13 + NEST 3.10 validate synaptic delays (run in the nest venv).

Each case builds a fresh network and prints OK (with the delay NEST stored and
the first post spike) or the exception class and message.
"""
import warnings

warnings.filterwarnings("ignore")
import pyNN.nest as sim
import nest

nest.set_verbosity("M_ERROR")


def case(label, dt, min_delay, max_delay, delay, precision="on_grid"):
    try:
        sim.setup(timestep=dt, min_delay=min_delay, max_delay=max_delay,
                  spike_precision=precision)
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=[[10.0]]))
        pop = sim.Population(1, sim.IF_curr_delta(v_thresh=-64.0))
        prj = sim.Projection(src, pop,
                             sim.FromListConnector([(0, 0, 2.0, delay)]),
                             sim.StaticSynapse())
        pop.record("spikes")
        sim.run(30.0)
        st = pop.get_data().segments[0].spiketrains[0]
        stored = prj.get("delay", format="list")
        ks = nest.GetKernelStatus()
        print(f"{label}: OK stored={stored} post_spike={list(st.magnitude)}"
              f" kernel min/max_delay={ks['min_delay']}/{ks['max_delay']}")
    except Exception as e:  # noqa: BLE001
        print(f"{label}: {type(e).__module__}.{type(e).__name__}: "
              f"{str(e).strip().splitlines()[0][:300]}")
    finally:
        sim.end()


case("dt=0.1 min=0.1 max=10 d=1.0", 0.1, 0.1, 10.0, 1.0)
case("dt=0.1 min=0.1 max=10 d=1.05 (not k*dt)", 0.1, 0.1, 10.0, 1.05)
case("dt=0.1 min=0.1 max=10 d=1.04 (not k*dt)", 0.1, 0.1, 10.0, 1.04)
case("dt=1.0 min=1.0 max=10 d=1.5 (not k*dt)", 1.0, 1.0, 10.0, 1.5)
case("dt=1.0 min=1.0 max=10 d=2.4 (not k*dt)", 1.0, 1.0, 10.0, 2.4)
case("dt=0.1 min=1.0 max=10 d=0.5 (< min_delay)", 0.1, 1.0, 10.0, 0.5)
case("dt=0.1 min=0.1 max=10 d=0.05 (< dt)", 0.1, 0.1, 10.0, 0.05)
case("dt=0.1 min=0.1 max=10 d=20 (> max_delay)", 0.1, 0.1, 10.0, 20.0)
case("dt=0.1 min='auto' d=20", 0.1, "auto", "auto", 20.0)
case("dt=0.1 min=0.1 max=10 d=0 ", 0.1, 0.1, 10.0, 0.0)
case("dt=0.1 min=0.05 (< dt)", 0.1, 0.05, 10.0, 1.0)
case("dt=0.1 min=0.1 max=10 d=1.05 off_grid", 0.1, 0.1, 10.0, 1.05,
     precision="off_grid")

# Raw NEST (no PyNN): delay not a multiple of the resolution
for d in (1.05, 1.04, 0.05, 100.0):
    nest.ResetKernel()
    nest.resolution = 0.1
    try:
        a = nest.Create("spike_generator", params={"spike_times": [10.0]})
        b = nest.Create("iaf_psc_delta")
        nest.Connect(a, b, syn_spec={"delay": d, "weight": 100.0})
        c = nest.GetConnections(a, b)
        nest.Simulate(20.0)
        print(f"raw nest dt=0.1 d={d}: OK stored={c.delay} "
              f"kernel min/max_delay={nest.min_delay}/{nest.max_delay}")
    except Exception as e:  # noqa: BLE001
        print(f"raw nest dt=0.1 d={d}: {type(e).__name__}: "
              f"{str(e).strip().splitlines()[0][:300]}")
