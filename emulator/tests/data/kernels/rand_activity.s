; Activity from a slot whose only (and last) write is `rand`: no inputs, no
; spikes, so a neuron is active iff xorshift32(seed) != seed (seed != 0).
.kernel rand_activity
.state seed
    rand  r1, seed
