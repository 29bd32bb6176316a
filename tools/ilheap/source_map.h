/* Document paths of a deterministic build mapped back to this machine's
 * files: with ContinuousIntegrationBuild=true a PDB names "/_/src/App/A.cs".
 * The prefix comes from the PDB's Source Link (its prefix keys, "/_/" and a star), or is
 * the compiler's "/_/", "/_1/", ...; the root it stands for is found as the
 * first of: the source roots given (--source-root, ILHEAP_SOURCE_ROOT), the
 * assembly's directory and its parents, the working directory and its
 * parents, NuGet's package folder ($NUGET_PACKAGES, ~/.nuget/packages), where
 * the rest of the path is an existing file. */
#ifndef ILHEAP_TOOLS_SOURCE_MAP_H
#define ILHEAP_TOOLS_SOURCE_MAP_H

#include "ilheap/pdb.h"

#include <stdbool.h>
#include <stddef.h>

#define SOURCE_MAP_PREFIXES 16

typedef struct source_map {
    ilheap_source_link_t *link; /* NULL: none in the PDB (or unreadable, said) */
    char dll_dir[4096];
    size_t count;
    struct {
        char prefix[256];
        char root[4096]; /* with a trailing '/'; "" when none was found */
    } roots[SOURCE_MAP_PREFIXES];
} source_map_t;

/* Extra roots to try first: a list separated by ':' (';' on Windows), or
 * NULL for ILHEAP_SOURCE_ROOT's. The string must outlive the maps. */
void source_map_set_roots(const char *list);

/* Prepares the map of the assembly `dll` with its open PDB (may be NULL).
 * A Source Link that does not read is said on stderr ("ilheap CMD: ...") and
 * the compiler's prefixes are used alone. */
void source_map_open(source_map_t *m, const char *cmd, const char *dll, const ilheap_pdb_t *pdb);

/* Rewrites path[0..size) in place to the file it stands for, when it does
 * not exist as named and a root is found for its prefix; true when changed. */
bool source_map_apply(source_map_t *m, char *path, size_t size);

void source_map_close(source_map_t *m);

/* Paths of another machine mapped to this one's: a Windows path in counts
 * written under Wine or on Windows (Z:\dir\App.dll), the directory a PDB was
 * built in. A map is FROM=TO: a path that starts with FROM (a whole path
 * component; '\' and '/' alike, and without regard to case when FROM is a
 * Windows path) becomes TO and the rest. Given maps come first
 * (--path-map, then ILHEAP_PATH_MAP: maps separated by ';'); then, off
 * Windows, Wine's drives: X: is what ${WINEPREFIX:-~/.wine}/dosdevices/x:
 * points to, and Z: the root when there is no prefix (Wine's default). */

/* Adds the map "FROM=TO" (the string must outlive the maps); false when it is
 * not one (said on stderr as "ilheap CMD: ..."). */
bool source_map_add_path_map(const char *cmd, const char *spec);

/* Rewrites path[0..size) in place to the file it stands for on this machine,
 * when it does not exist as named and a map turns it into one that does;
 * true when changed. A Windows path that stays unmapped off Windows is said
 * once ("ilheap CMD: ..."), with the option that maps it. */
bool source_map_path(const char *cmd, char *path, size_t size);

#endif
