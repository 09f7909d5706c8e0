/* MSI of a passed device, emulated in its config space (config.c) and
 * delivered with no exit: each enabled vector has an eventfd VFIO signals
 * and a KVM irqfd on a GSI route carrying the message the guest wrote.
 * Enabling MSI turns INTx off (VFIO allows one kind at a time) and
 * disabling it turns INTx back on. A masked vector (per-vector masking)
 * has its irqfd unbound: what the device raises meanwhile stays in the
 * eventfd, and KVM delivers it when the irqfd is bound again at unmask.
 * A message rewritten while enabled moves the route at once; one whose
 * address is not an MSI controller's is not delivered (the vector stays
 * unbound, as a masked one, until a good address comes). MSI is not
 * turned on while MSI-X is (the spec forbids both; VFIO refuses it, and
 * a guest toggling it would cost a routing update and a refusal each).
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "devices/device.h"
#include "vfio/vfio_priv.h"

#define MSI_CTL_ENABLE 0x01

void vfio_msi_init(struct vfio_pass *p)
{
	for (unsigned i = 0; i < VFIO_MSI_MAX; i++) {
		p->msi.efd[i] = -1;
		p->msi.route[i] = -1;
	}
}

struct msi_regs {
	uint16_t ctl;
	uint64_t addr;
	uint16_t data;
	uint32_t mask;
};

static struct msi_regs read_regs(struct vfio_pass *p)
{
	const struct pci_func *f = &p->f;
	unsigned m = p->msi.cap, d = m + (p->msi.is64 ? 12 : 8);
	struct msi_regs r = {
		.ctl = pci_cfg_get(f, m + 2, 2),
		.addr = pci_cfg_get(f, m + 4, 4),
		.data = pci_cfg_get(f, d, 2),
	};

	if (p->msi.is64)
		r.addr |= (uint64_t)pci_cfg_get(f, m + 8, 4) << 32;
	if (p->msi.maskable)
		r.mask = pci_cfg_get(f, d + 4, 4);
	return r;
}

/* Multiple-message MSI: vector i replaces the low log2(n) data bits. */
static uint32_t vec_data(uint16_t data, unsigned n, unsigned i)
{
	return (data & ~(n - 1)) | i;
}

/* The address is an MSI controller's (as MSI-X checks its table's). */
static bool addr_ok(const struct vfio_pass *p, uint64_t addr)
{
	if (pci_layout_msi_ok(p->f.host ? &p->f.host->layout : NULL, addr))
		return true;
	log_ratelimited(LOG_WARN, "pass %s: MSI address %#llx is not an MSI "
			"controller's; not delivered", p->host.name,
			(unsigned long long)addr);
	return false;
}

/* Bind or unbind vector i's irqfd to follow the guest's mask bit. */
static void sync_mask(struct vfio_pass *p, unsigned i, bool masked)
{
	const struct dev_env *env = p->f.env;
	struct vfio_msi *s = &p->msi;

	if (masked == !s->bound[i] || s->route[i] < 0)
		return;
	if (!env->msi_irqfd(env->ctx, s->route[i], s->efd[i], !masked))
		s->bound[i] = !masked;
}

/* Vector i delivers nothing: unbound, and its route freed once it is
 * (an irqfd still bound keeps its route, which vectors_free unbinds),
 * so that no later unmask binds a route with an old message. */
static void drop_vec(struct vfio_pass *p, unsigned i)
{
	const struct dev_env *env = p->f.env;
	struct vfio_msi *s = &p->msi;

	sync_mask(p, i, true);
	if (s->bound[i] || s->route[i] < 0)
		return;
	if (env->msi_route_free)
		env->msi_route_free(env->ctx, s->route[i]);
	s->route[i] = -1;
}

static void vectors_free(struct vfio_pass *p)
{
	const struct dev_env *env = p->f.env;
	struct vfio_msi *s = &p->msi;

	for (unsigned i = 0; i < VFIO_MSI_MAX; i++) {
		if (s->bound[i])
			env->msi_irqfd(env->ctx, s->route[i], s->efd[i], false);
		s->bound[i] = false;
		if (s->route[i] >= 0 && env->msi_route_free)
			env->msi_route_free(env->ctx, s->route[i]);
		s->route[i] = -1;
		if (s->efd[i] >= 0)
			close(s->efd[i]);
		s->efd[i] = -1;
	}
}

static int enable(struct vfio_pass *p, const struct msi_regs *r, unsigned n)
{
	const struct dev_env *env = p->f.env;
	struct vfio_msi *s = &p->msi;
	int ret = 0;

	bool ok = addr_ok(p, r->addr);

	if (!env || !env->msi_route || !env->msi_irqfd)
		return -ENOTSUP;
	for (unsigned i = 0; i < n && !ret; i++) {
		s->efd[i] = eventfd(0, EFD_CLOEXEC);
		if (s->efd[i] < 0) {
			ret = -errno;
			break;
		}
		if (!ok)
			continue;       /* no route until a good address */
		s->route[i] = env->msi_route(env->ctx, -1, r->addr,
					     vec_data(r->data, n, i),
					     pci_devid(&p->f));
		if (s->route[i] < 0)
			ret = s->route[i];
		else
			sync_mask(p, i, r->mask & (1u << i));
	}
	/* VFIO takes one kind of interrupt at a time. */
	vfio_intx_disable(p);
	if (!ret)
		ret = vfio_set_irqs(p->fd, VFIO_PCI_MSI_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, s->efd, n);
	if (ret) {
		log_ratelimited(LOG_ERR, "pass %s: MSI with %u vectors: %s",
				p->host.name, n, strerror(-ret));
		vectors_free(p);
		vfio_intx_enable(p);
		return ret;
	}
	s->on = true;
	s->nr_on = n;
	s->addr = r->addr;
	s->data = r->data;
	return 0;
}

/* While on: a new message moves the routes (a good address only); a
 * mask change alone only binds or unbinds. */
static void retarget(struct vfio_pass *p, const struct msi_regs *r,
		     unsigned n)
{
	const struct dev_env *env = p->f.env;
	struct vfio_msi *s = &p->msi;
	bool moved = r->addr != s->addr || r->data != s->data, ok, need = moved;

	for (unsigned i = 0; i < n; i++)
		need |= s->route[i] < 0;
	ok = !need || addr_ok(p, r->addr);

	s->addr = r->addr;
	s->data = r->data;
	for (unsigned i = 0; i < n; i++) {
		if (!ok) {
			drop_vec(p, i);
			continue;
		}
		if (moved || s->route[i] < 0) {
			int rt = env->msi_route(env->ctx, s->route[i], r->addr,
						vec_data(r->data, n, i),
						pci_devid(&p->f));

			if (rt < 0) {           /* refused: the old message */
				drop_vec(p, i);
				continue;
			}
			s->route[i] = rt;
		}
		sync_mask(p, i, r->mask & (1u << i));
	}
}

void vfio_msi_disable(struct vfio_pass *p)
{
	struct vfio_msi *s = &p->msi;

	pthread_mutex_lock(&p->irq_lock);
	if (s->on) {
		vfio_set_irqs(p->fd, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, NULL, 0);
		vectors_free(p);
		s->on = false;
		s->nr_on = 0;
	}
	pthread_mutex_unlock(&p->irq_lock);
}

/* A config write touched the capability (under the host lock). */
void vfio_msi_cfg_written(struct vfio_pass *p)
{
	struct vfio_msi *s = &p->msi;
	struct msi_regs r = read_regs(p);
	unsigned mme = (r.ctl >> 4) & 7, n = 1u << MIN(mme, 5);

	if (n > s->max_vec)
		n = s->max_vec;
	if (p->msix_on)
		return;
	if (!(r.ctl & MSI_CTL_ENABLE)) {
		if (s->on) {
			vfio_msi_disable(p);
			vfio_intx_enable(p);
		}
		return;
	}
	pthread_mutex_lock(&p->irq_lock);
	if (s->on && s->nr_on != n) {
		pthread_mutex_unlock(&p->irq_lock);
		vfio_msi_disable(p);
		pthread_mutex_lock(&p->irq_lock);
	}
	if (!s->on)
		enable(p, &r, n);
	else
		retarget(p, &r, n);
	pthread_mutex_unlock(&p->irq_lock);
}

void vfio_msi_free(struct vfio_pass *p)
{
	if (p->f.env)
		vfio_msi_disable(p);
}
