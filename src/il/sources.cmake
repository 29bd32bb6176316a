# The IL method-body codec and the instruction-level rewriter.
# ILHEAP_IL_CORE_SOURCES: everything but the two files that need the heap,
# with absolute paths, for targets that compile the codec and rewriter in
# (the fuzz targets; with ILHEAP_IL_CORE_DEPS).
set(ILHEAP_IL_CORE_SOURCES)
foreach(f decode.c encode.c check.c opcodes.c rewrite.c rewrite_load.c rewrite_edit.c
          rewrite_stack.c rewrite_encode.c rewrite_probe.c rewrite_locals.c rewrite_eh.c
          rewrite_wrap.c rewrite_exit.c rewrite_map.c rewrite_args.c)
  list(APPEND ILHEAP_IL_CORE_SOURCES ${CMAKE_CURRENT_LIST_DIR}/${f})
endforeach()
# What they use below them: the signature codec (src/pe/sig*.c) and the
# library's memory functions with their fault point (src/os).
set(ILHEAP_IL_CORE_DEPS ${CMAKE_CURRENT_LIST_DIR}/../os/memory.c ${CMAKE_CURRENT_LIST_DIR}/../os/fault.c)
if(WIN32)
  list(APPEND ILHEAP_IL_CORE_DEPS ${CMAKE_CURRENT_LIST_DIR}/../os/windows.c)
else()
  list(APPEND ILHEAP_IL_CORE_DEPS ${CMAKE_CURRENT_LIST_DIR}/../os/linux.c)
endif()
foreach(f sig.c sig_decode.c sig_encode.c)
  list(APPEND ILHEAP_IL_CORE_DEPS ${CMAKE_CURRENT_LIST_DIR}/../pe/${f})
endforeach()
set(ILHEAP_IL_SOURCES ${ILHEAP_IL_CORE_SOURCES} ${CMAKE_CURRENT_LIST_DIR}/to_heap.c
    ${CMAKE_CURRENT_LIST_DIR}/rewrite_heap.c)
list(APPEND ILHEAP_SOURCES ${ILHEAP_IL_SOURCES})
# The codec decodes untrusted bodies: implicit narrowing or sign changes are
# warnings here, as in src/pe.
set_source_files_properties(${ILHEAP_IL_SOURCES} PROPERTIES COMPILE_OPTIONS -Wconversion)
# The one instrumentation function (instrument.h), on the public rewriter API.
list(APPEND ILHEAP_SOURCES src/il/instrument.c src/il/instrument_edges.c)
set_source_files_properties(src/il/instrument.c src/il/instrument_edges.c PROPERTIES COMPILE_OPTIONS -Wconversion)
