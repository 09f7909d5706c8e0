/* Objects kept across guest resets: a short table, looked up by (owner,
 * kind). A VM has a few dozen devices at most, so a linear scan at device
 * creation is all it needs. */
#include <errno.h>
#include <stdlib.h>

#include "core/persist.h"
#include "core/util.h"

#define PERSIST_MAX 128

struct persist_entry {
	const void *owner;
	enum persist_kind kind;
	void *obj;
	void (*free_fn)(void *obj);
};

struct persist {
	struct persist_entry e[PERSIST_MAX];
	unsigned nr;
};

struct persist *persist_new(void)
{
	return xcalloc(1, sizeof(struct persist));
}

void persist_free(struct persist *p)
{
	if (!p)
		return;
	for (unsigned i = p->nr; i > 0; i--)
		if (p->e[i - 1].free_fn)
			p->e[i - 1].free_fn(p->e[i - 1].obj);
	free(p);
}

void *persist_get(struct persist *p, const void *owner,
		  enum persist_kind kind)
{
	for (unsigned i = 0; p && i < p->nr; i++)
		if (p->e[i].owner == owner && p->e[i].kind == kind)
			return p->e[i].obj;
	return NULL;
}

int persist_put(struct persist *p, const void *owner, enum persist_kind kind,
		void *obj, void (*free_fn)(void *obj))
{
	if (p->nr == PERSIST_MAX)
		return -ENOSPC;
	p->e[p->nr++] = (struct persist_entry){ owner, kind, obj, free_fn };
	return 0;
}
