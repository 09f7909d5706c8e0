/* Where a refused system call came from, for the SIGSYS handler: the
 * instruction and the code addresses found on the stack above it, each as
 * OBJECT+OFFSET (addr2line -e OBJECT OFFSET names the line).
 *
 * Not backtrace(): glibc's loads libgcc_s (about 120 KiB resident in
 * every run, for a message that is printed only when cvisor is about to
 * die), and symbolizing takes the dynamic loader's lock, which the dying
 * thread may itself hold (a dlopen whose open was refused). The map of the
 * loaded objects' code is taken beforehand instead, whenever a thread
 * gets its filter, and read without locks in the handler. A stack scan is
 * not a reliable unwind (cvisor runs without frame pointers): stale
 * return addresses show up too, marked '?' as in a kernel oops.
 */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "sandbox/sandbox_priv.h"

#define MAX_SPANS    48
#define SCAN_WORDS   128      /* 1 KiB of stack: well inside any mapping */
#define MAX_CALLERS  12

struct span {
	uintptr_t start, end;       /* executable segment */
	uintptr_t base;             /* the object's load bias */
	char name[40];              /* its file name, without the folders */
};

static struct span spans[MAX_SPANS];
static volatile unsigned nr_spans;
static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;

static int add_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *name = info->dlpi_name && info->dlpi_name[0] ?
			   info->dlpi_name : program_invocation_short_name;
	const char *slash = strrchr(name, '/');
	unsigned *n = arg;

	(void)size;
	for (unsigned i = 0; i < info->dlpi_phnum && *n < MAX_SPANS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		struct span *s = &spans[*n];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		s->start = info->dlpi_addr + ph->p_vaddr;
		s->end = s->start + ph->p_memsz;
		s->base = info->dlpi_addr;
		snprintf(s->name, sizeof(s->name), "%s", slash ? slash + 1 : name);
		(*n)++;
	}
	return 0;
}

void sandbox_where_snapshot(void)
{
	unsigned n = 0;

	pthread_mutex_lock(&snap_lock);
	nr_spans = 0;
	dl_iterate_phdr(add_object, &n);
	__atomic_store_n(&nr_spans, n, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&snap_lock);
}

static const struct span *find(uintptr_t a)
{
	unsigned n = __atomic_load_n(&nr_spans, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		if (a >= spans[i].start && a < spans[i].end)
			return &spans[i];
	return NULL;
}

/* "  MARK OBJECT+0xOFFSET\n", async-signal-safe */
static void print_one(int fd, const char *mark, uintptr_t a,
		      const struct span *s)
{
	char line[96];
	size_t n = 0;

	n = sandbox_put(line, n, sizeof(line), mark);
	n = sandbox_put(line, n, sizeof(line), s->name);
	n = sandbox_put(line, n, sizeof(line), "+0x");
	n = sandbox_put_hex(line, n, sizeof(line), a - s->base);
	n = sandbox_put(line, n, sizeof(line), "\n");
	if (write(fd, line, n) < 0)
		return;             /* nothing better to do while dying */
}

/* Not instrumented: the scan reads other frames' words, ASan's red zones
 * among them, on purpose. */
__attribute__((no_sanitize_address))
void sandbox_where_print(int fd, uintptr_t pc, const uintptr_t *sp)
{
	const struct span *s = find(pc);
	unsigned callers = 0;

	if (s)
		print_one(fd, "  at ", pc, s);
	for (unsigned i = 0; sp && i < SCAN_WORDS && callers < MAX_CALLERS;
	     i++) {
		uintptr_t v = sp[i];

		if ((s = find(v))) {
			print_one(fd, "  ? ", v, s);
			callers++;
		}
	}
}
