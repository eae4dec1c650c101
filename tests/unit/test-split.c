/* SPDX-License-Identifier: MIT */
/*
 * test-split.c - the shell's quote-aware line splitter: what a person
 * types must become the words they meant, and a broken line must be
 * refused with a message naming what is wrong.
 */
#include "config.h"

#include "../tap.h"
#include "../../tools/vbctl/split.h"

/* LINE with tabs and newlines spelled out, for one-line TAP descriptions. */
static const char *printable(const char *line)
{
	static char buf[256];
	size_t n = 0;

	for (; *line && n + 3 < sizeof(buf); line++) {
		if (*line == '\t' || *line == '\n') {
			buf[n++] = '\\';
			buf[n++] = *line == '\t' ? 't' : 'n';
		} else {
			buf[n++] = *line;
		}
	}
	buf[n] = '\0';
	return buf;
}

/* Split LINE and compare with the NULL-terminated WANT list. */
static void check(const char *raw, unsigned flags, const char *const *want)
{
	struct split s;
	int n = 0, i;
	const char *line = printable(raw);

	while (want[n])
		n++;
	if (!ok(split_line(raw, flags, &s) == 0, "[%s] splits", line)) {
		tap_diag("error: %s", s.error);
		return;
	}
	is_int(s.argc, n, "[%s] gives %d words", line, n);
	for (i = 0; i < n && i < s.argc; i++)
		is_str(s.argv[i], want[i], "[%s] word %d", line, i);
	ok(s.argv[s.argc] == NULL, "[%s] argv is NULL-terminated", line);
	split_free(&s);
}

static void check_error(const char *line, const char *want_in_error)
{
	struct split s;

	ok(split_line(line, 0, &s) == -1, "[%s] is refused", line);
	if (!ok(strstr(s.error, want_in_error) != NULL,
		"[%s] error names the problem", line))
		tap_diag("error \"%s\" lacks \"%s\"", s.error, want_in_error);
	ok(s.argv == NULL && s.argc == 0, "[%s] leaves nothing to free", line);
}

#define W(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

int main(void)
{
	/* blanks */
	check("", 0, NONE);
	check(" \t \n", 0, NONE);
	check("query", 0, W("query"));
	check("  set\t1G  ", 0, W("set", "1G"));
	check("a  b\tc\nd", 0, W("a", "b", "c", "d"));

	/* quotes */
	check("'a b' c", 0, W("a b", "c"));
	check("\"a b\"", 0, W("a b"));
	check("''", 0, W(""));
	check("a '' b", 0, W("a", "", "b"));
	check("a''b", 0, W("ab"));
	check("'it\"s'", 0, W("it\"s"));
	check("\"it's\"", 0, W("it's"));
	check("'a\\b'", 0, W("a\\b"));
	check("\"a\\\"b\\\\c\\d\"", 0, W("a\"b\\c\\d"));
	check("pre'mid dle'post", 0, W("premid dlepost"));

	/* what qmp-shell syntax needs: a string that looks like a number */
	check("qom-set balloon x value='\"2\"'", 0,
	      W("qom-set", "balloon", "x", "value=\"2\""));
	check("value=\\\"2\\\"", 0, W("value=\"2\""));
	check("a.b=1 c=2", 0, W("a.b=1", "c=2"));
	check("hmp info  status", 0, W("hmp", "info", "status"));

	/* JSON values are kept whole, quotes and blanks included */
	check("blockdev-add file={\"driver\": \"null-co\", \"size\": 512} x=1", 0,
	      W("blockdev-add", "file={\"driver\": \"null-co\", \"size\": 512}", "x=1"));
	check("a=[1, \"two three\", {\"b\": [2]}] c=3", 0,
	      W("a=[1, \"two three\", {\"b\": [2]}]", "c=3"));
	check("{\"execute\": \"stop\"}", 0, W("{\"execute\": \"stop\"}"));
	check("a={\"s\": \"}]\\\" \"}", 0, W("a={\"s\": \"}]\\\" \"}"));
	check("a=b={x y}", 0, W("a=b={x", "y}"));
	check("'a'={x y}", 0, W("a={x", "y}"));
	check("a='{\"b\": 1}'", 0, W("a={\"b\": 1}"));
	check("a=\"{b}\"", 0, W("a={b}"));

	/* backslash outside quotes */
	check("a\\ b", 0, W("a b"));
	check("\\'x", 0, W("'x"));
	check("\\\\", 0, W("\\"));

	/* errors */
	check_error("it's", "unterminated ' quote starting at column 3");
	check_error("say \"hi there", "unterminated \" quote starting at column 5");
	check_error("a \"b\\\"", "unterminated \"");
	check_error("trailing\\", "ends with a backslash");
	check_error("a x={\"b\": [1, 2}", "unterminated JSON object starting at column 5");
	check_error("a [1, 2", "unterminated JSON array starting at column 3");

	/* half-typed lines, for completion */
	check("", SPLIT_PARTIAL, W(""));
	check("bal", SPLIT_PARTIAL, W("bal"));
	check("balloon va", SPLIT_PARTIAL, W("balloon", "va"));
	check("balloon ", SPLIT_PARTIAL, W("balloon", ""));
	check("qom-get 'ab c", SPLIT_PARTIAL, W("qom-get", "ab c"));
	check("x\\", SPLIT_PARTIAL, W("x"));
	check("x ''", SPLIT_PARTIAL, W("x", ""));
	check("blockdev-add file={\"dri", SPLIT_PARTIAL,
	      W("blockdev-add", "file={\"dri"));

	return tap_done();
}
