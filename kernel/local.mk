# kernel: the x86-64 guest kernel, kernel/guest.elf.
#
# Built with its own rules and $(KERNEL_CC), never with AM_CFLAGS or the
# user's CFLAGS: sanitizer and hosted flags must not reach freestanding
# code. The VIRTIO side adds its files with "KERNEL_SRC += ..." in a
# block of its own below.

KERNEL_SRC = \
	kernel/arch/x86_64/boot.S \
	kernel/arch/x86_64/clock.c \
	kernel/arch/x86_64/interrupts.c \
	kernel/arch/x86_64/ioapic.c \
	kernel/arch/x86_64/lapic.c \
	kernel/arch/x86_64/paging.c \
	kernel/arch/x86_64/pvh.c \
	kernel/arch/x86_64/vectors.S \
	kernel/bus/pci.c \
	kernel/core/work.c \
	kernel/drivers/serial.c \
	kernel/console.c \
	kernel/lib/cmdline.c \
	kernel/lib/parse_size.c \
	kernel/lib/printk.c \
	kernel/lib/string.c \
	kernel/mm/page_alloc.c \
	kernel/main.c

KERNEL_HDR = \
	kernel/include/balloon.h \
	kernel/include/init.h \
	kernel/include/io.h \
	kernel/include/irq.h \
	kernel/include/kernel.h \
	kernel/include/mm.h \
	kernel/include/pci.h \
	kernel/arch/x86_64/pvclock.h \
	kernel/arch/x86_64/x86.h \
	kernel/arch/x86_64/x86_asm.h

KERNEL_CPP_FLAGS = -I$(top_srcdir)/kernel/include -I$(top_srcdir)/kernel/arch/x86_64 \
	-I$(top_srcdir)/kernel
# -mgeneral-regs-only: no SSE/x87 state to save in interrupt handlers;
# -mno-red-zone: interrupts push onto the stack below %rsp;
# -mcmodel=small -fno-pie: linked and run at 1 MiB, identity-mapped.
KERNEL_C_FLAGS = -std=gnu11 -O2 -g -m64 -ffreestanding -fno-builtin -fno-pie -fno-pic \
	-mcmodel=small -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-common \
	$(WARN_CFLAGS) $(KERNEL_DEBUG_CFLAGS) -MMD -MP
KERNEL_LD_FLAGS = -m elf_x86_64 -nostdlib -static -z max-page-size=4096
KERNEL_OBJS = $(patsubst %,kernel/.objs/%.o,$(basename $(KERNEL_SRC)))

EXTRA_DIST += $(KERNEL_SRC) $(KERNEL_HDR) kernel/kernel.ld
CLEANFILES += kernel/guest.elf

if BUILD_KERNEL
# Installed as data: it runs inside QEMU, never on the host.
guestdir = $(pkgdatadir)
guest_DATA = kernel/guest.elf

# Makefile too: a file dropped from KERNEL_SRC must relink.
kernel/guest.elf: $(KERNEL_OBJS) $(top_srcdir)/kernel/kernel.ld Makefile
	$(AM_V_GEN)$(KERNEL_LD) $(KERNEL_LD_FLAGS) -T $(top_srcdir)/kernel/kernel.ld \
		-o $@ $(KERNEL_OBJS)

kernel/.objs/%.o: $(top_srcdir)/%.c
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(KERNEL_CC) $(KERNEL_CPP_FLAGS) $(KERNEL_C_FLAGS) -c -o $@ $<

kernel/.objs/%.o: $(top_srcdir)/%.S
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(KERNEL_CC) $(KERNEL_CPP_FLAGS) -m64 -MMD -MP -c -o $@ $<

-include $(KERNEL_OBJS:.o=.d)

else
kernel/guest.elf:
	@echo "kernel/guest.elf: configure found no x86-64 toolchain for the guest kernel" >&2; exit 1
endif

# make run: boot the guest like the seed's "make ENABLE_BALLOON=1 ENABLE_QMP=1
# run". Override on the command line: make run MEM=4G APPEND="balloon.min=32M".
MEM = 2G
MACHINE = q35
# kvm only where it can run ordinary guests: the CPU has vmx/svm and
# /dev/kvm is writable; everywhere else TCG.
ACCEL = $(shell grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null && test -w /dev/kvm && echo kvm || echo tcg)
# QMP at the top of the source tree, where vbctl looks by default when run
# from there (./qmp-sock) and where scripts/setup.sh puts it, whichever
# directory make runs in.
QMP_SOCK = $(abspath $(top_srcdir)/qmp-sock)
ENABLE_BALLOON = 1
ENABLE_QMP = 1
BALLOON_DEVICE = virtio-balloon-pci,deflate-on-oom=on
APPEND =
SERIAL_LOG = ./guest-console.log
GUEST_QEMU_ARGS = -accel $(ACCEL) $(if $(filter kvm,$(ACCEL)),-cpu host) \
	-machine $(MACHINE) -m $(MEM) -nodefaults -display none -no-reboot \
	-kernel kernel/guest.elf -append '$(APPEND)' \
	$(if $(filter 1,$(ENABLE_BALLOON)),-device $(BALLOON_DEVICE)) \
	$(if $(filter 1,$(ENABLE_QMP)),$(GUEST_QMP_ARGS))
GUEST_QMP_ARGS = -qmp unix:$(QMP_SOCK),server=on,wait=off

run-qemu-check:
	@test -n "$(QEMU)" || { echo "make run: qemu-system-x86_64 not found (apt-get install qemu-system-x86)" >&2; exit 1; }

# Serial console on the terminal; Ctrl-A x quits, Ctrl-A c is QEMU's monitor.
run: kernel/guest.elf run-qemu-check
	@echo "Booting kernel/guest.elf: $(MACHINE), $(MEM), $(ACCEL)$(if $(filter 1,$(ENABLE_QMP)), with QMP on $(QMP_SOCK)). Ctrl-A x quits."
	$(QEMU) $(GUEST_QEMU_ARGS) -serial mon:stdio

# The same VM detached: console to $(SERIAL_LOG), QEMU's pid in $(QMP_SOCK).pid.
run-background: kernel/guest.elf run-qemu-check
	$(QEMU) $(GUEST_QEMU_ARGS) -serial file:$(SERIAL_LOG) -daemonize \
		-pidfile $(QMP_SOCK).pid
PHONY += run run-background run-qemu-check

clean-local: clean-kernel
clean-kernel:
	-rm -rf kernel/.objs
PHONY += clean-kernel

# VIRTIO (kvirtio): the virtio core, the virtio-pci and virtio-mmio transports, and the
# balloon driver with its pure bookkeeping (also built for host tests).
KERNEL_SRC += \
	kernel/virtio/virtio.c \
	kernel/virtio/virtqueue.c \
	kernel/virtio/virtio_pci.c \
	kernel/virtio/virtio_pci_modern.c \
	kernel/virtio/virtio_pci_legacy.c \
	kernel/virtio/virtio_mmio.c \
	kernel/virtio/virtio_mmio_arg.c \
	kernel/drivers/balloon.c \
	kernel/drivers/balloon_pfns.c \
	kernel/drivers/balloon_policy.c
KERNEL_HDR += \
	kernel/include/virtio.h \
	kernel/virtio/virtio_pci.h \
	kernel/virtio/virtio_mmio_arg.h \
	kernel/drivers/balloon_pfns.h \
	kernel/drivers/balloon_policy.h
