/* SPDX-License-Identifier: MIT */
/*
 * console.c - the command prompt on COM1: mem, alloc, free, help. alloc
 * is the memory workload that puts the balloon under pressure: it takes
 * pages through page_alloc (which may deflate the balloon) and holds them.
 */
#include "kernel.h"
#include "init.h"
#include "mm.h"
#include "balloon.h"

#define CONSOLE_PROMPT	"guest> "
#define CONSOLE_LINE_MAX	256
#define ASCII_BS	0x08
#define ASCII_DEL	0x7f

static struct {
	char line[CONSOLE_LINE_MAX];	/* the line being typed */
	size_t len;		/* bytes in line */
	bool too_long;		/* input beyond CONSOLE_LINE_MAX was dropped */
	bool after_cr;		/* last byte was CR: a following LF is part of it */
	struct work input;	/* drains the serial ring buffer */
	struct work prompt;	/* the first prompt, after the boot log */
	/* Pages held by alloc: a stack linked through each page's first 8
	 * bytes (the write that touches the page). */
	paddr_t held;
	uint64_t held_pages;
} con;

static uint64_t pages_to_bytes(uint64_t npages)
{
	return npages * PAGE_SIZE;
}

/* Whole pages holding BYTES (without the overflow of adding 4095 first:
 * a size near 2^64 must not round down to nothing). */
static uint64_t bytes_to_pages(uint64_t bytes)
{
	return bytes / PAGE_SIZE + (bytes % PAGE_SIZE != 0);
}

static uint64_t held_bytes(void)
{
	return pages_to_bytes(con.held_pages);
}

static void hold_page(paddr_t p)
{
	*(paddr_t *)phys_to_virt(p) = con.held;
	con.held = p;
	con.held_pages++;
}

/* Give back up to NPAGES held pages; returns how many. */
static uint64_t release_pages(uint64_t npages)
{
	uint64_t n;

	for (n = 0; n < npages && con.held; n++) {
		paddr_t p = con.held;

		con.held = *(paddr_t *)phys_to_virt(p);
		con.held_pages--;
		page_free(p);
	}
	return n;
}

static bool parse_size_arg(const char *cmd, const char *arg, uint64_t *bytes)
{
	if (!arg) {
		printk("error: %s needs a size (e.g. 4096, 64K, 16M, 1G)\n", cmd);
		return false;
	}
	if (!parse_size(arg, bytes)) {
		printk("error: bad size '%s' (use e.g. 4096, 64K, 16M, 1G)\n", arg);
		return false;
	}
	return true;
}

static void cmd_mem(const char *arg)
{
	printk("mem: total=%lu free=%lu balloon=%lu\n", mm_total_bytes(),
	       mm_free_bytes(), balloon_size_bytes());
}

static void cmd_alloc(const char *arg)
{
	uint64_t bytes, npages, n;

	if (!parse_size_arg("alloc", arg, &bytes))
		return;
	npages = bytes_to_pages(bytes);
	for (n = 0; n < npages; n++) {
		paddr_t p = page_alloc();	/* may deflate the balloon first */

		if (!p)
			break;
		hold_page(p);
	}
	mm_count_minor_faults(n);	/* hold_page touched each one */
	if (n < npages) {
		release_pages(n);	/* a failed alloc holds nothing new */
		printk("alloc: failed after %lu bytes: out of memory (holding %lu bytes)\n",
		       pages_to_bytes(n), held_bytes());
		return;
	}
	printk("alloc: ok %lu bytes (holding %lu bytes)\n", pages_to_bytes(n),
	       held_bytes());
}

static void cmd_free(const char *arg)
{
	uint64_t bytes, n;

	if (arg && strcmp(arg, "all") == 0)
		bytes = held_bytes();
	else if (!parse_size_arg("free", arg, &bytes))
		return;
	n = release_pages(bytes_to_pages(bytes));
	printk("free: ok %lu bytes (holding %lu bytes)\n", pages_to_bytes(n),
	       held_bytes());
}

static void cmd_help(const char *arg);

static const struct command {
	const char *name;
	const char *usage;
	const char *help;
	bool takes_arg;			/* one argument, else none */
	void (*run)(const char *arg);	/* ARG: the argument or NULL */
} commands[] = {
	{ "mem", "mem", "memory in bytes: total, free, held by the balloon", false, cmd_mem },
	{ "alloc", "alloc SIZE", "allocate SIZE (4096, 64K, 16M, 1G), touch and hold it", true, cmd_alloc },
	{ "free", "free SIZE|all", "release SIZE of the held memory, or all of it", true, cmd_free },
	{ "help", "help", "this list", false, cmd_help },
};

static void cmd_help(const char *arg)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printk("%-16s%s\n", commands[i].usage, commands[i].help);
}

/* Split LINE in place into a command word and its first argument. */
static void console_execute(char *line)
{
	char *words[3] = { NULL, NULL, NULL };
	int n = 0;

	for (char *p = line; *p && n < 3;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (!words[0])
		return;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(words[0], commands[i].name) != 0)
			continue;
		if (words[2] || (words[1] && !commands[i].takes_arg)) {
			printk("error: usage: %s\n", commands[i].usage);
			return;
		}
		commands[i].run(words[1]);
		return;
	}
	printk("error: unknown command '%s' (try help)\n", words[0]);
}

static void console_line_done(void)
{
	serial_write("\n", 1);
	con.line[con.len] = '\0';
	if (con.too_long)
		printk("error: line longer than %d bytes\n", CONSOLE_LINE_MAX - 1);
	else
		console_execute(con.line);
	con.len = 0;
	con.too_long = false;
	printk(CONSOLE_PROMPT);
}

/* Work: everything typed since last time, echoed as it is consumed. */
static void console_input(void *arg)
{
	int c;

	while ((c = serial_getc()) >= 0) {
		bool was_cr = con.after_cr;

		con.after_cr = c == '\r';
		if (c == '\n' && was_cr)
			continue;	/* the LF of a CRLF */
		if (c == '\r' || c == '\n') {
			console_line_done();
		} else if (c == ASCII_BS || c == ASCII_DEL) {
			if (con.len) {
				con.len--;
				serial_write("\b \b", 3);
			}
		} else if (c >= ' ' && c < ASCII_DEL) {
			char ch = c;

			if (con.len < CONSOLE_LINE_MAX - 1)
				con.line[con.len++] = ch;
			else
				con.too_long = true;
			serial_write(&ch, 1);
		}
	}
}

static void console_first_prompt(void *arg)
{
	printk(CONSOLE_PROMPT);
}

/* Interrupt context: just hand the bytes to work context. */
static void console_on_input(void)
{
	work_queue(&con.input);
}

void console_init(void)
{
	work_init(&con.input, console_input, NULL);
	work_init(&con.prompt, console_first_prompt, NULL);
	/* Queued, so boot-time work queued earlier (the balloon's status
	 * line) prints before the first prompt. */
	work_queue(&con.prompt);
	serial_enable_rx_irq(console_on_input);
}
