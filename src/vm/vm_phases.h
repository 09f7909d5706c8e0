/* Startup phase stamps (issue 12): where the time from exec to the
 * guest's exit goes. CVISOR_PHASES=FILE in the environment appends one
 * line per phase to FILE at exit, "cvisor PHASE MS", MS counted from
 * bench/runner's fork (BENCH_T0_NS) or else from main(); bench/startup.sh
 * (PHASES=1) takes the medians. Off, a stamp is one load and a branch.
 */
#ifndef CVISOR_VM_VM_PHASES_H
#define CVISOR_VM_VM_PHASES_H

/* main thread, before any other thread exists */
void vm_phases_init(void);
/* any thread; NAME a string literal */
void vm_phase(const char *name);
/* main thread, after the other threads are joined */
void vm_phases_write(void);

#endif
