/* Assembly-name patterns (support.h). */
#include "support.h"

#include <stddef.h>
#include <string.h>

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* `*` by backtracking to the last star: at most plen * strlen(name) steps. */
bool support_name_match(const char *pattern, size_t plen, const char *name)
{
    size_t p = 0, star = (size_t)-1;
    const char *n = name, *resume = NULL;
    while (*n != 0) {
        if (p < plen && pattern[p] == '*') {
            star = p++;
            resume = n;
        } else if (p < plen && lower((unsigned char)pattern[p]) == lower((unsigned char)*n)) {
            p++;
            n++;
        } else if (star != (size_t)-1) {
            p = star + 1;
            n = ++resume;
        } else {
            return false;
        }
    }
    while (p < plen && pattern[p] == '*')
        p++;
    return p == plen;
}

bool support_name_list_match(const char *list, const char *name)
{
    while (*list != 0) {
        const char *comma = strchr(list, ',');
        size_t len = comma != NULL ? (size_t)(comma - list) : strlen(list);
        if (len != 0 && support_name_match(list, len, name))
            return true;
        if (comma == NULL)
            break;
        list = comma + 1;
    }
    return false;
}
