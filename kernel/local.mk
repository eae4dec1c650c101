# kernel: the x86-64 guest kernel, kernel/guest.elf
