/* What the PDB reader (pdb.c) shares with the readers of a PDB's other
 * records (sourcelink.c). Internal. */
#ifndef ILHEAP_PE_PDB_INTERNAL_H
#define ILHEAP_PE_PDB_INTERNAL_H

#include "ilheap/pdb.h"
#include "pe/image.h"

/* The PDB's metadata (heaps and tables); NULL for a bad handle. */
const ilheap_pe_t *ilheap__pdb_metadata(const ilheap_pdb_t *pdb);

#endif
