/* SPDX-License-Identifier: MIT */
/*
 * tap.h - a few macros that make a C unit test speak TAP to automake's
 * tap-driver.sh. Header-only so each test is one .c file.
 */
#ifndef VBALLOON_TESTS_TAP_H
#define VBALLOON_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static inline bool tap_ok(bool cond, const char *file, int line,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline bool tap_ok(bool cond, const char *file, int line,
			  const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	if (!cond) {
		tap_failed++;
		tap_diag("failed at %s:%d", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do { \
	long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
	if (!ok(tap_g_ == tap_w_, __VA_ARGS__)) \
		tap_diag("got %lld, want %lld", tap_g_, tap_w_); \
} while (0)

#define is_u64(got, want, ...) do { \
	uint64_t tap_g_ = (uint64_t)(got), tap_w_ = (uint64_t)(want); \
	if (!ok(tap_g_ == tap_w_, __VA_ARGS__)) \
		tap_diag("got %" PRIu64 ", want %" PRIu64, tap_g_, tap_w_); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *tap_g_ = (got), *tap_w_ = (want); \
	bool tap_eq_ = (tap_g_ && tap_w_) ? strcmp(tap_g_, tap_w_) == 0 \
					  : tap_g_ == tap_w_; \
	if (!ok(tap_eq_, __VA_ARGS__)) \
		tap_diag("got \"%s\", want \"%s\"", tap_g_ ? tap_g_ : "(null)", \
			 tap_w_ ? tap_w_ : "(null)"); \
} while (0)

/* Print the plan at the end and exit 1 if anything failed. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

/* Skip the whole test: "1..0 # SKIP reason", exit 77 (see tests/run-test).
 * With VBALLOON_NO_SKIP=1 (set by CI) a skip is a failure instead. */
static inline void tap_skip_all(const char *why)
{
	if (getenv("VBALLOON_NO_SKIP")) {
		printf("Bail out! cannot run, and skips are not allowed here: %s\n", why);
		exit(1);
	}
	printf("1..0 # SKIP %s\n", why);
	exit(77);
}

#endif
