/* Fault points (see fault.h). */
#include "os/fault.h"

#include <stdatomic.h>

static atomic_int armed;
static atomic_ulong calls;
static atomic_ulong fired;
static unsigned long fail_at;
static unsigned mask;
static ilheap_os_result_t planned_result;
static int planned_os_error;
static int fail_persistently;
static _Atomic(ilheap_fault_hook_t) hook;

void ilheap__fault_set_hook(ilheap_fault_hook_t fn)
{
    atomic_store(&hook, fn);
}

void ilheap__fault_arm(unsigned long n, unsigned site_mask, ilheap_os_result_t result,
                       int os_error, int persistent)
{
    atomic_store(&armed, 0);
    fail_at = n;
    mask = site_mask;
    planned_result = result;
    planned_os_error = os_error;
    fail_persistently = persistent;
    atomic_store(&calls, 0);
    atomic_store(&fired, 0);
    atomic_store(&armed, 1);
}

unsigned long ilheap__fault_disarm(void)
{
    atomic_store(&armed, 0);
    return atomic_load(&fired);
}

unsigned long ilheap__fault_calls(void)
{
    return atomic_load(&calls);
}

int ilheap__fault_fire(ilheap_fault_site_t site, ilheap_os_result_t *result, int *os_error)
{
    ilheap_fault_hook_t fn = atomic_load_explicit(&hook, memory_order_acquire);
    if (fn != NULL)
        fn(site);
    if (!atomic_load_explicit(&armed, memory_order_acquire) || (mask & (unsigned)site) == 0)
        return 0;
    unsigned long call = atomic_fetch_add(&calls, 1) + 1;
    if (call < fail_at || (call > fail_at && !fail_persistently))
        return 0;
    atomic_fetch_add(&fired, 1);
    *result = planned_result;
    if (os_error != NULL)
        *os_error = planned_os_error;
    return 1;
}
