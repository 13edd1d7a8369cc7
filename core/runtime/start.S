/*
 * Program entry for opml MIPS guests.
 *
 * The fraud-proof VM starts at e_entry with sp = 0x7FFFF000, every other register zero and all
 * memory zero (the loader writes nothing on the stack). Linux (qemu-mips) starts with sp at
 * argc. Either way we only align the stack, reserve the o32 argument save area, call
 * `int main(void)` and pass its result to rt_exit (flush buffered output, then exit_group).
 * $gp is not used: the code is built with -G0 -mno-abicalls -fno-pic.
 */
        .section .text.start, "ax", @progbits
        .globl  _start
        .type   _start, @function
        .set    noreorder
        .set    nomacro
_start:
        addiu   $t0, $zero, -8
        and     $sp, $sp, $t0           /* 8-byte aligned stack */
        addiu   $sp, $sp, -32           /* o32 argument save area (16) + padding */
        jal     main
        nop
        jal     rt_exit                 /* rt_exit(main's return value): does not return */
        move    $a0, $v0
1:      b       1b
        nop
        .size   _start, . - _start
