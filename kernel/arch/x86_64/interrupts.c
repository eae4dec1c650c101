/* SPDX-License-Identifier: MIT */
/*
 * interrupts.c - the IDT, interrupt dispatch and vector allocation: CPU
 * exceptions panic with the registers, device vectors call their handler
 * and then EOI the LAPIC.
 */
#include "kernel.h"
#include "init.h"
#include "irq.h"
#include "x86.h"

#define IDT_ENTRIES		256
#define IDT_INTERRUPT_GATE	0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define VECTOR_FIRST_DEVICE	0x30
#define VECTOR_LAST_DEVICE	0xef
#define VECTOR_EXCEPTIONS	32
#define VECTOR_PAGE_FAULT	14

/* Pushed by vectors.S: registers, then what the stub and the CPU pushed. */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static struct {
	irq_handler_fn fn;
	void *arg;
} handlers[IDT_ENTRIES];
static int next_vector = VECTOR_FIRST_DEVICE;

extern char vector_stubs[];	/* vectors.S: 16 bytes per vector */

static const char *const exception_names[VECTOR_EXCEPTIONS] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow",
	"bound range", "invalid opcode", "device not available",
	"double fault", "coprocessor overrun", "invalid TSS",
	"segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 error", "alignment check",
	"machine check", "SIMD error", "virtualization", "control protection",
};

void interrupts_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	for (int v = 0; v < IDT_ENTRIES; v++) {
		uint64_t addr = (uintptr_t)vector_stubs + 16 * v;

		idt[v] = (struct idt_gate){
			.offset_lo = addr & 0xffff,
			.selector = GDT_KCODE,
			.type_attr = IDT_INTERRUPT_GATE,
			.offset_mid = (addr >> 16) & 0xffff,
			.offset_hi = addr >> 32,
		};
	}
	__asm__ volatile("lidt %0" :: "m"(idtr));
}

int irq_alloc_vector(irq_handler_fn fn, void *arg)
{
	int v;

	if (next_vector > VECTOR_LAST_DEVICE)
		return -1;
	v = next_vector++;
	handlers[v].fn = fn;
	handlers[v].arg = arg;
	return v;
}

void irq_set_handler(uint8_t vector, irq_handler_fn fn, void *arg)
{
	handlers[vector].fn = fn;
	handlers[vector].arg = arg;
}

static void __attribute__((noreturn)) exception_panic(const struct trapframe *tf)
{
	const char *name = tf->vector < ARRAY_SIZE(exception_names) &&
			   exception_names[tf->vector] ? exception_names[tf->vector]
						       : "exception";

	printk("\nexception %lu (%s), error %lx at rip %lx\n", tf->vector, name,
	       tf->error, tf->rip);
	if (tf->vector == VECTOR_PAGE_FAULT)
		printk("  cr2 %lx\n", read_cr2());
	printk("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n"
	       "  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n"
	       "  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n"
	       "  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n"
	       "  rflags %lx cs %lx ss %lx\n",
	       tf->rax, tf->rbx, tf->rcx, tf->rdx, tf->rsi, tf->rdi, tf->rbp,
	       tf->rsp, tf->r8, tf->r9, tf->r10, tf->r11, tf->r12, tf->r13,
	       tf->r14, tf->r15, tf->rflags, tf->cs, tf->ss);
	panic("unhandled %s in kernel", name);
}

/* vectors.S calls this with interrupts disabled (interrupt gates). */
void trap(struct trapframe *tf);
void trap(struct trapframe *tf)
{
	if (tf->vector < VECTOR_EXCEPTIONS)
		exception_panic(tf);
	if (tf->vector == LAPIC_SPURIOUS_VECTOR)
		return;		/* spurious: no EOI (Intel SDM vol. 3A 11.9) */
	if (handlers[tf->vector].fn)
		handlers[tf->vector].fn(handlers[tf->vector].arg);
	else
		printk("irq: unexpected vector %lu\n", tf->vector);
	lapic_eoi();
}
