# The guest `accel = "auto"` boots under KVM to prove KVM runs guests: loaded by QEMU's
# multiboot loader at 1 MiB in 32-bit protected mode, it writes 128 MiB of memory (where
# nested virtualization breaks, each page a guest first touches takes a millisecond or more), enters
# long mode and asks QEMU to exit through the isa-debug-exit device (exit status 85).
# Assemble with:
#   as --64 -o kvm_probe.o kvm_probe.S
#   ld -m elf_x86_64 -Ttext=0x100000 -e start --oformat=binary -o kvm_probe.bin kvm_probe.o
    .code32
    .text
    .globl start
header:                             # the multiboot header, with load addresses
    .long 0x1BADB002
    .long 0x00010000
    .long -(0x1BADB002 + 0x00010000)
    .long header                    # header_addr
    .long header                    # load_addr
    .long 0                         # load_end_addr: the whole file
    .long 0                         # bss_end_addr: none
    .long start                     # entry_addr
start:
    mov $0x200000, %edi             # fill 128 MiB from 2 MiB
    mov $0x2000000, %ecx
    xor %eax, %eax
    rep stosl
    mov %cr4, %eax                  # PAE
    or $0x20, %eax
    mov %eax, %cr4
    mov $pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx           # EFER.LME
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax                  # paging and protection on: long mode
    or $0x80000001, %eax
    mov %eax, %cr0
    lgdt gdtr
    ljmp $0x08, $long
    .code64
long:
    mov $0x2a, %al                  # isa-debug-exit: QEMU exits with (0x2a << 1) | 1
    out %al, $0xf4
1:  hlt
    jmp 1b
    .balign 8
gdt:
    .quad 0
    .quad 0x00209A0000000000        # a 64-bit code segment
gdtr:
    .word gdtr - gdt - 1
    .long gdt
    .balign 4096                    # page tables: the first 2 MiB mapped to itself
pml4:
    .quad pdpt + 3
    .fill 511, 8, 0
pdpt:
    .quad pd + 3
    .fill 511, 8, 0
pd:
    .quad 0x83
    .fill 511, 8, 0
