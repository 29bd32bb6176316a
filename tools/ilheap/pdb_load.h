/* Finding, loading and opening an assembly's portable PDB, shared
 * by `scan --lines` and `cover`: the PDB embedded in the DLL (inflated with
 * zlib: the core library never links it), or a separate .pdb next to the DLL
 * or at the CodeView path, whose id must match the CodeView entry. */
#ifndef ILHEAP_TOOLS_PDB_LOAD_H
#define ILHEAP_TOOLS_PDB_LOAD_H

#include "ilheap/pdb.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tool_pdb {
    char path[4096 + 16]; /* the .pdb, or "DLL (embedded PDB)", for messages */
    bool embedded;
    uint8_t *data; /* malloc'd */
    size_t size;
    ilheap_pdb_t *pdb;
} tool_pdb_t;

/* Loads and opens the PDB of assembly `pe` (read from `dll`) and checks its id.
 * On failure prints "ilheap CMD: FILE: reason" (naming the DLL or the PDB) and
 * returns the exit status: TOOL_EXIT_MISSING (no PDB anywhere), _MALFORMED
 * (unreadable, corrupt or of another build), _UNREADABLE or _SYSTEM; 0 with
 * *out filled. Free with tool_pdb_free (also after a failure). */
int tool_pdb_load(const char *cmd, const char *dll, const ilheap_pe_t *pe, tool_pdb_t *out);
void tool_pdb_free(tool_pdb_t *p);

#endif
