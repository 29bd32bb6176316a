# The PE / ECMA-335 metadata reader (pure: no OS calls).
set(ILHEAP_PE_SOURCES src/pe/pe.c src/pe/metadata.c src/pe/tables.c src/pe/api.c src/pe/pdb.c)
list(APPEND ILHEAP_SOURCES ${ILHEAP_PE_SOURCES})
