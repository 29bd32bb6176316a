/* Assembly-name patterns, one owner for the profiler's ILHEAP_INCLUDE /
 * ILHEAP_EXCLUDE and `ilheap cover --include/--exclude`: `*` matches any run
 * of characters (none included), every other character itself, ASCII
 * case-insensitively (assembly names are case-insensitive), matched against
 * the whole file name without extension (`MyLib`, `System.*`). */
#ifndef ILHEAP_NAME_PATTERN_H
#define ILHEAP_NAME_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

/* True when pattern[0 .. len) matches all of name. */
bool name_pattern_match(const char *pattern, size_t len, const char *name);

/* True when one of the comma-separated patterns in list matches name. An
 * empty list (or empty pattern) matches nothing. */
bool name_pattern_list_match(const char *list, const char *name);

#endif
