/* "Did you mean": the closest known word by edit distance (optimal string
 * alignment: insertions, deletions, substitutions and swaps of two
 * neighbours each cost 1), so `ser8520` finds `ser8250`. */
#include <string.h>

#include "config/help.h"
#include "core/util.h"

#define SUGGEST_MAX_LEN 64

static unsigned distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];

	if (n > SUGGEST_MAX_LEN || m > SUGGEST_MAX_LEN)
		return ~0u;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);

			v = MIN(v, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1])
				v = MIN(v, d[i - 2][j - 2] + 1);
			d[i][j] = v;
		}
	}
	return d[n][m];
}

const char *suggest_word(const char *s, const char *const *words, size_t n)
{
	unsigned limit = MAX(1u, (unsigned)strlen(s) / 3), best_d = ~0u;
	const char *best = NULL;

	for (size_t i = 0; i < n; i++) {
		unsigned dist;

		if (!words[i])
			continue;
		dist = distance(s, words[i]);
		if (dist && dist <= limit && dist < best_d) {
			best_d = dist;
			best = words[i];
		}
	}
	return best;
}
