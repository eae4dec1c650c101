/* SPDX-License-Identifier: MIT */
/*
 * test-kernel-cmdline.c - host unit tests of the guest kernel's command
 * line parser (kernel/lib/cmdline.c) and size parser (parse_size.c).
 */
#include "config.h"

#include "tap.h"
#include "kernel.h"
#include "init.h"

static void size_is(const char *s, uint64_t want)
{
	uint64_t got = 0;
	bool parsed = parse_size(s, &got);

	ok(parsed && got == want, "parse_size(\"%s\") = %" PRIu64, s, want);
	if (!parsed)
		tap_diag("rejected");
	else if (got != want)
		tap_diag("got %" PRIu64, got);
}

static void size_rejected(const char *s, const char *why)
{
	uint64_t got = 42;

	ok(!parse_size(s, &got) && got == 42, "parse_size rejects %s (\"%s\")", why, s);
}

static void test_parse_size(void)
{
	size_is("0", 0);
	size_is("123", 123);
	size_is("4096", 4096);
	size_is("4K", 4096);
	size_is("4k", 4096);
	size_is("16M", 16 * MiB);
	size_is("16m", 16 * MiB);
	size_is("1G", GiB);
	size_is("2T", 2048 * GiB);
	size_is("007M", 7 * MiB);
	size_is("18446744073709551615", UINT64_MAX);
	size_is("16777215T", 16777215ull << 40);
	size_rejected("", "an empty string");
	size_rejected("M", "a unit without a number");
	size_rejected("12X", "an unknown unit");
	size_rejected("4KB", "trailing characters after the unit");
	size_rejected("1.5G", "fractions");
	size_rejected("-1", "negative numbers");
	size_rejected(" 1", "leading space");
	size_rejected("1 ", "trailing space");
	size_rejected("18446744073709551616", "2^64 (overflow)");
	size_rejected("16777216T", "2^64 bytes with a unit (overflow)");
	size_rejected("99999999999999999999999", "a very long number");
	ok(!parse_size(NULL, &(uint64_t){ 0 }), "parse_size rejects NULL");
}

static void test_cmdline(void)
{
	cmdline_parse("balloon.min=16M balloon.debug=1  quiet\tballoon.threshold=24M");
	is_str(cmdline_get("balloon.min"), "16M", "key=value");
	is_str(cmdline_get("balloon.debug"), "1", "second word");
	is_str(cmdline_get("balloon.threshold"), "24M", "tab separates words");
	is_str(cmdline_get("quiet"), "", "a bare word has an empty value");
	is_str(cmdline_get("balloon"), NULL, "a prefix of a key does not match");
	is_str(cmdline_get("balloon.min=16M"), NULL, "the whole word is not a key");
	is_str(cmdline_get("missing"), NULL, "a missing key is NULL");

	cmdline_parse("a=1 b=2 a=3");
	is_str(cmdline_get("a"), "3", "the last occurrence wins");
	is_str(cmdline_get("b"), "2", "others are unaffected");
	{
		int cursor = 0;
		const char *first = cmdline_next("a", &cursor);
		const char *second = cmdline_next("a", &cursor);

		is_str(first, "1", "cmdline_next: the first occurrence first");
		is_str(second, "3", "cmdline_next: then the next one");
		is_str(cmdline_next("a", &cursor), NULL, "cmdline_next: then no more");
		is_str(cmdline_next("a", &cursor), NULL, "cmdline_next: and it stays at the end");
		cursor = 0;
		is_str(cmdline_next("missing", &cursor), NULL, "cmdline_next: a missing key is NULL");
	}

	cmdline_parse("  msg=\"hello world\" x=y=z  ");
	is_str(cmdline_get("msg"), "hello world", "a quoted value keeps its spaces");
	is_str(cmdline_get("x"), "y=z", "the value runs to the end of the word, '=' included");

	cmdline_parse("open=\"unterminated value");
	is_str(cmdline_get("open"), "unterminated value", "an unterminated quote runs to the end");

	cmdline_parse("");
	is_str(cmdline_get("a"), NULL, "parsing again forgets the old line");
	cmdline_parse("   \t ");
	is_str(cmdline_get(""), NULL, "whitespace only: no words");

	cmdline_parse("empty=");
	is_str(cmdline_get("empty"), "", "key= gives an empty value");

	/* Limits: 32 words and 1023 bytes are kept, the rest ignored. */
	char line[4096] = "";
	char word[16];

	for (int i = 0; i < 40; i++) {
		snprintf(word, sizeof(word), "k%d=%d ", i, i);
		strcat(line, word);
	}
	cmdline_parse(line);
	is_str(cmdline_get("k31"), "31", "the 32nd word is kept");
	is_str(cmdline_get("k32"), NULL, "words beyond 32 are ignored");

	memset(line, 'x', 3000);
	memcpy(line, "long=", 5);
	line[3000] = '\0';
	cmdline_parse(line);
	ok(cmdline_get("long") && strlen(cmdline_get("long")) == 1023 - 5,
	   "an over-long line is cut at 1023 bytes");
}

int main(void)
{
	test_parse_size();
	test_cmdline();
	return tap_done();
}
