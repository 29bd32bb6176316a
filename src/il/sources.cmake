# The IL method-body codec and the instruction-level rewriter.
set(ILHEAP_IL_SOURCES src/il/decode.c src/il/encode.c src/il/check.c src/il/opcodes.c src/il/rewrite.c
    src/il/to_heap.c src/il/rewrite_heap.c)
list(APPEND ILHEAP_SOURCES ${ILHEAP_IL_SOURCES})
# The codec decodes untrusted bodies: implicit narrowing or sign changes are
# warnings here, as in src/pe.
set_source_files_properties(${ILHEAP_IL_SOURCES} PROPERTIES COMPILE_OPTIONS -Wconversion)
# The one instrumentation function (instrument.h), on the public rewriter API.
list(APPEND ILHEAP_SOURCES src/il/instrument.c)
set_source_files_properties(src/il/instrument.c PROPERTIES COMPILE_OPTIONS -Wconversion)
