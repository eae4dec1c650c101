/* SPDX-License-Identifier: MIT */
/*
 * test-print.c - vbctl's printer: --json writes exactly the value as JSON
 * (one document, or one line per stream item), text mode writes the text,
 * and a failed write is reported.
 */
#include "config.h"

#include <errno.h>

#include <json-c/json.h>

#include "../tap.h"
#include "../../tools/vbctl/print.h"

static struct vbctl v;
static char *buf;
static size_t len;

static void capture(bool json, bool pretty)
{
	free(buf);
	buf = NULL;
	v.out = open_memstream(&buf, &len);
	v.json = json;
	v.pretty = pretty;
}

static const char *captured(void)
{
	fclose(v.out);
	v.out = NULL;
	return buf;
}

int main(void)
{
	struct json_object *value = json_tokener_parse(
		"{\"path\": \"/machine/peripheral-anon/device[0]\", \"n\": 18446744073709551615}");
	struct json_object *str = json_object_new_string("virtio-balloon-pci");
	struct json_object *empty;
	int rc;

	capture(true, false);
	rc = vbctl_print(&v, 0, value, "text %d\n", 1);
	is_int(rc, 0, "json: printed");
	is_str(captured(), "{\"path\":\"/machine/peripheral-anon/device[0]\",\"n\":18446744073709551615}\n",
	       "json: one plain document, slashes and 2^64-1 as they are");

	capture(true, true);
	vbctl_print(&v, 0, value, NULL);
	is_str(captured(), "{\n  \"path\": \"/machine/peripheral-anon/device[0]\",\n  \"n\": 18446744073709551615\n}\n",
	       "json + pretty: indented");

	capture(true, true);
	vbctl_print(&v, VBCTL_PRINT_STREAM, value, NULL);
	is_str(captured(), "{\"path\":\"/machine/peripheral-anon/device[0]\",\"n\":18446744073709551615}\n",
	       "json stream: one line even when pretty");

	capture(true, false);
	vbctl_print(&v, 0, str, NULL);
	is_str(captured(), "\"virtio-balloon-pci\"\n", "json: a string stays JSON");

	capture(true, false);
	vbctl_print(&v, 0, NULL, NULL);
	is_str(captured(), "null\n", "json: no value is null");

	capture(false, false);
	vbctl_print(&v, 0, value, "actual: %s\n", "2.00 GiB");
	is_str(captured(), "actual: 2.00 GiB\n", "text: the text, not the JSON");

	capture(false, false);
	vbctl_print(&v, 0, str, NULL);
	is_str(captured(), "virtio-balloon-pci\n", "text: a string value as its text");

	capture(false, false);
	json_object_put(str);
	str = json_object_new_string("balloon: actual=2048\r\n");
	vbctl_print(&v, 0, str, NULL);
	is_str(captured(), "balloon: actual=2048\n",
	       "text: a string that ends its line gets no second newline; CRLF as LF");

	capture(false, false);
	json_object_put(str);
	str = json_object_new_string("a\r\nb\rc\r\n\r\n");
	vbctl_print(&v, 0, str, NULL);
	is_str(captured(), "a\nb\rc\n\n", "text: every CRLF as LF, a lone CR kept");

	capture(true, false);
	vbctl_print(&v, 0, str, NULL);
	is_str(captured(), "\"a\\r\\nb\\rc\\r\\n\\r\\n\"\n", "json: the string exactly as QEMU sent it");

	capture(false, false);
	vbctl_print(&v, 0, value, NULL);
	is_str(captured(), "{\n  \"path\": \"/machine/peripheral-anon/device[0]\",\n  \"n\": 18446744073709551615\n}\n",
	       "text: other values as indented JSON");

	/* What "vbctl qmp stop" prints: QEMU's empty return value. */
	capture(false, false);
	empty = json_tokener_parse("{\"a\": {}, \"b\": [], \"c\": [{}], \"d\": \"{\\n}\"}");
	vbctl_print(&v, 0, empty, NULL);
	is_str(captured(), "{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    {}\n  ],\n  \"d\": \"{\\n}\"\n}\n",
	       "text: empty objects and arrays as {} and [], strings untouched");
	capture(false, false);
	json_object_put(empty);
	empty = json_object_new_object();
	vbctl_print(&v, 0, empty, NULL);
	is_str(captured(), "{}\n", "text: an empty return value as {}");
	capture(true, true);
	vbctl_print(&v, 0, empty, NULL);
	is_str(captured(), "{}\n", "json + pretty: an empty return value as {}");

	capture(false, false);
	vbctl_print(&v, VBCTL_PRINT_STREAM, value, NULL);
	is_str(captured(), "{\"path\":\"/machine/peripheral-anon/device[0]\",\"n\":18446744073709551615}\n",
	       "text stream: JSON values on one line");

	/* /dev/full: every write fails with ENOSPC. */
	v.out = fopen("/dev/full", "w");
	if (ok(v.out != NULL, "/dev/full opens")) {
		v.json = false;
		is_int(vbctl_print(&v, VBCTL_PRINT_STREAM, NULL, "x\n"), -EIO,
		       "a stream line that cannot be written is an error");
		fclose(v.out);
		v.out = fopen("/dev/full", "w");
		vbctl_print(&v, 0, NULL, "x\n");
		is_int(vbctl_print_flush(&v), -EIO,
		       "a result that cannot be written is an error at the flush");
		fclose(v.out);
	}
	json_object_put(value);
	json_object_put(str);
	json_object_put(empty);
	free(buf);
	return tap_done();
}
