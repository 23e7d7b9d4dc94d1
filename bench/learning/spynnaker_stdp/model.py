#!/usr/bin/env python3
"""Pure-Python, integer-exact reference model of sPyNNaker 1!7.4.1 pair-based STDP
(SpikePairRule + AdditiveWeightDependence | MultiplicativeWeightDependence,
SynapseStructureWeightOnly, "mad" synapse dynamics, backprop_delay=True, on a
current-based cell, excitatory receptor).

See SPEC.md beside this file for the derivation (Python wheel +
neural_modelling C sources + the 7.4.1 ARM binaries IF_curr_exp_stdp_mad_pair_*.aplx)
and bench/learning/README.md for the scripts that use it.
Command line: python3 model.py CASES.json   (prints the final words of every case)

Entry point: run_case(case) -> dict.  No numpy; only the `math` and `decimal`
modules.  Everything that sPyNNaker does in integers is done in Python ints here,
with explicit 16/32-bit wrapping where the ARM code wraps.

case = {
  "dt_ms": 1.0, "steps": 1000,
  "rule": {"tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.01, "A_minus": 0.012,
           "weight_dependence": "additive" | "multiplicative",
           "w_min": 0.0, "w_max": 1.0},
  "weight_scale": optional float (= 2**(15 - ring_buffer_left_shift)); default:
                  what sPyNNaker picks for a network made of only these synapses,
  "synapses": [[pre, post, w0_nA, delay_steps], ...],
  "pre_spikes": [[step, ...] per pre neuron],
  "post_spikes": [[step, ...] per post neuron],
}
"""
import json
import math
import sys
from decimal import Decimal, ROUND_HALF_EVEN

STDP_FIXED_POINT = 11
STDP_FIXED_POINT_ONE = 1 << STDP_FIXED_POINT          # 2048
S1615_TO_STDP_RIGHT_SHIFT = 4
MAX_POST_SYNAPTIC_EVENTS = 16
# sPyNNaker cfg defaults ([Simulation] in spynnaker.cfg of the wheel)
DEFAULT_SPIKES_PER_SECOND = 30.0
DEFAULT_RING_BUFFER_SIGMA = 5.0


# ---------------------------------------------------------------- int helpers
def wrap32(x):
    """Two's-complement wrap to int32 (what a 32-bit ARM register holds)."""
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


def wrap16(x):
    """Two's-complement wrap to int16 (strh / int16_t cast)."""
    x &= 0xFFFF
    return x - (1 << 16) if x & 0x8000 else x


def u32(x):
    return x & 0xFFFFFFFF


def smulbb(a, b):
    """ARM SMULBB: signed low halfword x signed low halfword -> int32."""
    return wrap16(a) * wrap16(b)           # |result| < 2^30, never wraps


def stdp_fixed_mul_16x16(a, b):
    """STDP_FIXED_MUL_16X16(a, b) = __smulbb(a, b) >> 11 (arithmetic)."""
    return smulbb(a, b) >> STDP_FIXED_POINT


def accum_mul(a, b):
    """GCC `accum * accum` (s16.15) on ARM968 as compiled in the 7.4.1 binary:
    SMULL (64-bit signed product), then bits [46:15] -> floor(a*b / 2^15)
    truncated to 32 bits.  No rounding."""
    return wrap32((a * b) >> 15)


def mul_accum_fixed(a, stdp_fixed):
    """stdp_typedefs.h: a * kbits(stdp_fixed << S1615_TO_STDP_RIGHT_SHIFT)."""
    return accum_mul(a, wrap32(stdp_fixed << S1615_TO_STDP_RIGHT_SHIFT))


def s1615(value):
    """spinn_front_end_common DataType.S1615.encode_as_int:
    int(round(Decimal(str(value)) * 32768)) -- Decimal round = half-even."""
    v = float(value)
    if not (-65536.0 <= v <= 65535.999969482421875):
        raise ValueError(f"{v} out of S1615 range")
    return int((Decimal(repr(v)) * 32768).to_integral_value(rounding=ROUND_HALF_EVEN))


def np_rint(x):
    """numpy.rint: round half to even (on a float64)."""
    return int(round(x))          # Python round() on float is half-even too


# ---------------------------------------------------------------- lookup tables
def exp_lut(time_step, time_constant, shift=0):
    """Mirror of spynnaker.pyNN.models.neuron.plasticity.stdp.common.get_exp_lut_array
    (7.4.1).  Returns (size, shift, values) with values as Python ints (uint16 in
    SDRAM, read back as int16 by the C code; all are 0..2048 so no sign issue)."""
    l_ambda = time_step / float(time_constant)
    size = math.log(STDP_FIXED_POINT_ONE) / l_ambda
    size, extra = divmod(size / (1 << shift), 2)
    size = (int(size) + (extra > 0)) * 2
    values = [int(math.floor(math.exp((i << shift) * -l_ambda) * STDP_FIXED_POINT_ONE))
              for i in range(size)]
    return size, shift, values


def lut_words(lut):
    """The uint32 words written to SDRAM: header [size | shift<<16] then the
    uint16 values packed little-endian two per word."""
    size, shift, values = lut
    halves = [size, shift] + [v & 0xFFFF for v in values]
    if len(halves) % 2:
        halves.append(0)
    return [halves[i] | (halves[i + 1] << 16) for i in range(0, len(halves), 2)]


def maths_lut_exponential_decay(time, lut):
    """maths.h: lut_index = time >> shift; index < size ? values[index] : 0.
    `time` is a uint32 difference."""
    size, shift, values = lut
    idx = u32(time) >> shift
    return values[idx] if idx < size else 0


# ---------------------------------------------------------------- weight scale
def ring_buffer_shift_for(max_weight):
    """PopulationVertex.get_ring_buffer_shifts (7.4.1) for one synapse type."""
    w = max_weight
    p = 0 if w <= 0 else int(math.ceil(max(0, math.log2(w))))
    if (2 ** p) <= w:
        p += 1
    return p


def default_max_weight(case):
    """_Stats.get_max_weight for the excitatory synapse type of a post population
    whose only incoming projection is this STDP FromListConnector projection from
    a SpikeSourceArray (not AbstractMaxSpikes -> spikes_per_tick =
    max(1, 30 / steps_per_second), rate = 30 Hz)."""
    rule = case["rule"]
    syn = case["synapses"]
    dt = float(case["dt_ms"])
    if not syn:
        return 0.0
    n_post = max(s[1] for s in syn) + 1
    counts = [0] * n_post
    for s in syn:
        counts[s[1]] += 1
    n_conns = max(counts)
    # SynapseDynamicsSTDP.get_weight_maximum = max(connector max |w|, w_max);
    # get_weight_mean returns the same, get_weight_variance returns 0.
    w = max(max(abs(float(s[2])) for s in syn), float(rule["w_max"]))
    steps_per_second = 1000.0 / dt
    spikes_per_tick = max(1.0, DEFAULT_SPIKES_PER_SECOND / steps_per_second)
    total_weights = spikes_per_tick * (w * n_conns)
    biggest = w
    # FromListConnector.get_delay_variance = numpy.var(delays in ms)
    delays_ms = [s[3] * dt for s in syn]
    mean_d = sum(delays_ms) / len(delays_ms)
    var_d = sum((x - mean_d) ** 2 for x in delays_ms) / len(delays_ms)
    if var_d == 0.0:
        return max(total_weights, biggest)
    # _ring_buffer_expected_upper_bound with weight_std_dev = 0
    avg = float(n_conns * DEFAULT_SPIKES_PER_SECOND) / steps_per_second
    poisson_variance = avg * (w ** 2)
    bound = avg * w + DEFAULT_RING_BUFFER_SIGMA * math.sqrt(poisson_variance)
    bound = min(bound, total_weights)
    return max(bound, biggest)


def default_weight_scale(case):
    shift = ring_buffer_shift_for(default_max_weight(case))
    return float(math.pow(2, 16 - (shift + 1))), shift


def shift_from_weight_scale(weight_scale):
    e = math.log2(weight_scale)
    shift = 15 - int(round(e))
    if 2.0 ** (15 - shift) != weight_scale:
        raise ValueError("weight_scale must be 2**(15 - shift) for an integer shift")
    return shift


# ---------------------------------------------------------------- parameters
def rule_params(rule, dt_ms):
    """The words sPyNNaker 7.4.1 writes to the synapseDynamicsParams region
    (global_weight_scale = 1.0 for current input types)."""
    gws = 1.0
    dep = rule["weight_dependence"]
    p = {
        "backprop_delay": 1,
        "lut_plus": exp_lut(dt_ms, rule["tau_plus"]),
        "lut_minus": exp_lut(dt_ms, rule["tau_minus"]),
        "min_weight": s1615(rule["w_min"] * gws),
        "max_weight": s1615(rule["w_max"] * gws),
    }
    if dep == "additive":
        p["a2_plus"] = s1615(rule["A_plus"] * gws)
        p["a2_minus"] = s1615(rule["A_minus"] * gws)
    elif dep == "multiplicative":
        p["a2_plus"] = s1615(rule["A_plus"])
        p["a2_minus"] = s1615(rule["A_minus"])
    else:
        raise ValueError(dep)
    p["dependence"] = dep
    return p


# ---------------------------------------------------------------- C state
class PostHistory:
    """post_events.h post_event_history_t: times[16] (uint32), traces[16]
    (int16), count_minus_one; entry 0 is a placeholder (time 0, trace 0)."""
    __slots__ = ("times", "traces", "count_minus_one")

    def __init__(self):
        self.times = [0] * MAX_POST_SYNAPTIC_EVENTS
        self.traces = [0] * MAX_POST_SYNAPTIC_EVENTS
        self.count_minus_one = 0

    def add(self, time, trace):
        """post_events_add."""
        if self.count_minus_one < MAX_POST_SYNAPTIC_EVENTS - 1:
            self.count_minus_one += 1
            self.times[self.count_minus_one] = time
            self.traces[self.count_minus_one] = trace
        else:
            for e in range(2, MAX_POST_SYNAPTIC_EVENTS):
                self.times[e - 1] = self.times[e]
                self.traces[e - 1] = self.traces[e]
            self.times[MAX_POST_SYNAPTIC_EVENTS - 1] = time
            self.traces[MAX_POST_SYNAPTIC_EVENTS - 1] = trace

    def get_window_delayed(self, begin_time, end_time):
        """post_events_get_window_delayed.  Returns
        (prev_time, prev_trace, prev_time_valid, [(time, trace), ...] in window).
        Window = events with begin_time < t <= end_time among the stored ones,
        scanning back from the newest and stopping at the first t <= begin_time
        or at index 0 (the placeholder)."""
        count = self.count_minus_one + 1
        # C starts at times + count (one past the newest entry; reading it is
        # harmless: `if (*event_time > end_time) end_event_time = event_time`
        # would set end_event_time to the value it already has)
        end_event = count
        i = count
        while True:
            if i < count and self.times[i] > end_time:
                end_event = i
            next_idx = i                      # window.next_time = event_time--
            i -= 1
            # while (*event_time > begin_time && event_time != events->times)
            if not (self.times[i] > begin_time and i != 0):
                break
        prev_time = self.times[i]
        prev_trace = self.traces[i]
        valid = (i != 0)
        events = [(self.times[k], self.traces[k]) for k in range(next_idx, end_event)]
        return prev_time, prev_trace, valid, events


def timing_add_post_spike(time, last_time, last_trace, lut_minus):
    """timing_pair_impl.h timing_add_post_spike -> int16."""
    decayed = stdp_fixed_mul_16x16(
        last_trace, maths_lut_exponential_decay(u32(time - last_time), lut_minus))
    return wrap16(wrap16(decayed) + STDP_FIXED_POINT_ONE)


def timing_add_pre_spike(time, last_time, last_trace, lut_plus):
    """timing_pair_impl.h timing_add_pre_spike -> int16 (stored with strh)."""
    decayed = stdp_fixed_mul_16x16(
        last_trace, maths_lut_exponential_decay(u32(time - last_time), lut_plus))
    return wrap16(decayed + STDP_FIXED_POINT_ONE)


def apply_potentiation(w, decayed_r1, p):
    if p["dependence"] == "additive":
        w = wrap32(w + mul_accum_fixed(p["a2_plus"], decayed_r1))
        return min(w, p["max_weight"])
    scale = accum_mul(wrap32(p["max_weight"] - w), p["a2_plus"])
    return wrap32(w + mul_accum_fixed(scale, decayed_r1))


def apply_depression(w, decayed_o1, p):
    if p["dependence"] == "additive":
        w = wrap32(w - mul_accum_fixed(p["a2_minus"], decayed_o1))
        return max(w, p["min_weight"])
    scale = accum_mul(wrap32(w - p["min_weight"]), p["a2_minus"])
    return wrap32(w - mul_accum_fixed(scale, decayed_o1))


def plasticity_update_synapse(time, last_pre_time, last_pre_trace, delay_dendritic,
                              weight_word, shift, history, p):
    """synapse_dynamics_stdp_mad_impl.c process_plastic_synapse +
    plasticity_update_synapse (delay_axonal = 0, backprop_delay = 1).
    Returns the new 16-bit synaptic word."""
    # weight_get_initial: kbits(weight << weight_shift) (uint16 zero-extended)
    w = wrap32(weight_word << shift)
    delayed_last_pre_time = last_pre_time            # + delay_axonal (0)
    window_begin = (delayed_last_pre_time - delay_dendritic
                    if delayed_last_pre_time >= delay_dendritic else 0)
    delayed_pre_time = time                          # + delay_axonal (0)
    window_end = (delayed_pre_time - delay_dendritic
                  if delayed_pre_time >= delay_dendritic else 0)
    prev_time, prev_trace, valid, events = history.get_window_delayed(
        window_begin, window_end)
    for (t_post, tr_post) in events:
        delayed_post_time = t_post + delay_dendritic
        # timing_apply_post_spike
        dt_since_pre = u32(delayed_post_time - delayed_last_pre_time)
        if dt_since_pre > 0:
            decayed_r1 = stdp_fixed_mul_16x16(
                last_pre_trace,
                maths_lut_exponential_decay(dt_since_pre, p["lut_plus"]))
            w = apply_potentiation(w, decayed_r1, p)
        prev_time, prev_trace, valid = t_post, tr_post, True
    if valid:
        delayed_last_post = prev_time + delay_dendritic
        # timing_apply_pre_spike
        dt_since_post = u32(delayed_pre_time - delayed_last_post)
        decayed_o1 = stdp_fixed_mul_16x16(
            prev_trace, maths_lut_exponential_decay(dt_since_post, p["lut_minus"]))
        w = apply_depression(w, decayed_o1, p)
    # weight_get_final: (weight_t)(bitsk(weight) >> weight_shift)  (asr, uint16)
    return (w >> shift) & 0xFFFF


# ---------------------------------------------------------------- driver
def run_case(case):
    dt = float(case["dt_ms"])
    rule = case["rule"]
    p = rule_params(rule, dt)
    default_ws, default_shift = default_weight_scale(case)
    ws = case.get("weight_scale")
    if ws is None:
        ws, shift = default_ws, default_shift
    else:
        ws = float(ws)
        shift = shift_from_weight_scale(ws)
    syn = case["synapses"]
    n_pre = len(case["pre_spikes"])
    n_post = len(case["post_spikes"])
    # initial words: numpy.rint(|w| * weight_scale).astype(uint16)
    words = [np_rint(abs(float(s[2])) * ws) & 0xFFFF for s in syn]
    initial_words = list(words)
    rows = [[] for _ in range(n_pre)]
    for k, s in enumerate(syn):
        if int(s[3]) < 1:
            raise ValueError("delay_steps must be >= 1")
        rows[s[0]].append(k)
    # pre_event_history_t per row: prev_time = 0, prev_trace = 0 (zeroed header)
    pre_hist = [[0, 0] for _ in range(n_pre)]
    post_hist = [PostHistory() for _ in range(n_post)]
    # timeline: at step T, post spikes of T are recorded (neuron update) before the
    # pre spikes sent at T are processed
    timeline = {}
    for j, st in enumerate(case["post_spikes"]):
        for t in st:
            timeline.setdefault(int(t), ([], []))[0].append(j)
    for i, st in enumerate(case["pre_spikes"]):
        for t in st:
            timeline.setdefault(int(t), ([], []))[1].append(i)
    events = [[] for _ in syn]
    for T in sorted(timeline):
        posts, pres = timeline[T]
        for j in sorted(posts):
            h = post_hist[j]
            last_t = h.times[h.count_minus_one]
            last_tr = h.traces[h.count_minus_one]
            h.add(T, timing_add_post_spike(T, last_t, last_tr, p["lut_minus"]))
        for i in sorted(pres):
            last_pre_time, last_pre_trace = pre_hist[i]
            pre_hist[i] = [T, timing_add_pre_spike(T, last_pre_time, last_pre_trace,
                                                   p["lut_plus"])]
            for k in rows[i]:
                s = syn[k]
                words[k] = plasticity_update_synapse(
                    T, last_pre_time, last_pre_trace, int(s[3]), words[k], shift,
                    post_hist[s[1]], p)
                events[k].append([T, words[k]])
    return {
        "weight_scale": ws,
        "ring_buffer_shift": shift,
        "default_weight_scale": default_ws,
        "params": {
            "min_weight_s1615": p["min_weight"], "max_weight_s1615": p["max_weight"],
            "a2_plus_s1615": p["a2_plus"], "a2_minus_s1615": p["a2_minus"],
            "lut_plus_size": p["lut_plus"][0], "lut_minus_size": p["lut_minus"][0],
        },
        "initial_int": initial_words,
        "events": events,
        "final_int": list(words),
        "final_nA": [w / ws for w in words],   # Projection.get("weight")
    }


if __name__ == "__main__":
    c = json.load(open(sys.argv[1]))
    cases = c["cases"] if isinstance(c, dict) and "cases" in c else [c]
    for case in cases:
        r = run_case(case)
        print(case.get("name", ""), json.dumps({k: r[k] for k in
              ("weight_scale", "ring_buffer_shift", "final_int", "final_nA")}))
