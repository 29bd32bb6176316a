/* Assembly-name patterns for --include / --exclude: comma-separated, `*`
 * matches any run of characters (none included), everything else itself
 * (ASCII case-insensitive);
 * matched against the assembly's file name without extension (`MyLib`,
 * `System.*`), as the profiler's ILHEAP_INCLUDE / ILHEAP_EXCLUDE. */
#ifndef ILHEAP_TOOLS_PATTERN_H
#define ILHEAP_TOOLS_PATTERN_H

#include <stdbool.h>

/* True when one of the comma-separated patterns in `list` matches `name`
 * whole. An empty list matches nothing. */
bool tool_pattern_match(const char *list, const char *name);

#endif
