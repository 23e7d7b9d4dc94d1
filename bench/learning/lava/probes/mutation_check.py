"""Mutation test: perturb one rule of the independent model at a time and
confirm the saved lava references detect it (i.e. the reference cases are
discriminative for each non-obvious fact).
usage: python3 probes/mutation_check.py   (no lava, no numpy; log: mutation_check.out)"""
import glob, json, sys, types
import os
LAVA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/learning/lava
DATA = os.path.join(LAVA, "..", "..", "..", "cli", "tests", "data", "lava_learning")
sys.path.insert(0, LAVA)
src = open(os.path.join(LAVA, "model.py")).read()
MUT = {
 "post multi-spike uses draw 2t (not 2t-1)": (
   "Y[k][j] = add_impulse(Y[k][j], yr.impulse, *y_ii[k])",
   "Y[k][j] = add_impulse(Y[k][j], yr2_imp(), *y_ii[k])"),
 "pre multi-spike uses x impulse random (not 0)": (
   "X[0][i] = add_impulse(X[0][i], 0, *x_ii[0])",
   "X[0][i] = add_impulse(X[0][i], xr.impulse, *x_ii[0])"),
 "tau=0 means no decay (instead of reset to 0)": (
   "if x_tau[q] != 0 else 0 for i in range(n_pre)]",
   "if x_tau[q] != 0 else xh[k - 1][q][i] for i in range(n_pre)]"),
 "conn-var RNG seeded with rng_seed (not 2)": (
   "cvr = ConnVarRandom(2)", "cvr = ConnVarRandom(seed)"),
 "trace RNGs advance once per step": (
   "        if three_f:\n            Y = [list(r) for r in recv_y]\n        xr.advance()\n        yr.advance()\n",
   "        if three_f:\n            Y = [list(r) for r in recv_y]\n"),
 "impulse fraction probability frac/256 (not frac/128)": (
   "v = v + imp_int + (1 if rnd < imp_frac else 0)",
   "v = v + imp_int + (1 if 2 * rnd < imp_frac else 0)"),
 "conn-var RNG advanced after use": (
   "            cvr.advance()\n            x0 =", "            x0 ="),
 "dw/dd/dt see updated w (sequential)": (
   "old = {\"weights\": W, \"tag_2\": tag2, \"tag_1\": tag1}",
   "old = {\"weights\": W, \"tag_2\": tag2, \"tag_1\": tag1}; SEQ = True"),
 "accumulator clip at -32768 (not -32769)": (
   "ACC_MIN = -(2 ** W_ACC_U) - 1", "ACC_MIN = -(2 ** W_ACC_U)"),
 "weights re-truncated to num_weight_bits after learning": (
   "            W = new.get(\"weights\", W)",
   "            W = truncate_weights(new.get(\"weights\", W), sign_mode, nbits)"),
 "3F: y history not decayed with tau 65535": (
   "y_tau = [65535] * 3", "y_tau = [0] * 3"),
 "x0 traces evaluated at end of epoch (not at tx)": (
   "tt = {\"x0\": tx[i], \"y0\": ty[j], \"u\": t_epoch}[dep]\n                    val = yh",
   "tt = {\"x0\": t_epoch, \"y0\": ty[j], \"u\": t_epoch}[dep]\n                    val = yh"),
}
refs = {f.split('/')[-1][:-5]: json.load(open(f))
        for f in sorted(glob.glob(os.path.join(DATA, '*.json')))}
keys = ["post_spikes", "u", "v", "weights", "tag_1", "tag_2", "x1", "x2",
        "y1", "y2", "y3", "tx", "ty"]
def check(mod):
    bad = []
    for name, r in refs.items():
        m = mod.simulate(r['case'])
        if any(a[k] != b[k] for a, b in zip(r['steps'], m) for k in keys):
            bad.append(name)
    return bad
base = types.ModuleType("m0"); exec(compile(src, "m0", "exec"), base.__dict__)
print("unmutated model: mismatching cases:", check(base))
for desc, (a, b) in MUT.items():
    if a not in src:
        print("!! pattern not found:", desc); continue
    s = src.replace(a, b)
    if desc.startswith("post multi"):
        s = s.replace("    xr = TraceRandom(seed, seed + 1)",
                      "    xr = TraceRandom(seed, seed + 1)\n    import copy as _c\n"
                      "    def yr2_imp():\n        g = _c.deepcopy(yr.g_imp)\n        return g.integers_pow2(7)")
    if desc.startswith("dw/dd/dt"):
        s = s.replace("            new[name] = out",
                      "            new[name] = out\n                old[name] = out")
    mod = types.ModuleType("m"); exec(compile(s, "m", "exec"), mod.__dict__)
    bad = check(mod)
    print(f"{'DETECTED' if bad else 'not detected':12} {desc}: {bad}")
