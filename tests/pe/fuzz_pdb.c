/* libFuzzer target for the portable PDB reader: open any bytes as a PDB and,
 * when they open, read every document and sequence point (pdb_check.h aborts
 * on a broken contract; ASan on any read past the buffer). */
#include "pdb_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t points = 0;
    pdb_check_bytes(data, size, &points);
    return 0;
}
