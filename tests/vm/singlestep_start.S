# _start with a fixed stack in .bss, so that qemu (which sets up its own stack) and the VM run
# with identical registers from the first step on.
  .set noreorder
  .text
  .globl _start
_start:
  la $sp, stack_top
  jal main
  nop
  move $a0, $v0
  li $v0, 4246
  syscall
  nop
  .bss
  .align 4
  .space 65536
stack_top:
