/* SPDX-License-Identifier: MIT */
/*
 * test-size.c - vbctl's size grammar: every accepted form gives exactly the
 * bytes a user means, every malformed one is refused with a message that
 * names it; and human sizes read as IEC units with exact bytes.
 */
#include "config.h"

#include <errno.h>

#include "../tap.h"
#include "../../tools/vbctl/size.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define TiB (1024ull * GiB)
#define BOOT (2 * GiB)

/* TEXT resolved against a 2 GiB VM currently at CURRENT bytes. */
static int resolve(const char *text, uint64_t current, uint64_t *target,
		   char *err)
{
	struct vbctl_size size;
	int rc;

	rc = vbctl_size_parse(text, &size, err, VBCTL_SIZE_ERR_MAX);
	if (rc)
		return rc;
	return vbctl_size_resolve(&size, text, BOOT, current, target, err,
				  VBCTL_SIZE_ERR_MAX);
}

static void good(const char *text, uint64_t current, uint64_t want)
{
	char err[VBCTL_SIZE_ERR_MAX] = "";
	uint64_t got = 0;
	int rc = resolve(text, current, &got, err);

	if (!ok(rc == 0 && got == want, "'%s' is %llu bytes", text,
		(unsigned long long)want))
		tap_diag("rc %d, got %llu, error: %s", rc,
			 (unsigned long long)got, err);
}

/* Malformed: parse fails with -EINVAL naming TEXT and saying WHY. */
static void bad_syntax(const char *text, const char *why)
{
	char err[VBCTL_SIZE_ERR_MAX] = "", quoted[128];
	struct vbctl_size size;
	int rc = vbctl_size_parse(text, &size, err, sizeof(err));

	snprintf(quoted, sizeof(quoted), "'%s'", text);
	if (!ok(rc == -EINVAL && strstr(err, quoted) && strstr(err, why),
		"'%s' refused: %s", text, why))
		tap_diag("rc %d, message: %s", rc, err);
}

/* Well-formed but out of range for a 2 GiB VM at CURRENT. */
static void bad_range(const char *text, uint64_t current, const char *why)
{
	char err[VBCTL_SIZE_ERR_MAX] = "", quoted[128];
	uint64_t got = 0;
	struct vbctl_size size;
	int rc = vbctl_size_parse(text, &size, err, sizeof(err));

	ok(rc == 0, "'%s' parses", text);
	rc = vbctl_size_resolve(&size, text, BOOT, current, &got, err,
				sizeof(err));
	snprintf(quoted, sizeof(quoted), "'%s'", text);
	if (!ok(rc == -ERANGE && strstr(err, quoted) && strstr(err, why),
		"'%s' at %llu refused: %s", text, (unsigned long long)current, why))
		tap_diag("rc %d, got %llu, message: %s", rc,
			 (unsigned long long)got, err);
}

static void human(uint64_t bytes, const char *want)
{
	char buf[VBCTL_SIZE_HUMAN_MAX];

	is_str(vbctl_size_human(bytes, buf, sizeof(buf)), want, "%llu bytes reads '%s'",
	       (unsigned long long)bytes, want);
}

int main(void)
{
	/* Bytes and binary units; case does not matter. */
	good("1073741824", BOOT, GiB);
	good("1", BOOT, 1);
	good("512B", BOOT, 512);
	good("1K", BOOT, KiB);
	good("1k", BOOT, KiB);
	good("512M", BOOT, 512 * MiB);
	good("512m", BOOT, 512 * MiB);
	good("1G", BOOT, GiB);
	good("2g", BOOT, 2 * GiB);
	good("1KiB", BOOT, KiB);
	good("1MiB", BOOT, MiB);
	good("1GiB", BOOT, GiB);
	good("1gib", BOOT, GiB);
	/* Decimal units. */
	good("1KB", BOOT, 1000);
	good("1MB", BOOT, 1000000);
	good("1GB", BOOT, 1000000000);
	good("1gb", BOOT, 1000000000);
	good("2.1GB", BOOT, 2100000000);
	/* Decimals, exact to the byte. */
	good("1.5G", BOOT, GiB + GiB / 2);
	good("1.25G", BOOT, GiB + GiB / 4);
	good("0.5K", BOOT, 512);
	good("1.0", BOOT, 1);
	good("0001G", BOOT, GiB);
	/* Percent of boot memory, rounded down to bytes. */
	good("50%", BOOT, GiB);
	good("100%", BOOT, 2 * GiB);
	good("33%", BOOT, 708669603);	/* 2 GiB * 0.33 = 708669603.84 */
	good("12.5%", BOOT, 256 * MiB);
	good("0.01%", BOOT, 214748);	/* 214748.3648 */
	/* Relative to the current size. */
	good("-512M", BOOT, 1536 * MiB);
	good("+512M", GiB, 1536 * MiB);
	good("+1G", GiB, 2 * GiB);	/* exactly boot memory: allowed */
	good("-25%", BOOT, 1536 * MiB);
	good("+25%", GiB, 1536 * MiB);
	good("-1", BOOT, 2 * GiB - 1);

	/* Malformed. */
	bad_syntax("", "empty");
	bad_syntax("G", "expected a number");
	bad_syntax("+", "expected a number");
	bad_syntax("-", "expected a number");
	bad_syntax("--1G", "expected a number");
	bad_syntax("+-1G", "expected a number");
	bad_syntax(" 1G", "expected a number");
	bad_syntax(".5G", "expected a number");
	bad_syntax("1.G", "expected digits after '.'");
	bad_syntax("12Q", "unknown unit 'Q'");
	bad_syntax("1G ", "unknown unit 'G '");
	bad_syntax("1 G", "unknown unit ' G'");
	bad_syntax("1GG", "unknown unit 'GG'");
	bad_syntax("1Gi", "unknown unit 'Gi'");
	bad_syntax("1GIBB", "unknown unit 'GIBB'");
	bad_syntax("1PB", "unknown unit 'PB'");
	bad_syntax("1e9", "unknown unit 'e9'");
	bad_syntax("0x10", "unknown unit 'x10'");
	bad_syntax("1,5G", "unknown unit ',5G'");
	bad_syntax("1.2.3G", "unknown unit '.3G'");
	bad_syntax("50%%", "unknown unit '%%'");
	bad_syntax("50 %", "unknown unit ' %'");
	bad_syntax("%", "expected a number");
	bad_syntax("1%G", "unknown unit '%G'");
	bad_syntax("1.5", "not a whole number of bytes");
	bad_syntax("0.3K", "not a whole number of bytes");
	bad_syntax("0.001TiB", "not a whole number of bytes");
	bad_syntax("0", "more than 0 bytes");
	bad_syntax("0G", "more than 0 bytes");
	bad_syntax("0.0M", "more than 0 bytes");
	bad_syntax("0%", "more than 0 bytes");
	bad_syntax("+0", "a change of 0 does nothing");
	bad_syntax("-0%", "a change of 0 does nothing");
	bad_syntax("18446744073709551616", "too large");
	bad_syntax("99999999999999999999999", "too large");
	bad_syntax("16777216T", "too large");	/* 2^64 */
	bad_syntax("1.00000000000000000001G", "too many decimals");
	bad_syntax("1.00000000000000000001%", "too many decimals");

	/* Out of range for a 2 GiB VM. */
	bad_range("3G", BOOT, "above the VM's boot memory 2.00 GiB (2147483648 bytes)");
	bad_range("2147483649", BOOT, "above the VM's boot memory");
	bad_range("101%", BOOT, "above the VM's boot memory");
	bad_range("1000%", BOOT, "above the VM's boot memory");
	bad_range("+1", BOOT, "above the VM's boot memory");
	bad_range("+1G", 1536 * MiB, "target 2.50 GiB (2684354560 bytes) is above");
	bad_range("16777215T", BOOT, "above the VM's boot memory");
	bad_range("-2G", BOOT, "the target would be 0 bytes or less: the current size is only 2.00 GiB");
	bad_range("-3G", BOOT, "the current size is only");
	bad_range("-100%", BOOT, "the current size is only");

	/* Human sizes: IEC, two decimals, exact bytes. */
	human(0, "0 bytes");
	human(1, "1 byte");
	human(1023, "1023 bytes");
	human(1024, "1.00 KiB (1024 bytes)");
	human(1536 * MiB, "1.50 GiB (1610612736 bytes)");
	human(2 * GiB, "2.00 GiB (2147483648 bytes)");
	human(TiB, "1.00 TiB (1099511627776 bytes)");
	human(UINT64_MAX, "16.00 EiB (18446744073709551615 bytes)");
	return tap_done();
}
