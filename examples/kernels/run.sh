#!/bin/sh
# Assembles if.s (an integrate-and-fire kernel in nerve's instruction set),
# prints its listing, and checks that the listing, which is nerve's own
# assembly syntax, assembles to the same 72 bytes. NERVE: the nerve binary.
set -e
cd "$(dirname "$0")"
NERVE=${NERVE:-nerve}
"$NERVE" asm if.s -o if.bin > listing.s
cat listing.s
"$NERVE" asm listing.s -o again.bin > /dev/null 2>&1
if cmp -s if.bin again.bin && [ "$(wc -c < if.bin)" -eq 72 ]; then
    echo "PASS: the listing reassembles to the same 9 instructions (72 bytes)"
else
    echo "FAIL: the listing does not reassemble to if.bin"
    exit 1
fi
