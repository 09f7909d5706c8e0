/* What cvisor tells a user about its configuration language: the vdev
 * types and their options (`cvisor --help`, `cvisor help vdev TYPE`), the
 * exit statuses, and "did you mean" suggestions for misspelt words. */
#ifndef CVISOR_CONFIG_HELP_H
#define CVISOR_CONFIG_HELP_H

#include <stddef.h>
#include <stdio.h>

void help_vdev_types(FILE *f);
void help_exit_codes(FILE *f);
/* The options of one vdev type; -1 (and a message on stderr) when there is
 * no such type. */
int help_vdev(FILE *f, const char *type);
/* The feature names of the `cpuid` statement (`cvisor help cpuid`). */
void help_cpuid(FILE *f);

/* The word of words[] closest to s (edit distance at most a third of its
 * length, at least 1), or NULL. NULL entries are skipped. */
const char *suggest_word(const char *s, const char *const *words, size_t n);

#endif
