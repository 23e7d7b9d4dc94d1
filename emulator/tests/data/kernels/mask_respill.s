; A compare result (a lane mask) spilled, reloaded and read as a value (0/1),
; then evicted again and read from its stack home: the home must not still
; hold the mask (all ones) form. (Passes on 080fccb; fails if `value` stops
; clearing home_ok.)
.kernel mask_respill
.state a, b, out, out2, sum, sum2
    lds   r1, a
    lds   r2, b
    cmplt r3, r1, r2        ; r3: a mask
    addi  r4, r1, 1
    addi  r5, r1, 2
    addi  r6, r1, 3
    addi  r7, r1, 4
    addi  r8, r1, 5
    addi  r9, r1, 6
    addi  r10, r2, 7
    addi  r11, r2, 8        ; 11 values live, 9 registers: r3 (read furthest ahead) spilled as a mask
    add   r4, r4, r5
    add   r4, r4, r6
    add   r4, r4, r7
    add   r4, r4, r8
    add   r4, r4, r9
    add   r4, r4, r10
    add   r4, r4, r11
    add   r4, r4, r1
    add   r4, r4, r2
    sts   sum, r4
    add   r12, r3, r3       ; r3 reloaded, turned into 0/1 in its register
    lds   r1, a
    addi  r4, r1, 1
    addi  r5, r1, 2
    addi  r6, r1, 3
    addi  r7, r1, 4
    addi  r8, r1, 5
    addi  r9, r1, 6
    addi  r10, r1, 7
    addi  r11, r1, 8        ; pressure again: r3 (read last) evicted
    add   r4, r4, r5
    add   r4, r4, r6
    add   r4, r4, r7
    add   r4, r4, r8
    add   r4, r4, r9
    add   r4, r4, r10
    add   r4, r4, r11
    add   r4, r4, r1
    sts   sum2, r4
    sts   out2, r12
    sts   out, r3           ; must be 0 or 1
