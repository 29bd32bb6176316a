# Counts files (include/ilheap/counts.h): the format's one owner.
set(ILHEAP_COUNTS_SOURCES src/counts/writer.c src/counts/open.c src/counts/file_read.c src/counts/jsonl_read.c
    src/counts/jsonl_write.c src/counts/snapshot.c src/counts/index.c src/counts/text.c
    src/counts/timing.c)
list(APPEND ILHEAP_SOURCES ${ILHEAP_COUNTS_SOURCES})
# The reader parses untrusted files: narrowing and sign changes are warnings.
set_source_files_properties(${ILHEAP_COUNTS_SOURCES} PROPERTIES COMPILE_OPTIONS -Wconversion)
