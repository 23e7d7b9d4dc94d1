; More values live than the nine allocatable ymm registers: a constant
; materialised in a register, compare masks (one copied with mov), and
; values whose last read is the instruction that needs a new register.
.kernel pressure
.state a, b, o1, o2, o3, o4, o5
    lds   r1, a
    lds   r2, b
    movi  r3, 7
    sub   r4, r3, r1        ; r3 (a constant) materialised as sub's first operand
    cmplt r5, r1, r2        ; a mask
    mov   r13, r5           ; a copy of the mask
    addi  r6, r1, 1
    addi  r7, r1, 2
    addi  r8, r1, 3
    addi  r9, r2, 4
    addi  r10, r2, 5
    addi  r11, r2, 6
    addi  r12, r2, 7        ; 13 values live
    add   r6, r6, r7
    add   r6, r6, r8
    add   r6, r6, r9
    add   r6, r6, r10
    add   r6, r6, r11
    add   r6, r6, r12
    add   r6, r6, r4
    movi  r15, 11
    sub   r14, r15, r2      ; r15 needs a register; r2's last read
    sub   r14, r14, r3      ; r3 read again after its eviction
    sub   r14, r3, r14
    sts   o1, r14
    sts   o2, r5
    sts   o3, r13
    sts   o4, r6
    add   r1, r1, r3
    sts   o5, r1
