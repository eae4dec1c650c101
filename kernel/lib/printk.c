/* SPDX-License-Identifier: MIT */
/*
 * printk.c - formatted output: vsnprintk (the few printf conversions the
 * kernel needs), printk to the serial console, and panic.
 */
#include "kernel.h"
#include "init.h"
#include "x86.h"

/* Output cursor that counts what would have been written, like snprintf. */
struct outbuf {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct outbuf *o, const char *s, size_t n, int width,
		       bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left)
		while (fill-- > 0)
			put(o, pad);
	while (n--)
		put(o, *s++);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

static void put_number(struct outbuf *o, uint64_t v, bool negative, unsigned base,
		       int width, bool left, char pad)
{
	char digits[24];
	int i = sizeof(digits);

	do {
		digits[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative) {
		if (pad == '0') {	/* the sign goes before zero padding */
			put(o, '-');
			width--;
		} else {
			digits[--i] = '-';
		}
	}
	put_padded(o, digits + i, sizeof(digits) - i, width, left, pad);
}

int vsnprintk(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		bool left = false;
		char pad = ' ';
		int width = 0, longs = 0;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		for (; *fmt == '-' || *fmt == '0'; fmt++) {
			if (*fmt == '-')
				left = true;
			else
				pad = '0';
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			longs++;
		if (left)
			pad = ' ';

		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);

			put_number(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0,
				   10, width, left, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);

			put_number(&o, v, false, *fmt == 'u' ? 10 : 16, width, left, pad);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, (uintptr_t)va_arg(ap, void *), false, 16,
				   width, left, pad);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			put_padded(&o, s, strlen(s), width, left, ' ');
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;	/* a lone '%' at the end: stop at the NUL */
			break;
		default:	/* unknown conversion: show it as written */
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintk(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintk(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int printk(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintk(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_write(buf, MIN((size_t)n, sizeof(buf) - 1));
	return n;
}

/* Print the return addresses up the frame-pointer chain (the kernel is
 * built with -fno-omit-frame-pointer; boot.S ends the chain with rbp 0). */
static void print_backtrace(void)
{
	uint64_t *fp = __builtin_frame_address(0);

	printk("backtrace:");
	for (int i = 0; fp && i < 16; i++) {
		printk(" %lx", fp[1]);
		fp = (uint64_t *)fp[0];
	}
	printk("\n");
}

void panic(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	__asm__ volatile("cli");
	va_start(ap, fmt);
	vsnprintk(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printk("\npanic: %s\n", buf);
	print_backtrace();
	halt_forever();
}
