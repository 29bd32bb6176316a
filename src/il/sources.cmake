# The IL method-body codec. to_heap.c needs the heap (src/heap); it is left out
# of builds that do not have it yet.
list(APPEND ILHEAP_SOURCES src/il/decode.c src/il/encode.c src/il/check.c)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../heap/sources.cmake)
  list(APPEND ILHEAP_SOURCES src/il/to_heap.c)
endif()
