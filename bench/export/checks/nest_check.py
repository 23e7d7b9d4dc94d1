#!/usr/bin/env python3
"""Smoke check for the `nest` venv: PyNN (pyNN.nest) on NEST 3.10.

SpikeSourceArray -> IF_curr_exp through a FromListConnector; records spikes
and checks that the driven neuron fires. Prints spike times.
"""
import warnings

warnings.filterwarnings("ignore")  # PyNN: "Unable to build extensions"

import numpy as np
import pyNN.nest as sim

# on_grid: iaf_psc_exp on the 0.1 ms grid (PyNN's default is off_grid, iaf_psc_exp_ps)
sim.setup(timestep=0.1, min_delay=0.1, max_delay=10.0, spike_precision="on_grid")
src = sim.Population(2, sim.SpikeSourceArray(
    spike_times=[[5.0, 10.0, 15.0], [7.0, 20.0]]), label="src")
pop = sim.Population(3, sim.IF_curr_exp(tau_m=20.0, v_thresh=-50.0),
                     label="pop")
# (pre, post, weight nA, delay ms); second neuron gets an inhibitory synapse
conn_e = sim.FromListConnector([(0, 0, 5.0, 1.0), (1, 0, 5.0, 1.5),
                                (0, 1, 5.0, 2.0)])
conn_i = sim.FromListConnector([(1, 2, 1.0, 1.0)])
sim.Projection(src, pop, conn_e, sim.StaticSynapse(),
               receptor_type="excitatory")
sim.Projection(src, pop, conn_i, sim.StaticSynapse(),
               receptor_type="inhibitory")
pop.record(["spikes", "v"])
sim.run(50.0)
seg = pop.get_data().segments[0]
spikes = [np.asarray(st.magnitude).tolist() for st in seg.spiketrains]
sim.end()
print("nest spikes per neuron (ms):", spikes)
assert len(spikes[0]) > 0 and len(spikes[1]) > 0 and len(spikes[2]) == 0, spikes
print("nest check ok")
