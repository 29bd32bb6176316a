/* Fault points: a test can make any OS call, and any allocation of the
 * library's own memory, fail.
 *
 * Every function of the OS layer (os.h) begins with
 * ILHEAP__FAULT_POINT(site); every allocating function of memory.h passes
 * the site ILHEAP_FAULT_MEMORY. Normally that costs two loads (a hook and a
 * flag); when a test has armed a plan, the N-th call (counting every site the
 * plan covers) returns the planned result instead of calling the OS or the C
 * library, once or from then on. This is SQLite's fault-simulation pattern:
 * the test loops N = 1, 2, ... until a run completes without the fault
 * firing.
 *
 * The points stay compiled in release builds: they sit only on the OS-call
 * and record-allocation paths (already a system call or a malloc), never on
 * the block-allocation fast path, and keeping them means the tests exercise
 * the code that ships.
 */
#ifndef ILHEAP_FAULT_H
#define ILHEAP_FAULT_H

#include "os/os.h"

typedef enum ilheap_fault_site {
    ILHEAP_FAULT_RESERVE = 1u << 0,
    ILHEAP_FAULT_COMMIT = 1u << 1,
    ILHEAP_FAULT_RELEASE = 1u << 2,
    ILHEAP_FAULT_GAPS = 1u << 3, /* reading the memory map */
    ILHEAP_FAULT_ADDRESS_SPACE = 0xF, /* the four sites above */
    ILHEAP_FAULT_MEMORY = 1u << 4,  /* every allocation of memory.h (result and os_error unused) */
    ILHEAP_FAULT_FILE = 1u << 8,    /* the counts files' calls (create, extend, map, ...) */
    ILHEAP_FAULT_PROCESS = 1u << 9, /* process identity and liveness */
    ILHEAP_FAULT_ALL_SITES = 0x31F,
} ilheap_fault_site_t;

/* Arms a plan: the n-th (1-based) call to any site in site_mask returns
 * result (and sets *os_error to os_error); with persistent, every call after
 * it fails too. Counting starts now. Not thread-safe against other arm calls. */
void ilheap__fault_arm(unsigned long n, unsigned site_mask, ilheap_os_result_t result,
                       int os_error, int persistent);

/* Disarms; returns how many faults fired since the plan was armed. */
unsigned long ilheap__fault_disarm(void);

/* Calls counted (to sites in the armed mask) since the plan was armed. */
unsigned long ilheap__fault_calls(void);

/* Sets (or, with NULL, clears) a function every fault point calls first, in
 * the calling thread, whether or not a plan is armed: a test uses it to hold
 * an OS call, and so the operation around it, at a known point. */
typedef void (*ilheap_fault_hook_t)(ilheap_fault_site_t site);
void ilheap__fault_set_hook(ilheap_fault_hook_t hook);

/* Internal: nonzero when a fault fires at this call; then *result holds it. */
int ilheap__fault_fire(ilheap_fault_site_t site, ilheap_os_result_t *result, int *os_error);

#define ILHEAP__FAULT_POINT(site, os_error_out)                        \
    do {                                                               \
        ilheap_os_result_t fault_result_;                              \
        if (ilheap__fault_fire((site), &fault_result_, (os_error_out))) \
            return fault_result_;                                      \
    } while (0)

#endif /* ILHEAP_FAULT_H */
