; Integrate-and-fire: v += input; spike and reset to 0 when v > vth.
; Assemble with: nerve asm examples/kernels/if.s
.kernel if_neuron
.state v
.param vth
.input exc
    lds    r0, v
    ldin   r1, exc
    add    r0, r0, r1
    ldp    r2, vth
    cmplt  r3, r2, r0      ; v > vth
    spike  r3
    movi   r4, 0
    sel    r0, r3, r4, r0
    sts    v, r0
