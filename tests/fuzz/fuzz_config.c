/* The config layer (lexer, includes, parser, validator, conflicts) on
 * arbitrary text. The input is up to four NUL-separated parts: the main
 * text, then the contents of a.inc, b.inc and c.inc, which the main text
 * (and they themselves) may include with `@a.inc`... A first byte 0x01
 * makes the main text an argv instead: one token per line, as the command
 * line gives them. The directory also holds blob.dat and disk.img for
 * `load` and `hostdev`. Every failure must carry a message and a
 * position; every success must be freed whole (ASan's leak check). */
#include "fuzz_common.h"
#include "config/config.h"

static const char *const inc_names[] = { "a.inc", "b.inc", "c.inc" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char blob[] = "blob\n";
	static char disk[4096];

	fz_mkdir("config");
	fz_write("blob.dat", blob, sizeof(blob) - 1);
	fz_write("disk.img", disk, sizeof(disk));
	return 0;
}

/* argv mode: split on newlines; relative includes name the directory
 * (argv's are relative to the cwd, which is the fuzzer's). */
static int run_args(char *text, struct vm_config *cfg, struct cfg_error *err)
{
	enum { MAX_ARGS = 512 };
	char *argv[MAX_ARGS], *save = NULL;
	char paths[8][128];
	int argc = 0, nr_paths = 0;

	for (char *t = strtok_r(text, "\n", &save); t && argc < MAX_ARGS;
	     t = strtok_r(NULL, "\n", &save)) {
		if (t[0] == '@' && t[1] != '/' && nr_paths < 8) {
			snprintf(paths[nr_paths], sizeof(paths[0]), "@%s/%s",
				 fz_dir, t + 1);
			t = paths[nr_paths++];
		}
		argv[argc++] = t;
	}
	return config_from_args(cfg, argc, argv, err);
}

static void check_error(const struct cfg_error *err)
{
	/* every error says what and where */
	if (!err->msg[0] || !err->pos.file || !err->pos.line ||
	    !err->pos.col) {
		fprintf(stderr, "error without message or position: "
			"%s:%u:%u: '%s'\n", err->pos.file ? err->pos.file : "(null)",
			err->pos.line, err->pos.col, err->msg);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *part[4] = { NULL };
	struct vm_config cfg;
	struct cfg_error err;
	char name[128];
	unsigned n = 0;
	int ret;

	memcpy(text, data, size);
	text[size] = '\0';
	/* parts: the main text and up to three include files */
	part[n++] = text;
	for (size_t i = 0; i < size && n < 4; i++)
		if (!text[i])
			part[n++] = text + i + 1;
	for (unsigned i = 0; i < 3; i++) {
		const char *c = i + 1 < n ? part[i + 1] : "";

		fz_write(inc_names[i], c, strlen(c));
	}
	if (text[0] == 1)
		ret = run_args(text + 1, &cfg, &err);
	else
		ret = config_from_string(&cfg, fz_path(name, sizeof(name),
						      "main.qvmconf"),
					 text, &err);
	if (ret) {
		check_error(&err);
	} else {
		(void)vm_config_has_pci(&cfg);
		for (unsigned i = 0; i < cfg.nr_vdevs; i++)
			(void)vdev_opt(&cfg.vdevs[i], "hostvector");
		config_free(&cfg);
	}
	free(text);
	return 0;
}
