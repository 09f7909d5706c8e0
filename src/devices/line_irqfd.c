#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/line_irqfd.h"
#include "event/loop.h"

static void resample_event(void *opaque, uint32_t events)
{
	struct line_irqfd *l = opaque;
	eventfd_t v;

	if (eventfd_read(l->rfd, &v) == 0)
		l->resample(l->opaque);
}

int line_irqfd_open(struct line_irqfd *l, const struct dev_env *env,
		    uint32_t gsi, void (*resample)(void *opaque),
		    void *opaque)
{
	int ret;

	*l = (struct line_irqfd){ .env = *env, .gsi = gsi, .efd = -1,
				  .rfd = -1, .resample = resample,
				  .opaque = opaque };
	if (!env->line_irqfd || !env->loop)
		return -ENOSYS;
	l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->rfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->efd < 0 || l->rfd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = env->line_irqfd(env->ctx, gsi, l->efd, l->rfd, true);
	if (ret)
		goto fail;
	ret = event_loop_add(env->loop, l->rfd, EPOLLIN, resample_event, l);
	if (ret) {
		env->line_irqfd(env->ctx, gsi, l->efd, l->rfd, false);
		goto fail;
	}
	return 0;
fail:
	if (l->efd >= 0)
		close(l->efd);
	if (l->rfd >= 0)
		close(l->rfd);
	l->efd = l->rfd = -1;
	return ret;
}

void line_irqfd_assert(struct line_irqfd *l)
{
	/* Only fails when the counter would overflow: the line is high. */
	eventfd_write(l->efd, 1);
}

void line_irqfd_close(struct line_irqfd *l)
{
	if (l->efd < 0)
		return;
	event_loop_del(l->env.loop, l->rfd);
	if (l->env.line_irqfd(l->env.ctx, l->gsi, l->efd, l->rfd, false))
		pr_warn("irq %u: cannot unbind its irqfd", l->gsi);
	close(l->efd);
	close(l->rfd);
	l->efd = l->rfd = -1;
}
