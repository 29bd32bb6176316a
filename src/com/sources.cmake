list(APPEND ILHEAP_SOURCES src/com/method_malloc.c src/com/registry.c)
