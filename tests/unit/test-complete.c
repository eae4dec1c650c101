/* SPDX-License-Identifier: MIT */
/*
 * test-complete.c - the shell's Tab completion on fixed data: a fragment
 * of QEMU 7.2's query-qmp-schema (tests/unit/qmp-schema-fragment.json),
 * a query-commands list and qom-list answers, with no QEMU running.
 * Each case is a half-typed line and exactly what Tab must offer.
 */
#include "config.h"

#include <errno.h>

#include <json-c/json.h>

#include "../tap.h"
#include "../../tools/vbctl/complete.h"
#include "../../tools/vbctl/qmp-schema.h"
#include "../../tools/vbctl/shell-line.h"
#include "../../tools/vbctl/split.h"
#include "../../tools/vbctl/vbctl.h"

#define BALLOON "/machine/peripheral-anon/device[0]"

static const char query_commands[] =
	"[{\"name\": \"query-balloon\"}, {\"name\": \"balloon\"},"
	" {\"name\": \"qom-list\"}, {\"name\": \"qom-get\"}, {\"name\": \"qom-set\"},"
	" {\"name\": \"set-action\"}, {\"name\": \"set_password\"},"
	" {\"name\": \"query-cpu-model-expansion\"}, {\"name\": \"migrate\"},"
	" {\"name\": \"stop\"}, {\"name\": \"cont\"},"
	" {\"name\": \"human-monitor-command\"}, {\"name\": \"query-commands\"}]";

static const struct {
	const char *path, *list;
} qom[] = {
	{ "/", "[{\"name\": \"type\", \"type\": \"string\"},"
	       " {\"name\": \"machine\", \"type\": \"child<pc-q35-7.2-machine>\"},"
	       " {\"name\": \"objects\", \"type\": \"child<container>\"}]" },
	{ "/machine/", "[{\"name\": \"type\", \"type\": \"string\"},"
		       " {\"name\": \"peripheral-anon\", \"type\": \"child<container>\"},"
		       " {\"name\": \"peripheral\", \"type\": \"child<container>\"},"
		       " {\"name\": \"smram\", \"type\": \"link<memory-region>\"},"
		       " {\"name\": \"smm\", \"type\": \"OnOffAuto\"}]" },
	{ "/machine/peripheral-anon/",
	  "[{\"name\": \"type\", \"type\": \"string\"},"
	  " {\"name\": \"device[0]\", \"type\": \"child<virtio-balloon-pci>\"}]" },
	{ BALLOON "/",
	  "[{\"name\": \"type\", \"type\": \"string\"},"
	  " {\"name\": \"bus master[0]\", \"type\": \"child<memory-region>\"},"
	  " {\"name\": \"virtio-backend\", \"type\": \"child<virtio-balloon-device>\"}]" },
	{ BALLOON,
	  "[{\"name\": \"type\", \"type\": \"string\"},"
	  " {\"name\": \"guest-stats\", \"type\": \"guest statistics\"},"
	  " {\"name\": \"guest-stats-polling-interval\", \"type\": \"int\"},"
	  " {\"name\": \"deflate-on-oom\", \"type\": \"bool\"}]" },
};

/* Completes the half-typed LINE as the shell does and checks that the
 * candidates are exactly WANT (NULL-terminated, sorted). */
static void offers(struct completer *c, const char *line,
		   const char *const *want)
{
	struct split s;
	char **got;
	size_t n, i, nwant = 0;
	bool same;

	while (want[nwant])
		nwant++;
	if (split_line(line, SPLIT_PARTIAL, &s)) {
		ok(0, "[%s] splits", line);
		return;
	}
	got = completer_complete(c, s.argc - 1, s.argv, s.argv[s.argc - 1], &n);
	same = n == nwant;
	for (i = 0; same && i < n; i++)
		same = strcmp(got[i], want[i]) == 0;
	if (!ok(same, "[%s] offers %zu candidate(s)", line, nwant)) {
		for (i = 0; i < n; i++)
			tap_diag("got  %s", got[i]);
		for (i = 0; i < nwant; i++)
			tap_diag("want %s", want[i]);
	}
	if (nwant == 0)
		ok(got == NULL, "[%s] gives NULL for nothing", line);
	completer_free_list(got);
	split_free(&s);
}

/* Checks that LINE offers at least the candidates in WANT. */
static void offers_some(struct completer *c, const char *line,
			const char *const *want)
{
	struct split s;
	char **got;
	size_t n, i, j;

	if (split_line(line, SPLIT_PARTIAL, &s)) {
		ok(0, "[%s] splits", line);
		return;
	}
	got = completer_complete(c, s.argc - 1, s.argv, s.argv[s.argc - 1], &n);
	for (j = 0; want[j]; j++) {
		bool found = false;

		for (i = 0; i < n; i++)
			found = found || strcmp(got[i], want[j]) == 0;
		ok(found, "[%s] offers %s", line, want[j]);
	}
	completer_free_list(got);
	split_free(&s);
}

static struct json_object *load_schema(void)
{
	const char *srcdir = getenv("top_srcdir");
	char path[4096];

	snprintf(path, sizeof(path), "%s/tests/unit/qmp-schema-fragment.json",
		 srcdir ? srcdir : ".");
	return json_object_from_file(path);
}

#define W(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

int main(void)
{
	struct json_object *schema = load_schema();
	struct completer *c;
	struct vbctl v;
	char *describe = NULL;
	size_t describe_len = 0;
	FILE *f;
	size_t i;

	if (!schema)
		tap_skip_all("cannot read tests/unit/qmp-schema-fragment.json (is top_srcdir set?)");
	vbctl_init(&v);
	/* The balloon alias resolves through the cache vbctl keeps. */
	v.balloon_path = strdup(BALLOON);
	/* The shell's completer: quit, exit and hmp are commands there. */
	v.in_shell = true;
	c = completer_new(&v);
	ok(c != NULL, "completer_new");
	is_int(completer_set_schema(c, schema), 0, "schema loads");
	completer_set_commands(c, json_tokener_parse(query_commands));
	for (i = 0; i < sizeof(qom) / sizeof(*qom); i++)
		completer_set_qom_list(c, qom[i].path,
				       json_tokener_parse(qom[i].list));

	/* command names: vbctl's table, the shell's own, QMP's */
	offers_some(c, "", W("query", "set", "stats", "help", "shell", "quit",
			     "hmp", "query-balloon", "balloon", "stop"));
	offers(c, "query-b", W("query-balloon"));
	offers(c, "qu", W("query", "query-balloon", "query-commands",
			  "query-cpu-model-expansion", "quit"));
	offers(c, "hm", W("hmp"));
	v.in_shell = false;
	offers(c, "hm", NONE);
	offers(c, "ex", W("exporter"));
	v.in_shell = true;
	offers(c, "ex", W("exit", "exporter"));
	offers(c, "  st", W("stats", "stop"));
	offers(c, "zzz", NONE);

	/* argument names of QMP commands, from the schema */
	offers(c, "balloon va", W("value="));
	offers(c, "balloon ", W("value="));
	offers(c, "balloon value=1 ", NONE);
	offers(c, "set-action ", W("panic=", "reboot=", "shutdown=", "watchdog="));
	offers(c, "set-action panic=none ", W("reboot=", "shutdown=", "watchdog="));
	offers(c, "stop ", NONE);
	offers(c, "no-such-command ", NONE);
	/* a union: the tag's value brings its variant's members */
	offers(c, "set_password ", W("connected=", "password=", "protocol="));
	offers(c, "set_password protocol=vnc ",
	       W("connected=", "display=", "password="));
	offers(c, "set_password protocol=spice ", W("connected=", "password="));
	/* nested objects: "model." then dotted keys */
	offers(c, "query-cpu-model-expansion ", W("model.", "type="));
	offers(c, "query-cpu-model-expansion model.", W("model.name=", "model.props="));
	offers(c, "query-cpu-model-expansion model.name=max model.",
	       W("model.props="));

	/* values: enums and booleans */
	offers(c, "set-action panic=", W("panic=exit-failure", "panic=none",
					 "panic=pause", "panic=shutdown"));
	offers(c, "set-action panic=ex", W("panic=exit-failure"));
	offers(c, "query-cpu-model-expansion type=", W("type=full", "type=static"));
	offers(c, "migrate detach=", W("detach=false", "detach=true"));
	offers(c, "balloon value=", NONE);
	offers(c, "set_password protocol=", W("protocol=spice", "protocol=vnc"));

	/* QOM paths: start, walk down with '/', escape blanks */
	offers(c, "qom-list ", W("/", "balloon", "path="));
	offers(c, "qom-list /", W("/machine/", "/objects/"));
	offers(c, "qom-list /machine/p", W("/machine/peripheral-anon/",
					   "/machine/peripheral/"));
	offers(c, "qom-list /machine/s", W("/machine/smram/"));
	offers(c, "qom-list /machine/peripheral-anon/",
	       W("/machine/peripheral-anon/device[0]/"));
	offers(c, "qom-list " BALLOON "/b", W(BALLOON "/bus\\ master[0]/"));
	offers(c, "qom-list " BALLOON "/bus\\ m", W(BALLOON "/bus\\ master[0]/"));
	offers(c, "qom-list /nowhere/", NONE);

	/* QOM properties, "balloon" alias included */
	offers(c, "qom-get balloon ", W("deflate-on-oom", "guest-stats",
					"guest-stats-polling-interval", "type"));
	offers(c, "qom-get balloon guest-stats-", W("guest-stats-polling-interval"));
	offers(c, "qom-set " BALLOON " de", W("deflate-on-oom"));
	offers(c, "qom-get balloon guest-stats ", NONE);
	/* qom-get is a QMP command too: both forms are offered first */
	offers(c, "qom-get ", W("/", "balloon", "path=", "property="));
	offers(c, "qom-get path=", W("path=/", "path=balloon"));
	offers(c, "qom-get path=/m", W("path=/machine/"));
	offers(c, "qom-get path=balloon pro", W("property="));
	offers(c, "qom-get path=balloon property=guest-stats-",
	       W("property=guest-stats-polling-interval"));

	/* vbctl commands: options, and positional kinds from the table */
	/* Every long option, exactly: dropping one from a table (or from
	 * the completer) must fail here. */
	offers(c, "stats --", W("--count", "--format", "--fresh", "--interval", "--watch"));
	offers(c, "stats --fr", W("--fresh"));
	offers(c, "set 1G --", W("--timeout", "--wait"));
	offers(c, "events --", W("--count"));
	offers(c, "doctor --", W("--target"));
	offers(c, "shell --", W("--hmp", "--logfile", "--pretty"));
	offers(c, "auto --", W("--config", "--dry-run", "--guest-reserve", "--host-budget",
			       "--host-pressure", "--host-reserve", "--hysteresis",
			       "--interval", "--keep", "--max-step", "--min",
			       "--no-table", "--stale", "--weight"));
	offers(c, "auto --h", W("--host-budget", "--host-pressure", "--host-reserve",
				"--hysteresis"));
	/* VM names come from vbctl's command line, not the shell's */
	offers(c, "auto --weight ", NONE);
	offers(c, "query --", NONE);
	offers_some(c, "help ", W("query", "set", "shell", "help"));
	offers(c, "help que", W("query", "query-balloon", "query-commands",
				"query-cpu-model-expansion"));
	offers(c, "qmp query-b", W("query-balloon"));
	offers(c, "qmp balloon ", W("value="));
	offers(c, "qmp set-action panic=p", W("panic=pause"));
	offers(c, "events BAL", W("BALLOON_CHANGE"));
	offers(c, "events STOP R", W("RESUME"));
	offers(c, "query ", NONE);

	/* which lines are raw QMP */
	ok(shell_line_is_qmp(1, (char *[]){ "query-balloon", NULL }),
	   "query-balloon is QMP");
	ok(!shell_line_is_qmp(1, (char *[]){ "query", NULL }), "query is vbctl");
	ok(!shell_line_is_qmp(3, (char *[]){ "qom-get", "balloon", "type", NULL }),
	   "qom-get PATH PROP is vbctl");
	ok(shell_line_is_qmp(3, (char *[]){ "qom-get", "path=/machine", "property=type", NULL }),
	   "qom-get path=... property=... is QMP");
	ok(!shell_line_is_qmp(2, (char *[]){ "stats", "--interval=5", NULL }),
	   "an option with = is not a QMP argument");
	ok(!shell_line_is_qmp(1, (char *[]){ "qom-list", NULL }),
	   "qom-list alone is vbctl's (its usage error says what is missing)");

	/* help for a QMP command comes from the schema */
	f = open_memstream(&describe, &describe_len);
	is_int(schema_describe(completer_schema(c), "set_password", f), 0, "set_password is described");
	fclose(f);
	ok(strstr(describe, "protocol=vnc|spice") != NULL, "enum values spelled out");
	ok(strstr(describe, "connected=keep|fail|disconnect  (optional)") != NULL,
	   "optional arguments marked");
	ok(strstr(describe, "with protocol=vnc:\n    display=str") != NULL,
	   "a union's variant members shown under its tag value");
	free(describe);
	f = fopen("/dev/null", "w");
	is_int(schema_describe(completer_schema(c), "no-such-command", f), -ENOENT,
	       "an unknown command is not described");
	fclose(f);

	/* sizes for set: examples, then units after a number */
	offers(c, "set ", W("+256M", "-256M", "100%", "1G", "25%", "2G", "4G",
			    "50%", "512M", "75%"));
	offers(c, "set 1.5Gi", W("1.5GiB"));
	offers(c, "set +3", W("+3%", "+3G", "+3GB", "+3GiB", "+3K", "+3KB",
			      "+3KiB", "+3M", "+3MB", "+3MiB", "+3T", "+3TB",
			      "+3TiB"));
	offers(c, "set 2X", NONE);
	offers(c, "set 1G ", NONE);
	completer_free(c);

	/* vbctl's own command line (vbctl __complete): vbctl commands in
	 * their own syntax only */
	v.in_shell = false;
	c = completer_new(&v);
	completer_set_command_line(c);
	completer_set_schema(c, load_schema());
	completer_set_commands(c, json_tokener_parse(query_commands));
	for (i = 0; i < sizeof(qom) / sizeof(*qom); i++)
		completer_set_qom_list(c, qom[i].path,
				       json_tokener_parse(qom[i].list));
	offers(c, "qu", W("query"));
	offers(c, "query-b", NONE);
	offers(c, "help que", W("query"));
	offers(c, "qom-get ", W("/", "balloon"));
	offers(c, "qom-get balloon guest-stats-", W("guest-stats-polling-interval"));
	offers(c, "qmp balloon ", W("value="));
	offers(c, "set 1.5Gi", W("1.5GiB"));
	/* option values: choices and sizes, separate or after '=' */
	offers(c, "stats --format ", W("json", "prometheus", "text"));
	offers(c, "stats --format p", W("prometheus"));
	offers(c, "stats --format=p", W("--format=prometheus"));
	offers(c, "stats --format prometheus ", NONE);
	offers(c, "doctor --target 1G", W("1G", "1GB", "1GiB"));
	offers(c, "set --timeout ", NONE);
	offers(c, "top --sort a", W("actual", "age", "available"));
	offers(c, "top -o b", W("boot"));
	/* auto --min/--weight VM=: the VMs the targets on the line name
	 * (here two -s, named by their sockets' file names) */
	offers(c, "auto --weight ", NONE);
	vbctl_add_addr(&v, "/run/vms/db.qmp");
	vbctl_add_addr(&v, "web.qmp");
	offers(c, "auto --weight ", W("db.qmp=", "web.qmp="));
	offers(c, "auto --min w", W("web.qmp="));
	offers(c, "auto -w d", W("db.qmp="));
	offers(c, "auto --weight=d", W("--weight=db.qmp="));
	offers(c, "auto --weight db.qmp=", NONE);
	offers(c, "auto --interval ", NONE);
	completer_free(c);
	vbctl_release(&v);
	return tap_done();
}
