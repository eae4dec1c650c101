/* SPDX-License-Identifier: MIT */
/*
 * serial.c - COM1 (16550 UART at I/O port 0x3F8), 115200 8N1: polled
 * output for printk, interrupt-driven input (ISA IRQ 4 via the IOAPIC)
 * drained into a ring buffer so pasted lines are not lost.
 */
#include "kernel.h"
#include "init.h"
#include "io.h"
#include "irq.h"

#define COM1		0x3f8
#define COM1_IRQ	4
/* 16550 registers (offsets from the base port). */
#define UART_RBR	0	/* receive buffer (read) */
#define UART_THR	0	/* transmit holding (write) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1	/* interrupt enable */
#define UART_DLM	1	/* divisor latch high (DLAB=1) */
#define UART_FCR	2	/* FIFO control (write) */
#define UART_LCR	3	/* line control */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status */
#define IER_RX		0x01	/* interrupt on received data */
#define FCR_ENABLE	0x01
#define FCR_CLEAR	0x06	/* clear RX and TX FIFOs */
#define FCR_TRIG_8	0x80	/* RX interrupt at 8 bytes (or timeout) */
#define LCR_8N1		0x03
#define LCR_DLAB	0x80
#define MCR_DTR_RTS	0x03
#define MCR_OUT2	0x08	/* gates the UART's IRQ line on PC boards */
#define LSR_DR		0x01	/* a received byte is waiting */
#define LSR_THRE	0x20	/* transmit holding register empty */

/*
 * Received bytes. The interrupt handler is the only writer of rx_head and
 * serial_getc() (work context) the only writer of rx_tail; each reads the
 * other's index, so a compiler barrier orders "store byte, then publish
 * head" (x86 does not reorder stores with stores).
 */
static struct {
	char buf[4096];
	volatile uint32_t head;	/* next slot the IRQ handler fills */
	volatile uint32_t tail;	/* next byte serial_getc() returns */
	void (*on_input)(void);
} rx;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1);	/* 115200 / 1 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE | FCR_CLEAR | FCR_TRIG_8);
	outb(COM1 + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
}

static void serial_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THRE))
		cpu_relax();
	outb(COM1 + UART_THR, c);
}

void serial_write(const char *s, size_t n)
{
	for (; n; n--, s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}

static void serial_irq(void *arg)
{
	bool got = false;

	/* Reading RBR until LSR says empty also acknowledges the interrupt. */
	while (inb(COM1 + UART_LSR) & LSR_DR) {
		char c = inb(COM1 + UART_RBR);

		if (rx.head - rx.tail == sizeof(rx.buf))
			continue;	/* full: 4 KiB unread, drop the byte */
		rx.buf[rx.head % sizeof(rx.buf)] = c;
		barrier();	/* byte before index */
		rx.head++;
		got = true;
	}
	if (got && rx.on_input)
		rx.on_input();
}

void serial_enable_rx_irq(void (*on_input)(void))
{
	int vector = irq_alloc_vector(serial_irq, NULL);

	if (vector < 0)
		panic("serial: no interrupt vector left");
	rx.on_input = on_input;
	ioapic_route_isa(COM1_IRQ, vector);
	outb(COM1 + UART_IER, IER_RX);
	/* Bytes that arrived before the IRQ was routed raised no interrupt. */
	uint64_t flags = irq_save();
	serial_irq(NULL);
	irq_restore(flags);
}

int serial_getc(void)
{
	char c;

	if (rx.tail == rx.head)
		return -1;
	barrier();	/* index before byte */
	c = rx.buf[rx.tail % sizeof(rx.buf)];
	barrier();	/* byte read before the slot is handed back */
	rx.tail++;
	return (unsigned char)c;
}
