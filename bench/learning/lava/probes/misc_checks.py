"""Extra checks:
 1. run(RunSteps(T)) in one go gives the same final weights as the
    run(1)-per-step loop used by ref.py.
 2. lava's library LearningLIF fixed-point model (PyLearningLIFModelFixed)
    with s_out_bap connected: does it ever send? (run in a child process
    with a timeout)
usage: bench/export/.venv/lava/bin/python probes/misc_checks.py [runT|learninglif]
(logs: runT.out, misc_checks.out)
"""
import json, os, subprocess, sys, signal, time
LAVA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/learning/lava
DATA = os.path.join(LAVA, "..", "..", "..", "cli", "tests", "data", "lava_learning")
sys.path.insert(0, LAVA)
import numpy as np

which = sys.argv[1] if len(sys.argv) > 1 else "all"

if which in ("all", "runT"):
    from ref import builtin_cases, run_lava
    cases = builtin_cases()
    for name in ["b_stdploihi", "c_x2y2y3_tags", "d_loihi3f_reward",
                 "b2_stdp_frac_epoch3"]:
        _, final_w, _ = run_lava(cases[name], per_step=False)
        ref = json.load(open(os.path.join(DATA, f"{name}.json")))
        print(f"runT {name}: run(T) final == per-step final:",
              final_w == ref["final_weights"] == ref["steps"][-1]["weights"],
              flush=True)

if which == "learninglif_child":
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.lif.process import LIF, LearningLIF
    from lava.proc.dense.process import LearningDense
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
    lr = STDPLoihi(learning_rate=1, A_plus=2, A_minus=-2, tau_plus=10,
                   tau_minus=10, t_epoch=1, rng_seed=0)
    pre = LIF(shape=(1,), du=0, dv=0, vth=100, bias_mant=2000)
    dense = LearningDense(weights=np.array([[50.]]), learning_rule=lr)
    post = LearningLIF(shape=(1,), du=0, dv=0, vth=100, bias_mant=1500,
                       learning_rule=lr)
    pre.s_out.connect(dense.s_in)
    dense.a_out.connect(post.a_in)
    post.s_out_bap.connect(dense.s_in_bap)     # the documented 3F wiring
    print("child: starting run", flush=True)
    post.run(condition=RunSteps(num_steps=5),
             run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    print("child: run returned; weights", dense.weights.get(), flush=True)
    post.stop()

if which in ("all", "learninglif"):
    p = subprocess.Popen([sys.executable, __file__, "learninglif_child"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True, text=True)
    try:
        out, _ = p.communicate(timeout=60)
        print("learninglif: child finished rc", p.returncode)
        print(out[-2000:])
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)   # our own child's session only
        out, _ = p.communicate()
        print("learninglif: child still blocked after 60 s -> killed "
              "(PyLearningLIFModelFixed never sends on s_out_bap)")
        print(out[-1500:])
