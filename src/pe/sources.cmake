# The PE / ECMA-335 metadata reader (pure: no OS calls).
set(ILHEAP_PE_SOURCES src/pe/pe.c src/pe/metadata.c src/pe/tables.c src/pe/api.c src/pe/pdb.c
    src/pe/sig.c src/pe/sig_decode.c src/pe/sig_encode.c src/pe/sig_rows.c src/pe/sig_text.c src/pe/sourcelink.c
    src/pe/attributes.c)
list(APPEND ILHEAP_SOURCES ${ILHEAP_PE_SOURCES})
# The reader parses untrusted files: implicit narrowing or sign changes are
# warnings here (-Wconversion; in C it includes -Wsign-conversion).
set_source_files_properties(${ILHEAP_PE_SOURCES} PROPERTIES COMPILE_OPTIONS -Wconversion)
