/* The registry of devices that hold with a paused VM (devices/quiesce.h).
 * A device registers itself at create and leaves at free, which may run
 * on another thread than the pause (a guest reset rebuilds the devices):
 * the lock keeps the list whole while it is walked. */
#include <pthread.h>

#include "devices/quiesce.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct dev_quiesce *head;

void dev_quiesce_add(struct dev_quiesce *q)
{
	pthread_mutex_lock(&lock);
	q->next = head;
	head = q;
	pthread_mutex_unlock(&lock);
}

void dev_quiesce_del(struct dev_quiesce *q)
{
	pthread_mutex_lock(&lock);
	for (struct dev_quiesce **p = &head; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
	pthread_mutex_unlock(&lock);
}

unsigned dev_quiesce_all(bool on)
{
	unsigned out = 0;

	pthread_mutex_lock(&lock);
	for (struct dev_quiesce *q = head; q; q = q->next)
		out += q->set(q, on);
	pthread_mutex_unlock(&lock);
	return out;
}
