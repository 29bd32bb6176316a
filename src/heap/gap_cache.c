/* The process-wide snapshot of free address ranges (see gap_cache.h). */
#include "heap/gap_cache.h"
#include "os/memory.h"
#include "os/os.h"
#include "status_internal.h"

#include <pthread.h>
#include <string.h>

typedef struct gap {
    uintptr_t start, end;
} gap_t;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static gap_t *gaps; /* ascending, disjoint; kept for the life of the process */
static size_t gap_count, gap_capacity;
static int snapshot_valid;

typedef struct collector {
    int out_of_memory;
} collector_t;

static int collect_gap(void *context, uintptr_t start, uintptr_t end)
{
    collector_t *collector = context;
    if (gap_count == gap_capacity) {
        size_t capacity = gap_capacity != 0 ? gap_capacity * 2 : 256;
        gap_t *grown = ilheap__mem_realloc(gaps, capacity, sizeof *grown);
        if (grown == NULL) {
            collector->out_of_memory = 1;
            return 1;
        }
        gaps = grown;
        gap_capacity = capacity;
    }
    gaps[gap_count++] = (gap_t){start, end};
    return 0;
}

/* Reads the whole map. Called with the lock held. */
static ilheap_status_t refresh(size_t granularity)
{
    uintptr_t lowest, end;
    ilheap__os_address_limits(&lowest, &end);
    gap_count = 0;
    snapshot_valid = 0;
    collector_t collector = {0};
    int os_error = 0;
    ilheap_os_result_t result = ilheap__os_visit_gaps(lowest, end, granularity, collect_gap, &collector, &os_error);
    if (result != ILHEAP_OS_OK)
        return ilheap__fail(ILHEAP_EOS_MAPS, "OS error %d", os_error);
    if (collector.out_of_memory)
        return ilheap__fail(ILHEAP_ENOMEM, "free-range snapshot of %zu entries", gap_count);
    snapshot_valid = 1;
    return ILHEAP_OK;
}

/* The first gap whose end lies above lo. */
static size_t first_gap_above(uintptr_t lo)
{
    size_t low = 0, high = gap_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (gaps[mid].end <= lo)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}

static void choose_in_snapshot(uintptr_t lo, uintptr_t hi, size_t want, size_t need, size_t granularity,
                               ilheap_gap_choice_t *choice)
{
    choice->size = 0;
    for (size_t i = first_gap_above(lo); i < gap_count && gaps[i].start < hi; i++) {
        uintptr_t start = gaps[i].start > lo ? gaps[i].start : lo;
        uintptr_t end = gaps[i].end < hi ? gaps[i].end : hi;
        start = (start + granularity - 1) & ~(uintptr_t)(granularity - 1);
        end &= ~(uintptr_t)(granularity - 1);
        if (start >= end)
            continue;
        size_t length = end - start;
        if (length >= want) {
            choice->start = start;
            choice->size = want;
            return;
        }
        if (length >= need && choice->size == 0) {
            choice->start = start;
            choice->size = length;
        }
    }
}

ilheap_status_t ilheap__gaps_choose(uintptr_t lo, uintptr_t hi, size_t want, size_t need, size_t granularity,
                                    int may_read, ilheap_gap_choice_t *choice)
{
    ilheap_status_t status = ILHEAP_OK;
    pthread_mutex_lock(&cache_lock);
    choice->fresh = 0;
    choice->size = 0;
    if (!snapshot_valid && may_read) {
        status = refresh(granularity);
        choice->fresh = 1;
    }
    if (status == ILHEAP_OK && snapshot_valid) {
        choose_in_snapshot(lo, hi, want, need, granularity, choice);
        if (choice->size == 0 && !choice->fresh && may_read) {
            /* The snapshot may miss ranges freed since: read again before
             * answering that nothing fits. */
            status = refresh(granularity);
            choice->fresh = 1;
            if (status == ILHEAP_OK)
                choose_in_snapshot(lo, hi, want, need, granularity, choice);
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return status;
}

void ilheap__gaps_taken(uintptr_t start, size_t size)
{
    uintptr_t end = start + size;
    pthread_mutex_lock(&cache_lock);
    if (snapshot_valid) {
        size_t i = first_gap_above(start);
        if (i < gap_count && gaps[i].start <= start && end <= gaps[i].end) {
            gap_t gap = gaps[i];
            if (gap.start < start && end < gap.end) {
                if (gap_count == gap_capacity) { /* split: one more entry */
                    snapshot_valid = 0;
                } else {
                    memmove(&gaps[i + 2], &gaps[i + 1], (gap_count - i - 1) * sizeof *gaps);
                    gaps[i] = (gap_t){gap.start, start};
                    gaps[i + 1] = (gap_t){end, gap.end};
                    gap_count++;
                }
            } else if (gap.start < start) {
                gaps[i].end = start;
            } else if (end < gap.end) {
                gaps[i].start = end;
            } else {
                memmove(&gaps[i], &gaps[i + 1], (gap_count - i - 1) * sizeof *gaps);
                gap_count--;
            }
        } else if (i < gap_count && gaps[i].start < end) {
            snapshot_valid = 0; /* overlaps a cached gap only in part: re-read */
        }
        /* else: the range was not free in the snapshot (a probe succeeded
         * where someone had unmapped since): nothing to remove. */
    }
    pthread_mutex_unlock(&cache_lock);
}

void ilheap__gaps_released(uintptr_t start, size_t size)
{
    uintptr_t end = start + size;
    pthread_mutex_lock(&cache_lock);
    if (snapshot_valid) {
        size_t i = first_gap_above(start); /* the first gap ending above start */
        int joins_before = i > 0 && gaps[i - 1].end == start;
        int joins_after = i < gap_count && gaps[i].start == end;
        if (i < gap_count && gaps[i].start < end) {
            snapshot_valid = 0; /* overlaps a range the snapshot calls free: confused, re-read */
        } else if (joins_before && joins_after) {
            gaps[i - 1].end = gaps[i].end;
            memmove(&gaps[i], &gaps[i + 1], (gap_count - i - 1) * sizeof *gaps);
            gap_count--;
        } else if (joins_before) {
            gaps[i - 1].end = end;
        } else if (joins_after) {
            gaps[i].start = start;
        } else if (gap_count == gap_capacity) {
            snapshot_valid = 0; /* no room for one more entry: re-read when needed */
        } else {
            memmove(&gaps[i + 1], &gaps[i], (gap_count - i) * sizeof *gaps);
            gaps[i] = (gap_t){start, end};
            gap_count++;
        }
    }
    pthread_mutex_unlock(&cache_lock);
}

void ilheap__gaps_invalidate(void)
{
    pthread_mutex_lock(&cache_lock);
    snapshot_valid = 0;
    pthread_mutex_unlock(&cache_lock);
}

void ilheap__gaps_free(void)
{
    pthread_mutex_lock(&cache_lock);
    ilheap__mem_free(gaps);
    gaps = NULL;
    gap_count = gap_capacity = 0;
    snapshot_valid = 0;
    pthread_mutex_unlock(&cache_lock);
}
