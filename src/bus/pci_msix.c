/* MSI-X: capability, table, PBA, masking and delivery (see pci_msix.h for
 * the model). Every value in the table is the guest's and is checked before
 * it reaches the VM: vector indices come from offsets bounded by the table,
 * and only x86 APIC addresses are routed. */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus/pci_msix.h"
#include "bus/pci_priv.h"
#include "core/log.h"
#include "core/util.h"

enum { E_ADDR_LO, E_ADDR_HI, E_DATA, E_CTRL };

static struct ratelimit msix_rl = RATELIMIT_INIT(5, 10);

static uint64_t table_len(const struct pci_msix *m)
{
	return (uint64_t)m->nr * PCI_MSIX_ENTRY_SIZE;
}

static uint64_t pba_len(const struct pci_msix *m)
{
	return ALIGN_UP((uint64_t)m->nr, 64) / 8;
}

static bool pending(const struct pci_msix *m, unsigned i)
{
	return m->pba[i / 64] & (1ull << (i % 64));
}

static void set_pending(struct pci_msix *m, unsigned i, bool on)
{
	if (on)
		m->pba[i / 64] |= 1ull << (i % 64);
	else
		m->pba[i / 64] &= ~(1ull << (i % 64));
}

static bool vec_masked(const struct pci_msix *m, unsigned i)
{
	return m->masked || (m->table[4 * i + E_CTRL] & PCI_MSIX_VEC_MASKED);
}

/* Deliverable: MSI-X on, neither the function nor the vector masked. */
static bool vec_live(const struct pci_msix *m, unsigned i)
{
	return m->enabled && !vec_masked(m, i);
}

static uint64_t vec_addr(const struct pci_msix *m, unsigned i)
{
	return m->table[4 * i + E_ADDR_LO] |
	       (uint64_t)m->table[4 * i + E_ADDR_HI] << 32;
}

static bool addr_ok(struct pci_msix *m, unsigned i, uint64_t addr)
{
	if (pci_layout_msi_ok(m->f->host ? &m->f->host->layout : NULL, addr))
		return true;
	pr_warn_ratelimited(&msix_rl, "pci 00:%02x.%x: MSI-X vector %u has "
			    "address %#llx, not an MSI controller's; not "
			    "delivered",
			    m->f->slot, m->f->fn, i, (unsigned long long)addr);
	return false;
}

/* Take what piled up in a vector's unbound eventfd. */
static bool drain(struct pci_msix_vec *v)
{
	eventfd_t n;

	return eventfd_read(v->efd, &n) == 0 && n;
}

static void unbind(struct pci_msix *m, unsigned i)
{
	const struct dev_env *env = m->f->env;
	struct pci_msix_vec *v = &m->vec[i];

	if (!v->bound)
		return;
	env->msi_irqfd(env->ctx, v->route, v->efd, false);
	v->bound = false;
}

/* Make the vector's route carry its current message. */
static bool route_sync(struct pci_msix *m, unsigned i, uint64_t addr,
		       uint32_t data)
{
	const struct dev_env *env = m->f->env;
	struct pci_msix_vec *v = &m->vec[i];
	int r;

	if (v->route >= 0 && v->route_addr == addr && v->route_data == data)
		return true;
	r = env->msi_route(env->ctx, v->route, addr, data, pci_devid(m->f));
	if (r < 0) {
		pr_warn_ratelimited(&msix_rl, "pci 00:%02x.%x: MSI-X vector "
				    "%u: no route (%d)", m->f->slot, m->f->fn,
				    i, r);
		return false;
	}
	v->route = r;
	v->route_addr = addr;
	v->route_data = data;
	return true;
}

static void signal_slow(struct pci_msix *m, unsigned i)
{
	const struct dev_env *env = m->f->env;
	uint64_t addr = vec_addr(m, i);

	if (addr_ok(m, i, addr) && env && env->msi_signal)
		env->msi_signal(env->ctx, addr, m->table[4 * i + E_DATA],
				pci_devid(m->f));
}

/* Bring vector i in line with the table and the masks: bound when live,
 * unbound when masked, and a pending message delivered once unmasked. */
static void sync_vec(struct pci_msix *m, unsigned i)
{
	const struct dev_env *env = m->f->env;
	struct pci_msix_vec *v = &m->vec[i];
	bool live = vec_live(m, i);
	uint64_t addr = vec_addr(m, i);

	if (!m->use_irqfd) {
		if (live && pending(m, i)) {
			set_pending(m, i, false);
			signal_slow(m, i);
		}
		return;
	}
	if (!live || !addr_ok(m, i, addr) ||
	    !route_sync(m, i, addr, m->table[4 * i + E_DATA])) {
		unbind(m, i);
		return;
	}
	if (!v->bound) {
		if (drain(v))
			set_pending(m, i, true);
		if (env->msi_irqfd(env->ctx, v->route, v->efd, true) < 0)
			return;
		v->bound = true;
	}
	if (pending(m, i)) {
		set_pending(m, i, false);
		eventfd_write(v->efd, 1);
	}
}

static void sync_all(struct pci_msix *m)
{
	for (unsigned i = 0; i < m->nr; i++)
		sync_vec(m, i);
}

/* Message control written (under the host lock). */
static void ctrl_write(struct pci_func *f, unsigned off, unsigned size,
		       uint32_t value)
{
	struct pci_msix *m = f->msix;
	uint16_t ctrl = pci_cfg_get(f, m->cap + 2, 2);
	bool en = ctrl & PCI_MSIX_CTRL_ENABLE, was;

	pthread_mutex_lock(&m->lock);
	was = m->enabled;
	__atomic_store_n(&m->enabled, en, __ATOMIC_RELAXED);
	m->masked = ctrl & PCI_MSIX_CTRL_MASKALL;
	sync_all(m);
	pthread_mutex_unlock(&m->lock);
	if (en != was)
		pci_intx_msix_changed(f, en);
}

static bool bar_fits(const struct pci_func *f, unsigned bar, uint64_t off,
		     uint64_t len)
{
	const struct pci_bar *b;

	if (bar >= PCI_NUM_BARS)
		return false;
	b = &f->bars[bar];
	return b->size && !(b->flags & PCI_BAR_SPACE_IO) &&
	       IS_ALIGNED(off, 8) && off < b->size && len <= b->size - off;
}

static void msix_destroy(struct pci_msix *m)
{
	for (unsigned i = 0; i < m->nr; i++)
		if (m->vec[i].efd >= 0)
			close(m->vec[i].efd);
	pthread_mutex_destroy(&m->lock);
	free(m->vec);
	free(m->table);
	free(m->pba);
	free(m);
}

static struct pci_msix *msix_alloc(struct pci_func *f, unsigned nr)
{
	struct pci_msix *m = xcalloc(1, sizeof(*m));

	m->f = f;
	m->nr = nr;
	pthread_mutex_init(&m->lock, NULL);
	m->table = xcalloc(4 * nr, sizeof(*m->table));
	m->pba = xcalloc(ALIGN_UP(nr, 64) / 64, sizeof(*m->pba));
	m->vec = xcalloc(nr, sizeof(*m->vec));
	for (unsigned i = 0; i < nr; i++) {
		m->table[4 * i + E_CTRL] = PCI_MSIX_VEC_MASKED;
		m->vec[i].route = -1;
		m->vec[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (m->vec[i].efd < 0) {
			int err = errno;

			msix_destroy(m);
			errno = err;
			return NULL;
		}
	}
	m->use_irqfd = f->env && f->env->msi_irqfd && f->env->msi_route;
	return m;
}

int pci_msix_init(struct pci_func *f, unsigned nr, unsigned table_bar,
		  uint64_t table_off, unsigned pba_bar, uint64_t pba_off)
{
	uint64_t tlen = (uint64_t)nr * PCI_MSIX_ENTRY_SIZE;
	uint64_t plen = ALIGN_UP((uint64_t)nr, 64) / 8;
	uint8_t body[10];
	struct pci_msix *m;
	int off;

	if (f->msix || !nr || nr > PCI_MSIX_MAX_VECTORS ||
	    !bar_fits(f, table_bar, table_off, tlen) ||
	    !bar_fits(f, pba_bar, pba_off, plen) ||
	    table_off > 0xffffffffull || pba_off > 0xffffffffull ||
	    (table_bar == pba_bar &&
	     ranges_overlap(table_off, tlen, pba_off, plen)))
		return -EINVAL;
	m = msix_alloc(f, nr);
	if (!m)
		return -errno;
	body[0] = (nr - 1) & 0xff;
	body[1] = (nr - 1) >> 8;
	for (unsigned i = 0; i < 4; i++) {
		body[2 + i] = ((uint32_t)table_off | table_bar) >> (8 * i);
		body[6 + i] = ((uint32_t)pba_off | pba_bar) >> (8 * i);
	}
	off = pci_add_cap(f, PCI_CAP_ID_MSIX, body, sizeof(body));
	if (off < 0) {
		msix_destroy(m);
		return off;
	}
	f->wmask[off + 3] = (PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL) >> 8;
	pci_cfg_add_hook(f, off + 2, 2, NULL, ctrl_write);
	m->cap = off;
	m->table_bar = table_bar;
	m->table_off = table_off;
	m->pba_bar = pba_bar;
	m->pba_off = pba_off;
	f->msix = m;
	return off;
}

static void table_store(struct pci_msix *m, unsigned idx, uint32_t v)
{
	switch (idx % 4) {
	case E_ADDR_LO:
		v &= ~3u;          /* dword-aligned; bits 1:0 read as 0 */
		break;
	case E_CTRL:
		v &= PCI_MSIX_VEC_MASKED;   /* the rest is reserved */
		break;
	}
	m->table[idx] = v;
}

/* Software may use aligned dword or qword accesses only; the rest is
 * dropped (reads float high). */
static bool access_shape_ok(uint64_t rel, unsigned size, uint64_t len)
{
	return (size == 4 || size == 8) && IS_ALIGNED(rel, size) &&
	       rel < len && size <= len - rel;
}

static void table_access(struct pci_msix *m, uint64_t rel, unsigned size,
			 bool is_write, uint64_t *val)
{
	unsigned idx = rel / 4;

	if (!access_shape_ok(rel, size, table_len(m))) {
		if (!is_write)
			*val = ~0ull;
		return;
	}
	pthread_mutex_lock(&m->lock);
	if (is_write) {
		bool was_live = vec_live(m, idx / 4);

		for (unsigned k = 0; k < size / 4; k++)
			table_store(m, idx + k, *val >> (32 * k));
		/* A message rewritten while the vector stays live takes effect
		 * at its next unmask or enable (see pci_msix.h): re-routing on
		 * every write would let a guest loop cost one routing-table
		 * update (KVM_SET_GSI_ROUTING) per exit. */
		if (!was_live || !vec_live(m, idx / 4))
			sync_vec(m, idx / 4);
	} else {
		*val = m->table[idx];
		if (size == 8)
			*val |= (uint64_t)m->table[idx + 1] << 32;
	}
	pthread_mutex_unlock(&m->lock);
}

/* Messages raised while masked wait in unbound eventfds: fold them into
 * the PBA before the guest looks at it. */
static void pba_collect(struct pci_msix *m, unsigned first, unsigned count)
{
	for (unsigned i = first; i < first + count && i < m->nr; i++)
		if (m->use_irqfd && m->enabled && !m->vec[i].bound &&
		    vec_masked(m, i) && drain(&m->vec[i]))
			set_pending(m, i, true);
}

static void pba_access(struct pci_msix *m, uint64_t rel, unsigned size,
		       bool is_write, uint64_t *val)
{
	if (is_write)
		return;            /* read-only */
	if (!access_shape_ok(rel, size, pba_len(m))) {
		*val = ~0ull;
		return;
	}
	pthread_mutex_lock(&m->lock);
	pba_collect(m, rel * 8, size * 8);
	*val = m->pba[rel / 8] >> (8 * (rel % 8));
	if (size == 4)
		*val &= 0xffffffffull;
	pthread_mutex_unlock(&m->lock);
}

bool pci_msix_bar_access(struct pci_func *f, unsigned bar, uint64_t off,
			 unsigned size, bool is_write, uint64_t *val)
{
	struct pci_msix *m = f->msix;

	if (bar == m->table_bar &&
	    ranges_overlap(off, size, m->table_off, table_len(m))) {
		if (off < m->table_off)
			off = ~0ull;   /* straddles the start: malformed */
		table_access(m, off - m->table_off, size, is_write, val);
		return true;
	}
	if (bar == m->pba_bar &&
	    ranges_overlap(off, size, m->pba_off, pba_len(m))) {
		if (off < m->pba_off)
			off = ~0ull;
		pba_access(m, off - m->pba_off, size, is_write, val);
		return true;
	}
	return false;
}

void pci_msix_notify(struct pci_func *f, unsigned vec)
{
	struct pci_msix *m = f->msix;

	if (!m || vec >= m->nr)
		return;
	if (m->use_irqfd) {
		eventfd_write(m->vec[vec].efd, 1);   /* the fast path */
		return;
	}
	pthread_mutex_lock(&m->lock);
	if (m->enabled && vec_masked(m, vec))
		set_pending(m, vec, true);
	else if (m->enabled)
		signal_slow(m, vec);
	pthread_mutex_unlock(&m->lock);
}

int pci_msix_fd(const struct pci_func *f, unsigned vec)
{
	const struct pci_msix *m = f->msix;

	if (!m || vec >= m->nr || !m->use_irqfd)
		return -1;
	return m->vec[vec].efd;
}

bool pci_msix_enabled(const struct pci_func *f)
{
	return f->msix && __atomic_load_n(&f->msix->enabled, __ATOMIC_RELAXED);
}

unsigned pci_msix_nr(const struct pci_func *f)
{
	return f->msix ? f->msix->nr : 0;
}

void pci_msix_reset(struct pci_msix *m)
{
	pthread_mutex_lock(&m->lock);
	__atomic_store_n(&m->enabled, false, __ATOMIC_RELAXED);
	m->masked = false;
	for (unsigned i = 0; i < m->nr; i++) {
		if (m->use_irqfd)
			unbind(m, i);
		drain(&m->vec[i]);
		m->table[4 * i + E_ADDR_LO] = 0;
		m->table[4 * i + E_ADDR_HI] = 0;
		m->table[4 * i + E_DATA] = 0;
		m->table[4 * i + E_CTRL] = PCI_MSIX_VEC_MASKED;
	}
	for (unsigned i = 0; i < ALIGN_UP(m->nr, 64) / 64; i++)
		m->pba[i] = 0;
	pthread_mutex_unlock(&m->lock);
}

void pci_msix_free(struct pci_msix *m)
{
	const struct dev_env *env = m->f->env;

	for (unsigned i = 0; i < m->nr; i++) {
		if (m->use_irqfd)
			unbind(m, i);
		if (m->vec[i].route >= 0 && env && env->msi_route_free)
			env->msi_route_free(env->ctx, m->vec[i].route);
	}
	msix_destroy(m);
}
