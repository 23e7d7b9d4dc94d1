; All nine allocatable ymm registers hold live values when `sub` needs one
; for its constant first operand; its second operand r2 is read for the last
; time by that very `sub` (the furthest "next read"), so it must not be the
; register given up.
.kernel operand_evict
.state a, b, o1, o2
    lds   r1, a
    lds   r2, b
    addi  r3, r1, 1
    addi  r4, r1, 2
    addi  r5, r1, 3
    addi  r6, r1, 4
    addi  r7, r1, 5
    addi  r8, r1, 6
    addi  r9, r1, 7         ; r1..r9: nine live values
    movi  r10, 1000
    sub   r11, r10, r2      ; r10 needs a register; r2 read here for the last time
    sts   o1, r11
    add   r3, r3, r4
    add   r3, r3, r5
    add   r3, r3, r6
    add   r3, r3, r7
    add   r3, r3, r8
    add   r3, r3, r9
    add   r3, r3, r1
    sts   o2, r3
