list(APPEND ILHEAP_SOURCES src/heap/heap.c src/heap/alloc.c src/heap/placement.c src/heap/gap_cache.c
  src/heap/free_ranges.c)
