; A compare result used as the condition of a select and as one of its
; operands (the mask must be copied before the operand is turned into 0/1).
.kernel sel_mask_operand
.state a, b, c, o1, o2, o3
    lds   r1, a
    lds   r2, b
    lds   r3, c
    cmplt r4, r1, r2
    sel   r5, r4, r4, r3    ; c ? 1 : r3
    sts   o1, r5
    cmplt r6, r2, r1
    sel   r7, r6, r3, r6    ; c ? r3 : 0
    sts   o2, r7
    cmple r8, r1, r3
    sel   r8, r8, r8, r8    ; c ? 1 : 0, in place
    sts   o3, r8
