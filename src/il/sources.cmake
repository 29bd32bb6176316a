# The IL method-body codec and the instruction-level rewriter. to_heap.c and
# rewrite_heap.c need the heap (src/heap); they are left out of builds that do
# not have it yet.
list(APPEND ILHEAP_SOURCES src/il/decode.c src/il/encode.c src/il/check.c src/il/opcodes.c
     src/il/rewrite.c)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../heap/sources.cmake)
  list(APPEND ILHEAP_SOURCES src/il/to_heap.c src/il/rewrite_heap.c)
endif()
