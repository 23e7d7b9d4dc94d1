"""Run the STDP cases on the *real* sPyNNaker 1!7.4.1 machine code: the ARM functions
synapse_dynamics_process_post_synaptic_event (0x3a78) and
synapse_dynamics_process_plastic_synapses (0x3cac) of
IF_curr_exp_stdp_mad_pair_{additive,multiplicative}.aplx, executed with the Unicorn CPU
emulator on memory laid out as the C code expects (globals at the DTCM addresses the
code loads them from; LUTs / weight region / post histories / rows built from the
model's parameter words).  Compares every per-pre-spike weight with the Python model.

usage: emulate_aplx.py [CASES.json] [--fuzz N] [--binaries DIR]
  CASES.json defaults to the committed cli/tests/data/spynnaker_stdp/cases.json (only
  read); --fuzz N adds N random cases (random.Random(2024)).  Needs the `unicorn`
  package (2.1.4 was used; see bench/learning/README.md for the venv) and the two
  .aplx files of the sPyNNaker 1!7.4.1 wheel: --binaries DIR, default the wheel's
  spynnaker/pyNN/model_binaries/ in this interpreter or in bench/export/.venv/spynnaker."""
import json, os, struct, sys, random
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paths
import model as m
from unicorn import Uc, UC_ARCH_ARM, UC_MODE_ARM
from unicorn.arm_const import *

BIN = None     # model_binaries directory, set in __main__
F_POST, F_ROW = 0x3a78, 0x3cac
G = dict(tib=0x400120, timask=0x400124, ib=0x400128, imask=0x40012c, tmask=0x400134,
         dmask=0x40013c, blk=0x4002a4, wregion=0x4002b4, wshift=0x4002b8,
         lut_plus=0x4002bc, lut_minus=0x4002c0, skipped=0x400160)
HEAP, ROWS, STACK, RET = 0x500000, 0x600000, 0x700000, 0x7FF000


def load_aplx(name):
    d = open(os.path.join(BIN, name), "rb").read()
    off, blocks = 0, []
    while True:
        op, addr, o, l = struct.unpack_from("<4I", d, off)
        if op == 2:
            blocks.append((addr, d[off + o: off + o + l]))
        if op == 4:
            return blocks
        off += 16


class Machine:
    def __init__(self, dep):
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_ARM)
        uc = self.uc
        uc.mem_map(0x0, 0x10000)
        uc.mem_map(0x400000, 0x10000)
        uc.mem_map(HEAP, 0x100000)
        uc.mem_map(ROWS, 0x100000)
        uc.mem_map(STACK, 0x100000)
        for addr, data in load_aplx(f"IF_curr_exp_stdp_mad_pair_{dep}.aplx"):
            uc.mem_write(addr, data)
        self.heap = HEAP

    def alloc(self, data):
        a = self.heap
        self.uc.mem_write(a, data)
        self.heap += (len(data) + 7) & ~7
        return a

    def w32(self, a, v):
        self.uc.mem_write(a, struct.pack("<I", v & 0xFFFFFFFF))

    def r32(self, a):
        return struct.unpack("<I", self.uc.mem_read(a, 4))[0]

    def call(self, fn, args, stack_args=()):
        uc = self.uc
        sp = STACK + 0xF0000
        for i, v in enumerate(stack_args):
            self.w32(sp + 4 * i, v)
        regs = [UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3]
        for r, v in zip(regs, args):
            uc.reg_write(r, v & 0xFFFFFFFF)
        uc.reg_write(UC_ARM_REG_SP, sp)
        uc.reg_write(UC_ARM_REG_LR, RET)
        uc.emu_start(fn, RET, count=2_000_000)


def run_on_binary(case):
    dt = case["dt_ms"]
    p = m.rule_params(case["rule"], dt)
    res = m.run_case(case)
    shift = res["ring_buffer_shift"]
    mc = Machine(p["dependence"])
    n_pre, n_post = len(case["pre_spikes"]), len(case["post_spikes"])
    ib = max(1, (n_post - 1).bit_length())
    tib = ib + 1                                   # 2 synapse types
    delay_bits = 5
    for k, v in dict(tib=tib, timask=(1 << tib) - 1, ib=ib, imask=(1 << ib) - 1, tmask=1,
                     dmask=(1 << delay_bits) - 1, skipped=0).items():
        mc.w32(G[k], v)

    def lut_bytes(lut):
        size, sh, vals = lut
        return struct.pack("<HH", size, sh) + struct.pack("<%dh" % size, *vals)
    mc.w32(G["lut_plus"], mc.alloc(lut_bytes(p["lut_plus"])))
    mc.w32(G["lut_minus"], mc.alloc(lut_bytes(p["lut_minus"])))
    wr = b"".join(struct.pack("<4i", p["min_weight"], p["max_weight"], p["a2_plus"],
                              p["a2_minus"]) for _ in range(2))
    mc.w32(G["wregion"], mc.alloc(wr))
    mc.w32(G["wshift"], mc.alloc(struct.pack("<2I", shift, 0)))
    # post_event_history: 100 bytes each; init as post_events_init_buffers
    hist = mc.alloc(b"\0" * (100 * n_post))
    for j in range(n_post):   # garbage beyond the valid entries, as after spin1_malloc
        mc.uc.mem_write(hist + 100 * j + 8, bytes(random.getrandbits(8) for _ in range(60)))
        mc.w32(hist + 100 * j, 0); mc.w32(hist + 100 * j + 4, 0)
        mc.uc.mem_write(hist + 100 * j + 68, b"\0\0")
    mc.w32(G["blk"] + 0, 0); mc.w32(G["blk"] + 4, 0)
    mc.w32(G["blk"] + 8, 1)                      # backprop_delay
    mc.w32(G["blk"] + 12, hist)
    ring = mc.alloc(b"\0" * (2 * ((1 << delay_bits) << tib)))
    wb = mc.alloc(b"\0" * 8)
    # rows: plastic part {prev_time u32, prev_trace i16, pad, u16 words[]},
    #       fixed part {n_fixed u32, n_plastic u32, u16 controls[]}
    syn = case["synapses"]
    rows = {}
    addr = ROWS
    for i in range(n_pre):
        ks = [k for k, s in enumerate(syn) if s[0] == i]
        n = len(ks)
        plastic = struct.pack("<Ihh", 0, 0, 0) + struct.pack(
            "<%dH" % n, *[res["initial_int"][k] for k in ks]) + b"\0\0"
        controls = [(s[3] << tib) | (0 << ib) | s[1] for s in (syn[k] for k in ks)]
        fixed = struct.pack("<II", 0, n) + struct.pack("<%dH" % n, *controls) + b"\0\0"
        pa = addr; addr += (len(plastic) + 7) & ~7
        fa = addr; addr += (len(fixed) + 7) & ~7
        mc.uc.mem_write(pa, plastic); mc.uc.mem_write(fa, fixed)
        rows[i] = (pa, fa, ks)
    timeline = {}
    for j, st in enumerate(case["post_spikes"]):
        for t in st:
            timeline.setdefault(t, ([], []))[0].append(j)
    for i, st in enumerate(case["pre_spikes"]):
        for t in st:
            timeline.setdefault(t, ([], []))[1].append(i)
    events = [[] for _ in syn]
    for T in sorted(timeline):
        posts, pres = timeline[T]
        for j in sorted(posts):
            mc.call(F_POST, (T, j))
        for i in sorted(pres):
            pa, fa, ks = rows[i]
            mc.call(F_ROW, (pa, fa, ring, T), stack_args=(0, wb))
            words = struct.unpack("<%dH" % len(ks), mc.uc.mem_read(pa + 8, 2 * len(ks)))
            for k, w in zip(ks, words):
                events[k].append([T, w])
    return events, res["events"]


def fuzz_case(rng, k):
    dt = rng.choice([1.0, 1.0, 0.1])
    n_pre, n_post = rng.randint(1, 6), rng.randint(1, 4)
    steps = rng.randint(50, 600)
    syn = [[i, j, round(rng.uniform(0, 2.0), 4), rng.choice([1, 2, 5, 9, 15])]
           for i in range(n_pre) for j in range(n_post) if rng.random() < 0.8] or [[0, 0, 0.5, 1]]
    pr, po = rng.uniform(0.01, 0.5), rng.uniform(0.01, 0.6)
    return dict(name=f"fuzz{k}", dt_ms=dt, steps=steps, rule=dict(
        tau_plus=rng.choice([2.0, 5.0, 16.8, 20.0, 50.0]) * (1 if dt == 1.0 else 0.3),
        tau_minus=rng.choice([3.0, 10.0, 20.0, 33.7, 80.0]) * (1 if dt == 1.0 else 0.3),
        A_plus=rng.uniform(0.001, 0.5), A_minus=rng.uniform(0.001, 0.5),
        weight_dependence=rng.choice(["additive", "multiplicative"]),
        w_min=round(rng.uniform(0, 0.3), 3), w_max=round(rng.uniform(0.5, 2.5), 3)),
        synapses=syn,
        pre_spikes=[sorted(rng.sample(range(steps), max(1, int(pr * steps)))) for _ in range(n_pre)],
        post_spikes=[sorted(rng.sample(range(steps), max(0, int(po * steps)))) for _ in range(n_post)])


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="Run the cases on the real 7.4.1 ARM code.")
    ap.add_argument("cases", nargs="?", default=paths.TEST_DATA,
                    help="case file (default %s)" % paths.show(paths.TEST_DATA))
    ap.add_argument("--fuzz", type=int, default=0, help="number of random cases to add")
    ap.add_argument("--binaries", help="sPyNNaker model_binaries/ directory")
    args = ap.parse_args()
    BIN = args.binaries or paths.spynnaker_binaries()
    if not BIN or not os.path.isdir(BIN):
        ap.error("sPyNNaker 1!7.4.1 model_binaries/ not found: run bench/export/setup.sh "
                 "or pass --binaries DIR")
    print("binaries:", BIN)
    data = json.load(open(args.cases))
    cases = data["cases"] if isinstance(data, dict) else data
    nfuzz = args.fuzz
    rng = random.Random(2024)
    cases = list(cases) + [fuzz_case(rng, k) for k in range(nfuzz)]
    n_ev = n_bad = 0
    for c in cases:
        got, want = run_on_binary(c)
        ne = sum(len(e) for e in want)
        bad = sum(1 for a, b in zip(got, want) if a != b)
        n_ev += ne
        n_bad += bad
        if bad or not c["name"].startswith("fuzz"):
            print(f"{c['name']:32s} synapses {len(want):3d} events {ne:5d} "
                  f"mismatching synapses {bad}")
    print(f"TOTAL cases {len(cases)} weight events {n_ev} mismatching synapses {n_bad}")
